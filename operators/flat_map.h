// FlatMap: replaces every record by the records of a range.
//
//   auto digits = FlatMap(numbers, [](int x) { return std::vector{x / 10, x %
//   10}; });
#pragma once

#include <type_traits>
#include <utility>

#include "operators/internal/unary.h"

namespace diffmesh {

template <class D, class T, class R, class F>
auto FlatMap(const Collection<D, T, R>& input, F f) {
  using Range = std::decay_t<std::invoke_result_t<F&, const D&>>;
  using DOut = std::decay_t<decltype(*std::begin(std::declval<Range&>()))>;
  return internal::Unary<DOut, R>(
      input, "flat_map", [f = std::move(f)](auto&& in, auto* out) mutable {
        for (auto& u : in) {
          for (auto&& d : f(u.data))
            out->push_back({std::move(d), u.time, u.diff});
        }
      });
}

}  // namespace diffmesh
