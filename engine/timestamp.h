// Type-erased timestamps for progress tracking.
//
//   Timestamp ts = TimeCodec<Product<uint64_t, uint64_t>>::Encode({3, 1});
//   // ts.depth == 2, ts.coords == {3, 1}
//   TimeCodec<Product<uint64_t, uint64_t>>::Decode(ts);   // {3, 1}
//
// The dataflow graph is type-erased, so the progress tracker sees every time
// as a short vector of counters: `uint64_t` has depth 1 and `Product<O, I>`
// concatenates its parts. The product (componentwise) order on these vectors
// is exactly the lattice order of the typed times, so frontiers computed on
// erased times decode to frontiers of typed times.
#pragma once

#include <array>
#include <compare>
#include <cstdint>

#include "engine/antichain.h"
#include "engine/check.h"
#include "engine/lattice.h"

namespace diffmesh {

inline constexpr int kMaxTimeDepth = 4;

struct Timestamp {
  uint8_t depth = 0;
  std::array<uint64_t, kMaxTimeDepth> coords{};

  friend bool operator==(const Timestamp& a, const Timestamp& b) {
    if (a.depth != b.depth) return false;
    for (int i = 0; i < a.depth; ++i) {
      if (a.coords[i] != b.coords[i]) return false;
    }
    return true;
  }
  friend std::strong_ordering operator<=>(const Timestamp& a,
                                          const Timestamp& b) {
    if (a.depth != b.depth) return a.depth <=> b.depth;
    for (int i = 0; i < a.depth; ++i) {
      if (a.coords[i] != b.coords[i]) return a.coords[i] <=> b.coords[i];
    }
    return std::strong_ordering::equal;
  }
};

template <>
struct LatticeTraits<Timestamp> {
  static constexpr bool kTotal = false;
  static bool LessEqual(const Timestamp& a, const Timestamp& b) {
    DM_CHECK_MSG(a.depth == b.depth, "comparing times of different scopes");
    for (int i = 0; i < a.depth; ++i) {
      if (a.coords[i] > b.coords[i]) return false;
    }
    return true;
  }
  static Timestamp Join(Timestamp a, const Timestamp& b) {
    for (int i = 0; i < a.depth; ++i)
      a.coords[i] = std::max(a.coords[i], b.coords[i]);
    return a;
  }
  static Timestamp Meet(Timestamp a, const Timestamp& b) {
    for (int i = 0; i < a.depth; ++i)
      a.coords[i] = std::min(a.coords[i], b.coords[i]);
    return a;
  }
};

template <class T>
struct TimeCodec;

template <>
struct TimeCodec<uint64_t> {
  static constexpr int kDepth = 1;
  static void Write(uint64_t t, Timestamp& ts, int at) { ts.coords[at] = t; }
  static uint64_t Read(const Timestamp& ts, int at) { return ts.coords[at]; }
  static Timestamp Encode(uint64_t t) {
    Timestamp ts;
    ts.depth = 1;
    ts.coords[0] = t;
    return ts;
  }
  static uint64_t Decode(const Timestamp& ts) { return ts.coords[0]; }
};

template <class O, class I>
struct TimeCodec<Product<O, I>> {
  static constexpr int kDepth = TimeCodec<O>::kDepth + TimeCodec<I>::kDepth;
  static_assert(kDepth <= kMaxTimeDepth, "time nesting too deep");
  static void Write(const Product<O, I>& t, Timestamp& ts, int at) {
    TimeCodec<O>::Write(t.outer, ts, at);
    TimeCodec<I>::Write(t.inner, ts, at + TimeCodec<O>::kDepth);
  }
  static Product<O, I> Read(const Timestamp& ts, int at) {
    return {TimeCodec<O>::Read(ts, at),
            TimeCodec<I>::Read(ts, at + TimeCodec<O>::kDepth)};
  }
  static Timestamp Encode(const Product<O, I>& t) {
    Timestamp ts;
    ts.depth = kDepth;
    Write(t, ts, 0);
    return ts;
  }
  static Product<O, I> Decode(const Timestamp& ts) { return Read(ts, 0); }
};

template <class T>
Antichain<T> DecodeFrontier(const Antichain<Timestamp>& erased) {
  Antichain<T> result;
  for (const Timestamp& ts : erased) result.Insert(TimeCodec<T>::Decode(ts));
  return result;
}

}  // namespace diffmesh
