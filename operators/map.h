// Map: applies a function to every record.
//
//   Collection<int> doubled = Map(numbers, [](int x) { return 2 * x; });
#pragma once

#include <type_traits>
#include <utility>

#include "operators/internal/unary.h"

namespace diffmesh {

template <class D, class T, class R, class F>
auto Map(const Collection<D, T, R>& input, F f) {
  using DOut = std::decay_t<std::invoke_result_t<F&, const D&>>;
  return internal::Unary<DOut, R>(
      input, "map", [f = std::move(f)](auto&& in, auto* out) mutable {
        out->reserve(in.size());
        for (auto& u : in) out->push_back({f(u.data), u.time, u.diff});
      });
}

}  // namespace diffmesh
