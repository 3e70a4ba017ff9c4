// Threshold: each record's multiplicity m becomes f(record, m).
//
//   auto at_least_two = Threshold(x, [](const int&, int64_t m) { return m >= 2
//   ? 1 : 0; });
//
// Threshold picks the `_total` fast path when time is totally ordered and
// the general (interesting times) reduce otherwise; both are exposed.
#pragma once

#include <type_traits>
#include <utility>

#include "operators/arrange.h"
#include "operators/internal/reduce_total.h"
#include "operators/reduce.h"

namespace diffmesh {

template <class K, class T, class R, class F>
auto ThresholdTotal(const Collection<K, T, R>& input, F f) {
  using R2 = std::decay_t<std::invoke_result_t<F&, const K&, const R&>>;
  return internal::ReduceTotal<K, R2>(
      ArrangeBySelf(input), "threshold_total",
      [f = std::move(f)](const K& key, const R& before, const R& after,
                         const T& time, auto* output) mutable {
        R2 old_value = IsZero(before) ? R2{} : f(key, before);
        R2 new_value = IsZero(after) ? R2{} : f(key, after);
        R2 change = new_value;
        change += -old_value;
        if (!IsZero(change)) output->push_back({key, time, change});
      });
}

template <class K, class T, class R, class F>
auto ThresholdGeneral(const Collection<K, T, R>& input, F f) {
  using R2 = std::decay_t<std::invoke_result_t<F&, const K&, const R&>>;
  auto reduced = ReduceCore<Unit, R2>(
      ArrangeBySelf(input),
      [f = std::move(f)](const K& key, const auto& acc, auto* output) mutable {
        R2 value = f(key, acc.front().second);
        if (!IsZero(value)) output->emplace_back(Unit{}, value);
      },
      "threshold");
  return AsCollection(reduced);
}

template <class K, class T, class R, class F>
auto Threshold(const Collection<K, T, R>& input, F f) {
  if constexpr (TotallyOrdered<T>) {
    return ThresholdTotal(input, std::move(f));
  } else {
    return ThresholdGeneral(input, std::move(f));
  }
}

}  // namespace diffmesh
