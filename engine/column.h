// Column<X>: a batch's column of keys or of values, appended in order and
// then read by index.
//
//   Column<Row> keys;            // a type that packs into bytes: one arena
//   keys.push_back(row);         // copies row's bytes, no allocation per row
//   Row view = keys[0];          // a view into the arena, no copy
//
// Layout. A type that packs itself into bytes (PacksIntoBytes: catalog's
// Row) is kept as one byte arena holding the values back to back plus one
// 32-bit end offset per value -- two allocations per column however many
// values it holds, and no per-value object. Reading value i gives a view
// that refers to the arena (valid while the column lives); a copy of a view
// owns its bytes. Every other type is kept in a std::vector and read by
// reference.
//
// Cursors that must hand out `const X&` bind element i to a slot they own
// (Bind): for a vector the slot is unused and the element's address is
// returned; for an arena the slot is made a view of the element.
//
// Invariants: an arena column's values take fewer than 2^32 bytes in all,
// as a batch holds fewer than 2^32 values (engine/batch.h).
#pragma once

#include <algorithm>
#include <compare>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <vector>

#include "engine/check.h"

namespace diffmesh {

// A type whose values are a byte string each: `bytes()` gives it (with
// `data()` and `size()`), `X::View(p, n)` makes a value that refers to such
// bytes without copying them, and `SetView(p, n)` turns a value into one.
template <class X>
concept PacksIntoBytes = requires(const X& x, X& m, const uint8_t* p,
                                  size_t n) {
  { x.bytes().size() } -> std::convertible_to<size_t>;
  x.bytes().data();
  { X::View(p, n) } -> std::same_as<X>;
  m.SetView(p, n);
};

// -1, 0 or 1 as a is before, with or after b: one three-way comparison
// where X has one, else up to two `<`.
template <class X>
int OrderOf(const X& a, const X& b) {
  if constexpr (std::three_way_comparable<X, std::weak_ordering>) {
    const auto c = a <=> b;
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  } else {
    return a < b ? -1 : (b < a ? 1 : 0);
  }
}

template <class X>
class Column {
 public:
  struct Slot {};

  size_t size() const { return v_.size(); }
  bool empty() const { return v_.empty(); }
  const X& operator[](size_t i) const { return v_[i]; }
  const X& back() const { return v_.back(); }
  const X* Bind(size_t i, Slot*) const { return &v_[i]; }

  void push_back(const X& x) { v_.push_back(x); }
  void reserve(size_t n) { v_.reserve(n); }
  // At most `n` values will come (a hint; a vector grows as it goes).
  void Expect(size_t) {}
  // Reserves room for merging `a` and `b`: what both hold (a merge that
  // consolidates keeps fewer; the batch builder gives back a large excess).
  void ReserveFor(const Column& a, const Column& b) {
    v_.reserve(a.size() + b.size());
  }
  // Gives back a large excess of reserved room.
  void Fit() {
    if (v_.capacity() > v_.size() + v_.size() / 16 + 16) v_.shrink_to_fit();
  }
  // Bytes allocated (capacity, not just size).
  size_t Bytes() const { return v_.capacity() * sizeof(X); }
  std::vector<X> ToVector() const { return v_; }

 private:
  std::vector<X> v_;
};

template <PacksIntoBytes X>
class Column<X> {
 public:
  using Slot = X;

  size_t size() const { return ends_.size(); }
  bool empty() const { return ends_.empty(); }
  X operator[](size_t i) const {
    size_t begin = Begin(i);
    return X::View(bytes_.data() + begin, ends_[i] - begin);
  }
  X back() const { return (*this)[size() - 1]; }
  const X* Bind(size_t i, Slot* slot) const {
    size_t begin = Begin(i);
    slot->SetView(bytes_.data() + begin, ends_[i] - begin);
    return slot;
  }

  void push_back(const X& x) {
    const auto b = x.bytes();
    const auto* p = reinterpret_cast<const uint8_t*>(b.data());
    DM_CHECK_MSG(bytes_.size() + b.size() < UINT32_MAX,
                 "a batch column exceeds 2^32 bytes");
    if (bytes_.size() + b.size() > bytes_.capacity()) Grow(b.size());
    bytes_.insert(bytes_.end(), p, p + b.size());
    ends_.push_back(static_cast<uint32_t>(bytes_.size()));
  }
  // Room for `n` values, and the arena is sized for about `n` at the first
  // values' average bytes (Fit trims an over-estimate).
  void reserve(size_t n) {
    ends_.reserve(n);
    Expect(n);
  }
  void Expect(size_t n) { expect_ = n; }
  void ReserveFor(const Column& a, const Column& b) {
    ends_.reserve(a.size() + b.size());
    bytes_.reserve(a.bytes_.size() + b.bytes_.size());
  }
  void Fit() {
    auto fit = [](auto& v) {
      if (v.capacity() > v.size() + v.size() / 16 + 16) v.shrink_to_fit();
    };
    fit(bytes_);
    fit(ends_);
  }
  size_t Bytes() const {
    return bytes_.capacity() + ends_.capacity() * sizeof(uint32_t);
  }
  // Owning copies of the values.
  std::vector<X> ToVector() const {
    std::vector<X> out;
    out.reserve(size());
    for (size_t i = 0; i < size(); ++i) out.push_back((*this)[i]);
    return out;
  }

 private:
  size_t Begin(size_t i) const { return i == 0 ? 0 : ends_[i - 1]; }
  // Room for `n` more bytes: doubling, or, when more values are expected,
  // the bytes they take at the average so far plus an eighth.
  void Grow(size_t n) {
    const size_t need = bytes_.size() + n;
    size_t want = std::max(need, 2 * bytes_.capacity());
    const size_t count = ends_.size() + 1;
    if (expect_ > count) {
      const size_t estimate = need / count * expect_;
      want = std::max(want, estimate + estimate / 8);
    }
    bytes_.reserve(want);
  }

  std::vector<uint8_t> bytes_;
  std::vector<uint32_t> ends_;
  size_t expect_ = 0;  // values reserve() expects
};

}  // namespace diffmesh
