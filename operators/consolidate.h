// Consolidate: one update per (record, time), zero diffs removed, emitted
// once the time is complete.
//
//   Collection<int> tidy = Consolidate(numbers);
#pragma once

#include "operators/arrange.h"

namespace diffmesh {

template <class D, class T, class R>
Collection<D, T, R> Consolidate(const Collection<D, T, R>& input) {
  return AsCollection(ArrangeBySelf(input));
}

}  // namespace diffmesh
