// Combine: sums the updates of each message that have the same record and
// time, and drops those that sum to zero, as they pass (it does not wait
// for times to complete). A cheap step before an arrangement when records
// repeat, e.g. the keys of a count: the arrangement's batcher then sorts
// the distinct (record, time) pairs of a message instead of every update.
//
//   auto keys = Combine(Map(rows, [](const Row& r) { return Project(r); }));
//
// The output is the input's collection (the same multiset at every time);
// only the number of updates it takes to say so changes. Records and times
// must be hashable with absl::Hash.
#pragma once

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "operators/internal/unary.h"

namespace diffmesh {

template <class D, class T, class R>
Collection<D, T, R> Combine(const Collection<D, T, R>& input) {
  return internal::Unary<D, R>(input, "combine", [](auto&& in, auto* out) {
    absl::flat_hash_map<std::pair<D, T>, R> sums;
    sums.reserve(in.size());
    for (auto& u : in) {
      auto [it, fresh] = sums.try_emplace({std::move(u.data), u.time}, u.diff);
      if (!fresh) AddDiff(it->second, u.diff);
    }
    out->reserve(sums.size());
    for (auto& [key, diff] : sums) {
      if (diff != R{}) out->push_back({std::move(key.first), key.second, diff});
    }
  });
}

}  // namespace diffmesh
