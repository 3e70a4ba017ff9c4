// Differences: the `diff` of an update is an element of an abelian group.
//
//   static_assert(Abelian<int64_t>);
//   IsZero(int64_t{0});   // true: the update vanishes on consolidation
//
// A type opts in by supporting `+=`, unary `-`, `*` with itself (for join) and
// value-initialization to zero.
//
// Overflow. Operators sum and multiply diffs with AddDiff and MultiplyDiff.
// For built-in signed integers (int64_t, the usual diff) they are checked:
// an overflow, which C++ leaves undefined, yields the wrapped value and
// raises this thread's overflow flag; the worker running the operator takes
// it after each step (Worker::TakeDiffOverflow) and the program reports it
// (Mesh::Advance: OutOfRange). Other types use their own + and *.
#pragma once

#include <concepts>
#include <cstdint>
#include <type_traits>

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

namespace internal {
// Raised by a checked diff operation that overflowed on this thread.
inline thread_local bool diff_overflow = false;
}  // namespace internal

template <class R>
inline void AddDiff(R& into, const R& more) {
  if constexpr (std::is_integral_v<R> && std::is_signed_v<R>) {
    if (__builtin_add_overflow(into, more, &into)) {
      internal::diff_overflow = true;
    }
  } else {
    into += more;
  }
}

template <class R>
inline R MultiplyDiff(const R& a, const R& b) {
  if constexpr (std::is_integral_v<R> && std::is_signed_v<R>) {
    R out;
    if (__builtin_mul_overflow(a, b, &out)) internal::diff_overflow = true;
    return out;
  } else {
    return a * b;
  }
}

// Whether a checked diff operation overflowed on this thread since the last
// call; clears the flag.
inline bool TakeThreadDiffOverflow() {
  const bool was = internal::diff_overflow;
  internal::diff_overflow = false;
  return was;
}

}  // namespace diffmesh
