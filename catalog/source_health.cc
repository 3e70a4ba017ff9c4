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
  std::vector<std::pair<uint64_t, SourceStatus>>& polls = polls_[id];
  SourceStatus s;
  if (polls.empty()) {
    s.id = id;
  } else {
    s = polls.back().second;
  }
  Change change;
  if (!status.ok()) ++s.failed_polls;
  if (!(s.status == status)) {
    change.changed = true;
    change.before = s;
    s.status = status;
    s.since = time;
    if (status.ok()) s.failed_polls = 0;
    change.after = s;
  }
  if (!polls.empty() && polls.back().first == time) {
    polls.back().second = std::move(s);  // polled again at the same time
  } else {
    polls.emplace_back(time, std::move(s));
    if (polls.size() > kKeptPolls) polls.erase(polls.begin());
  }
  return change;
}

const SourceStatus* SourceHealth::Find(const std::string& id,
                                       uint64_t time) const {
  auto it = polls_.find(id);
  if (it == polls_.end()) return nullptr;
  const SourceStatus* found = nullptr;
  for (const auto& [at, s] : it->second) {
    if (at <= time) found = &s;
  }
  // Older than the polls kept: the oldest kept is the best known.
  if (found == nullptr) found = &it->second.front().second;
  return found;
}

}  // namespace diffmesh
