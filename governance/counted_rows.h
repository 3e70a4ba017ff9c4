// CountedRows: a few rows recomputed from named counts whenever they
// change -- the shape of a contract's verdicts and of a product's
// reference checks, where a count of zero must still give a row.
//
//   auto counts = CountTotal(keys);   // (Row{int64 name}, count)
//   RowCollection rows = CountedRows(counts, "checks.verdicts",
//       [](uint64_t t, const CountsByName& counts) { ... rows ... });
//
// The counts meet on worker 0, which emits `rows_of(time, counts)` at the
// start (the dataflow's Graph::start_time(); every count 0, before any
// arrives: so a row exists while the input is empty) and again at every
// time some count changes, as the difference from what it emitted last. A name
// missing from the map has count 0. Other workers emit nothing. `rows_of` may
// keep state across calls (it is called once per time, in time order).
// Thread-safety: like the engine's operators (the dataflow's worker thread).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "catalog/row.h"
#include "catalog/table.h"
#include "engine/collection.h"

namespace diffmesh {

using CountsByName = std::map<int64_t, int64_t>;
using RowsOfCounts =
    std::function<std::vector<Row>(uint64_t time, const CountsByName& counts)>;

// `counts`: (Row holding one int64 name, count) as CountTotal gives them.
RowCollection CountedRows(const Collection<std::pair<Row, int64_t>>& counts,
                          std::string name, RowsOfCounts rows_of);

}  // namespace diffmesh
