// Negate: flips the sign of every diff, so Concat(Negate(x), x) is empty.
//
//   Collection<int> minus = Negate(numbers);
#pragma once

#include "operators/internal/unary.h"

namespace diffmesh {

template <class D, class T, class R>
Collection<D, T, R> Negate(const Collection<D, T, R>& input) {
  return internal::Unary<D, R>(input, "negate", [](auto&& in, auto* out) {
    for (auto& u : in) u.diff = -u.diff;
    *out = std::move(in);
  });
}

}  // namespace diffmesh
