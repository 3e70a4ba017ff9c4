// Quarantined: a source record that could not be used, kept with where it
// was and why, so a bad record is reported instead of stopping a load or
// vanishing from it.
//
//   Quarantined bad{"orders.csv", 7, "field 'qty' expects int64, got 'x'"};
//   std::string text = bad.ToString();
//   // "orders.csv:7: field 'qty' expects int64, got 'x'"
//
// Every source reader (catalog/csv.h, catalog/json.h) reports its bad
// records this way, so callers handle them alike whatever the format.
// Thread-safety: functions of their arguments only, from any thread; the
// structs are value types.
#pragma once

#include <string>

namespace diffmesh {

struct Quarantined {
  std::string file;
  int line = 0;  // where the record starts, 1-based
  std::string reason;
  // "file:line: reason".
  std::string ToString() const;
};

}  // namespace diffmesh
