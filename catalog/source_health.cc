#include "catalog/source_health.h"

#include "absl/strings/str_cat.h"

namespace diffmesh {

std::string SourceStatus::Describe() const {
  if (status.ok()) return "ok";
  return absl::StrCat("failing: ", absl::StatusCodeToString(status.code()),
                      ": ", status.message());
}

bool ApplyPoll(SourceStatus* s, const absl::Status& status, uint64_t time) {
  if (!status.ok()) ++s->failed_polls;
  if (s->status == status) return false;
  s->status = status;
  s->since = time;
  if (status.ok()) s->failed_polls = 0;
  return true;
}

}  // namespace diffmesh
