// Timestamps as lattices: the partial order every operator is written against.
//
//   static_assert(Lattice<Product<uint64_t, uint64_t>>);
//   LessEqual(Product<uint64_t, uint64_t>{1, 2}, {1, 3});   // true
//   Join(Product<uint64_t, uint64_t>{1, 2}, {2, 1});        // {2, 2}
//
// Two kinds ship: `uint64_t` (a total order: epochs) and `Product<Outer,
// Inner>` (the product partial order, used by nested scopes; the inner
// coordinate counts loop iterations). A new kind specializes LatticeTraits.
//
// Invariants: `operator<` on a time is a *linear extension* of the lattice
// order (if LessEqual(a, b) then !(b < a)), so sorting by `<` visits every time
// after all times below it. That is what lets reduce walk interesting times in
// one pass.
#pragma once

#include <algorithm>
#include <compare>
#include <concepts>
#include <cstdint>

namespace diffmesh {

template <class T>
struct LatticeTraits;

template <>
struct LatticeTraits<uint64_t> {
  static constexpr bool kTotal = true;
  static bool LessEqual(uint64_t a, uint64_t b) { return a <= b; }
  static uint64_t Join(uint64_t a, uint64_t b) { return std::max(a, b); }
  static uint64_t Meet(uint64_t a, uint64_t b) { return std::min(a, b); }
  static uint64_t Minimum() { return 0; }
};

// The product order: (a, b) <= (c, d) iff a <= c and b <= d. Compared with
// `<` lexicographically, which is a linear extension of the product order.
template <class Outer, class Inner>
struct Product {
  Outer outer{};
  Inner inner{};

  friend auto operator<=>(const Product&, const Product&) = default;
  friend bool operator==(const Product&, const Product&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const Product& p) {
    return H::combine(std::move(h), p.outer, p.inner);
  }
};

template <class Outer, class Inner>
struct LatticeTraits<Product<Outer, Inner>> {
  using P = Product<Outer, Inner>;
  static constexpr bool kTotal = false;
  static bool LessEqual(const P& a, const P& b) {
    return LatticeTraits<Outer>::LessEqual(a.outer, b.outer) &&
           LatticeTraits<Inner>::LessEqual(a.inner, b.inner);
  }
  static P Join(const P& a, const P& b) {
    return {LatticeTraits<Outer>::Join(a.outer, b.outer),
            LatticeTraits<Inner>::Join(a.inner, b.inner)};
  }
  static P Meet(const P& a, const P& b) {
    return {LatticeTraits<Outer>::Meet(a.outer, b.outer),
            LatticeTraits<Inner>::Meet(a.inner, b.inner)};
  }
  static P Minimum() {
    return {LatticeTraits<Outer>::Minimum(), LatticeTraits<Inner>::Minimum()};
  }
};

template <class T>
concept Lattice = std::totally_ordered<T> && requires(const T& a, const T& b) {
  { LatticeTraits<T>::LessEqual(a, b) } -> std::same_as<bool>;
  { LatticeTraits<T>::Join(a, b) } -> std::same_as<T>;
  { LatticeTraits<T>::Meet(a, b) } -> std::same_as<T>;
};

// A lattice whose order is total: `_total` operator paths apply.
template <class T>
concept TotallyOrdered = Lattice<T> && LatticeTraits<T>::kTotal;

template <Lattice T>
bool LessEqual(const T& a, const T& b) {
  return LatticeTraits<T>::LessEqual(a, b);
}
template <Lattice T>
bool LessThan(const T& a, const T& b) {
  return a != b && LatticeTraits<T>::LessEqual(a, b);
}
template <Lattice T>
T Join(const T& a, const T& b) {
  return LatticeTraits<T>::Join(a, b);
}
template <Lattice T>
T Meet(const T& a, const T& b) {
  return LatticeTraits<T>::Meet(a, b);
}
template <Lattice T>
T Minimum() {
  return LatticeTraits<T>::Minimum();
}

}  // namespace diffmesh
