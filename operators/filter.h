// Filter: keeps the records a predicate accepts.
//
//   Collection<int> even = Filter(numbers, [](int x) { return x % 2 == 0; });
#pragma once

#include <utility>

#include "operators/internal/unary.h"

namespace diffmesh {

template <class D, class T, class R, class F>
Collection<D, T, R> Filter(const Collection<D, T, R>& input, F predicate) {
  return internal::Unary<D, R>(
      input, "filter",
      [p = std::move(predicate)](auto&& in, auto* out) mutable {
        for (auto& u : in) {
          if (p(u.data)) out->push_back(std::move(u));
        }
      });
}

}  // namespace diffmesh
