#include "catalog/quarantine.h"

#include "absl/strings/str_cat.h"

namespace diffmesh {

std::string Quarantined::ToString() const {
  return absl::StrCat(file, ":", line, ": ", reason);
}

}  // namespace diffmesh
