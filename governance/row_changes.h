// The updates that turn one set of rows into another at a time: what an
// operator that recomputes a small answer (a column's metrics, a
// contract's verdicts) emits when its inputs change.
// Thread-safety: a pure function.
#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <utility>
#include <vector>

#include "catalog/row.h"
#include "engine/update.h"

namespace diffmesh {

// Appends (row, time, -1) for every row of `was` not in `now` and
// (row, time, +1) for every row of `now` not in `was` (as multisets).
inline void AppendRowChanges(std::vector<Row> was, std::vector<Row> now,
                             uint64_t time,
                             std::vector<Update<Row, uint64_t, int64_t>>* out) {
  std::sort(was.begin(), was.end());
  std::sort(now.begin(), now.end());
  std::vector<Row> gone, came;
  std::set_difference(was.begin(), was.end(), now.begin(), now.end(),
                      std::back_inserter(gone));
  std::set_difference(now.begin(), now.end(), was.begin(), was.end(),
                      std::back_inserter(came));
  for (Row& r : gone) out->push_back({std::move(r), time, -1});
  for (Row& r : came) out->push_back({std::move(r), time, +1});
}

}  // namespace diffmesh
