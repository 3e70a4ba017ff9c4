// Differences: the `diff` of an update is an element of an abelian group.
//
//   static_assert(Abelian<int64_t>);
//   IsZero(int64_t{0});   // true: the update vanishes on consolidation
//
// A type opts in by supporting `+=`, unary `-`, `*` with itself (for join) and
// value-initialization to zero.
#pragma once

#include <concepts>
#include <cstdint>

namespace diffmesh {

template <class R>
concept Semigroup = std::regular<R> && requires(R a, const R& b) {
  { a += b } -> std::same_as<R&>;
};

template <class R>
concept Abelian = Semigroup<R> && requires(const R& a) {
  { -a } -> std::convertible_to<R>;
};

template <Semigroup R>
bool IsZero(const R& r) {
  return r == R{};
}

}  // namespace diffmesh
