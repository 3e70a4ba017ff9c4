// Count: (record, multiplicity) for every record with a non-zero count.
//
//   Collection<std::pair<int, int64_t>> counts = Count(numbers);
//
// Count picks the `_total` fast path when time is totally ordered; both
// paths are exposed.
#pragma once

#include <utility>

#include "operators/arrange.h"
#include "operators/internal/reduce_total.h"
#include "operators/reduce.h"

namespace diffmesh {

template <class K, class T, class R>
Collection<std::pair<K, R>, T, R> CountTotal(const Collection<K, T, R>& input) {
  return internal::ReduceTotal<std::pair<K, R>, R>(
      ArrangeBySelf(input), "count_total",
      [](const K& key, const R& before, const R& after, const T& time,
         auto* output) {
        if (before == after) return;
        if (!IsZero(before)) output->push_back({{key, before}, time, R{-1}});
        if (!IsZero(after)) output->push_back({{key, after}, time, R{1}});
      });
}

template <class K, class T, class R>
Collection<std::pair<K, R>, T, R> CountGeneral(
    const Collection<K, T, R>& input) {
  auto reduced = ReduceCore<R, R>(
      ArrangeBySelf(input),
      [](const K&, const auto& acc, auto* output) {
        output->emplace_back(acc.front().second, R{1});
      },
      "count");
  return AsCollection(reduced);
}

template <class K, class T, class R>
Collection<std::pair<K, R>, T, R> Count(const Collection<K, T, R>& input) {
  if constexpr (TotallyOrdered<T>) {
    return CountTotal(input);
  } else {
    return CountGeneral(input);
  }
}

}  // namespace diffmesh
