// Distinct: every record with positive multiplicity, once.
//
//   Collection<int> unique = Distinct(numbers);
#pragma once

#include "operators/threshold.h"

namespace diffmesh {

template <class K, class T, class R>
Collection<K, T, R> Distinct(const Collection<K, T, R>& input) {
  return Threshold(input,
                   [](const K&, const R& m) { return m > R{} ? R{1} : R{}; });
}

template <class K, class T, class R>
Collection<K, T, R> DistinctTotal(const Collection<K, T, R>& input) {
  return ThresholdTotal(
      input, [](const K&, const R& m) { return m > R{} ? R{1} : R{}; });
}

template <class K, class T, class R>
Collection<K, T, R> DistinctGeneral(const Collection<K, T, R>& input) {
  return ThresholdGeneral(
      input, [](const K&, const R& m) { return m > R{} ? R{1} : R{}; });
}

}  // namespace diffmesh
