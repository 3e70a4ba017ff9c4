// StableHash: a 64-bit hash that is the same in every process, run and
// worker, so it can decide which worker owns a key (operators/exchange.h)
// wherever the worker runs. absl::Hash is seeded per process and cannot.
//
//   uint64_t h = StableHash(std::pair<std::string, int64_t>("ada", 7));
//   struct Edge { ...; uint64_t StableHash() const { return ...; } };
//   StableHashBytes(data, size);   // XXH3 of raw bytes
//
// Defined for integers and enums (a 64-bit finalizer of the value),
// floating point (its canonical bits: -0.0 as 0.0), strings (XXH3 of the
// bytes), std::pair, std::tuple, std::optional, std::vector and std::array
// of hashable types, and any type with a member `uint64_t StableHash()
// const`. Anything else is a compile error naming the type: give it that
// member. Equal values must hash equally: a member must read exactly the
// parts its operator== reads.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace diffmesh {

// XXH3 (64 bits, seed 0) of `size` bytes at `data`.
uint64_t StableHashBytes(const void* data, size_t size);

// A 128-bit hash: wide enough to stand for the bytes it was taken of (two
// different texts among billions share one with a chance below 1e-20).
struct Hash128 {
  uint64_t low = 0;
  uint64_t high = 0;
  friend bool operator==(const Hash128&, const Hash128&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const Hash128& k) {
    return H::combine(std::move(h), k.low);
  }
};

// XXH3 (128 bits, seed 0) of `size` bytes at `data`.
Hash128 StableHash128Bytes(const void* data, size_t size);

// A bijective 64-bit finalizer (murmur3's fmix64).
inline uint64_t StableMix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

// Order-dependent combination of two hashes.
inline uint64_t StableCombine(uint64_t seed, uint64_t h) {
  return StableMix(seed * 0x9e3779b97f4a7c15ULL + h + 0x632be59bd9b4e019ULL);
}

template <class T>
concept HasStableHashMember = requires(const T& t) {
  { t.StableHash() } -> std::convertible_to<uint64_t>;
};

template <class T>
uint64_t StableHash(const T& value);

namespace internal {

template <class T>
struct IsPair : std::false_type {};
template <class A, class B>
struct IsPair<std::pair<A, B>> : std::true_type {};
template <class T>
struct IsTuple : std::false_type {};
template <class... A>
struct IsTuple<std::tuple<A...>> : std::true_type {};
template <class T>
struct IsOptional : std::false_type {};
template <class A>
struct IsOptional<std::optional<A>> : std::true_type {};
template <class T>
struct IsSequence : std::false_type {};
template <class A, class Alloc>
struct IsSequence<std::vector<A, Alloc>> : std::true_type {};
template <class A, size_t N>
struct IsSequence<std::array<A, N>> : std::true_type {};

template <class T>
inline constexpr bool kAlwaysFalse = false;

}  // namespace internal

template <class T>
uint64_t StableHash(const T& value) {
  if constexpr (std::is_same_v<T, bool>) {
    return StableMix(value ? 1 : 2);
  } else if constexpr (std::is_integral_v<T>) {
    return StableMix(static_cast<uint64_t>(value));
  } else if constexpr (std::is_enum_v<T>) {
    return StableMix(static_cast<uint64_t>(value));
  } else if constexpr (std::is_floating_point_v<T>) {
    double d = value == 0 ? 0.0 : static_cast<double>(value);
    uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    return StableMix(bits);
  } else if constexpr (HasStableHashMember<T>) {
    return value.StableHash();
  } else if constexpr (std::is_same_v<T, std::string> ||
                       std::is_same_v<T, std::string_view> ||
                       std::is_same_v<T, absl::string_view>) {
    return StableHashBytes(value.data(), value.size());
  } else if constexpr (internal::IsPair<T>::value) {
    return StableCombine(StableHash(value.first), StableHash(value.second));
  } else if constexpr (internal::IsTuple<T>::value) {
    return std::apply(
        [](const auto&... parts) {
          uint64_t h = 0x2545f4914f6cdd1dULL;
          ((h = StableCombine(h, StableHash(parts))), ...);
          return h;
        },
        value);
  } else if constexpr (internal::IsOptional<T>::value) {
    return value ? StableCombine(1, StableHash(*value)) : StableMix(0);
  } else if constexpr (internal::IsSequence<T>::value) {
    uint64_t h = StableMix(value.size());
    for (const auto& part : value) h = StableCombine(h, StableHash(part));
    return h;
  } else {
    static_assert(internal::kAlwaysFalse<T>,
                  "this type has no stable hash: give it a member "
                  "`uint64_t StableHash() const` (engine/stable_hash.h)");
    return 0;
  }
}

}  // namespace diffmesh
