// Semijoin: the records of `data` whose key is in `keys`, each multiplied by
// the key's multiplicity (use a distinct key set for plain filtering).
//
//   auto active_orders = Semijoin(orders_by_customer, active_customers);
#pragma once

#include <utility>

#include "operators/join.h"

namespace diffmesh {

template <class K, class V, class T, class R>
Collection<std::pair<K, V>, T, R> Semijoin(
    const Collection<std::pair<K, V>, T, R>& data,
    const Collection<K, T, R>& keys) {
  return JoinCore(
      ArrangeByKey(data), ArrangeBySelf(keys),
      [](const K& k, const V& v, const Unit&) { return std::pair<K, V>(k, v); },
      "semijoin");
}

}  // namespace diffmesh
