#include "catalog/source_health.h"

#include "absl/strings/str_cat.h"

namespace diffmesh {

std::string SourceStatus::Describe() const {
  if (status.ok()) return "ok";
  return absl::StrCat("failing: ", absl::StatusCodeToString(status.code()),
                      ": ", status.message());
}

SourceHealth::Change SourceHealth::Record(const std::string& id,
                                          const absl::Status& status,
                                          uint64_t time) {
  auto [it, added] = statuses_.try_emplace(id);
  SourceStatus& s = it->second;
  if (added) {
    s.id = id;
    s.since = time;
  }
  Change change;
  if (!status.ok()) ++s.failed_polls;
  if (s.status == status) return change;
  change.changed = true;
  change.before = s.Describe();
  s.status = status;
  s.since = time;
  if (status.ok()) s.failed_polls = 0;
  change.after = s.Describe();
  return change;
}

const SourceStatus* SourceHealth::Find(const std::string& id) const {
  auto it = statuses_.find(id);
  return it == statuses_.end() ? nullptr : &it->second;
}

std::vector<SourceStatus> SourceHealth::All() const {
  std::vector<SourceStatus> all;
  all.reserve(statuses_.size());
  for (const auto& [id, s] : statuses_) all.push_back(s);
  return all;
}

size_t SourceHealth::failing() const {
  size_t n = 0;
  for (const auto& [id, s] : statuses_) n += !s.status.ok();
  return n;
}

}  // namespace diffmesh
