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
  auto [it, added] = now_.try_emplace(id);
  SourceStatus& s = it->second;
  if (added) s.id = id;
  Change change;
  if (!status.ok()) ++s.failed_polls;
  if (!(s.status == status)) {
    change.changed = true;
    change.before = s;
    s.status = status;
    s.since = time;
    if (status.ok()) s.failed_polls = 0;
  }
  change.after = s;
  return change;
}

}  // namespace diffmesh
