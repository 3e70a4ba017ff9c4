// One update of a log: (fields, time, diff) with unsigned 32-bit fields.
//
//   LogUpdate u{/*time=*/3, /*diff=*/-1, /*fields=*/{1, 2}};
// Thread-safety: a value type; the functions read only their arguments.
#pragma once

#include <cstdint>
#include <vector>

namespace diffmesh {

struct LogUpdate {
  uint64_t time = 0;
  int64_t diff = 0;
  std::vector<uint32_t> fields;

  friend bool operator==(const LogUpdate&, const LogUpdate&) = default;
};

}  // namespace diffmesh
