// Inspect: calls a function on every update `(data, time, diff)` passing
// through, unchanged; InspectBatch once per batch of them (e.g. to take a
// lock once per batch rather than once per update).
//
//   Inspect(counts, [](const auto& d, uint64_t t, int64_t r) { ... });
//   InspectBatch(counts, [](const std::vector<Update<D, T, R>>& batch) { ...
//   });
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

template <class D, class T, class R, class F>
Collection<D, T, R> InspectBatch(const Collection<D, T, R>& input, F f) {
  return internal::Unary<D, R>(
      input, "inspect", [f = std::move(f)](auto&& in, auto* out) mutable {
        f(static_cast<const std::vector<Update<D, T, R>>&>(in));
        *out = std::move(in);
      });
}

}  // namespace diffmesh
