// Antijoin: the records of `data` whose key is *not* in `keys`.
// REQUIRES: `keys` is distinct (multiplicity 0 or 1), e.g. from Distinct.
//
//   auto orphans = Antijoin(orders_by_customer, Distinct(known_customers));
#pragma once

#include <utility>

#include "operators/concat.h"
#include "operators/negate.h"
#include "operators/semijoin.h"

namespace diffmesh {

template <class K, class V, class T, class R>
Collection<std::pair<K, V>, T, R> Antijoin(
    const Collection<std::pair<K, V>, T, R>& data,
    const Collection<K, T, R>& keys) {
  return Concat(data, Negate(Semijoin(data, keys)));
}

}  // namespace diffmesh
