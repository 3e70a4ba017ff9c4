// Inspect: calls a function on every update `(data, time, diff)` passing
// through, unchanged.
//
//   Inspect(counts, [](const auto& d, uint64_t t, int64_t r) { ... });
#pragma once

#include <utility>

#include "operators/internal/unary.h"

namespace diffmesh {

template <class D, class T, class R, class F>
Collection<D, T, R> Inspect(const Collection<D, T, R>& input, F f) {
  return internal::Unary<D, R>(
      input, "inspect", [f = std::move(f)](auto&& in, auto* out) mutable {
        for (const auto& u : in) f(u.data, u.time, u.diff);
        *out = std::move(in);
      });
}

}  // namespace diffmesh
