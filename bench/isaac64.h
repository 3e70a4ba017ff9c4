// Isaac64: Bob Jenkins' ISAAC-64 generator, seeded the way the reference
// engine's benchmark driver seeds its random graph (a word slice copied into
// the result array, zero padded, then two initialisation passes), plus the
// uniform integer sampler it uses (rejection from the largest multiple of the
// range). With both, bench/bfs generates exactly the reference's graph and
// edge-change stream, so the two engines are compared on the same input
// rather than on two random graphs of the same size, which can differ a lot
// in how much of the graph the root reaches.
#ifndef DIFFMESH_BENCH_ISAAC64_H_
#define DIFFMESH_BENCH_ISAAC64_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>

namespace diffmesh::bench {

class Isaac64 {
 public:
  // At most 256 seed words are used; missing ones are zero.
  explicit Isaac64(std::initializer_list<uint64_t> seed) {
    results_.fill(0);
    size_t i = 0;
    for (uint64_t w : seed) {
      if (i == kSize) break;
      results_[i++] = w;
    }
    Init();
  }

  uint64_t NextU64() {
    if (count_ == 0) Refill();
    // Results are handed out from the top of the array down.
    return results_[--count_];
  }
  // The low half of the next 64-bit output.
  uint32_t NextU32() { return static_cast<uint32_t>(NextU64()); }

  // Uniform in [0, n), n > 0: draws 32-bit words until one falls below the
  // largest multiple of n, then reduces it modulo n.
  uint32_t Below(uint32_t n) {
    const uint32_t zone = UINT32_MAX - UINT32_MAX % n;
    for (;;) {
      uint32_t v = NextU32();
      if (v < zone) return v % n;
    }
  }

 private:
  static constexpr size_t kLog = 8;
  static constexpr size_t kSize = size_t{1} << kLog;

  static void Mix(std::array<uint64_t, 8>& x) {
    auto& [a, b, c, d, e, f, g, h] = x;
    a -= e;
    f ^= h >> 9;
    h += a;
    b -= f;
    g ^= a << 9;
    a += b;
    c -= g;
    h ^= b >> 23;
    b += c;
    d -= h;
    a ^= c << 15;
    c += d;
    e -= a;
    b ^= d >> 14;
    d += e;
    f -= b;
    c ^= e << 20;
    e += f;
    g -= c;
    d ^= f >> 17;
    f += g;
    h -= d;
    e ^= g << 14;
    g += h;
  }

  void Init() {
    std::array<uint64_t, 8> x;
    x.fill(0x9e3779b97f4a7c13ULL);  // the golden ratio
    for (int i = 0; i < 4; ++i) Mix(x);
    // Pass 1 folds the seed into the state, pass 2 spreads it across.
    for (const auto* source : {&results_, &mem_}) {
      for (size_t i = 0; i < kSize; i += 8) {
        for (size_t j = 0; j < 8; ++j) x[j] += (*source)[i + j];
        Mix(x);
        for (size_t j = 0; j < 8; ++j) mem_[i + j] = x[j];
      }
    }
    a_ = b_ = c_ = 0;
    Refill();
  }

  void Refill() {
    c_ += 1;
    uint64_t a = a_, b = b_ + c_;
    auto ind = [this](uint64_t v) { return mem_[(v >> 3) & (kSize - 1)]; };
    for (size_t half = 0; half < 2; ++half) {
      const size_t m = half * kSize / 2, m2 = kSize / 2 - m;
      for (size_t i = 0; i < kSize / 2; ++i) {
        uint64_t mix;
        switch (i & 3) {
          case 0:
            mix = ~(a ^ (a << 21));
            break;
          case 1:
            mix = a ^ (a >> 5);
            break;
          case 2:
            mix = a ^ (a << 12);
            break;
          default:
            mix = a ^ (a >> 33);
            break;
        }
        uint64_t x = mem_[m + i];
        a = mix + mem_[m2 + i];
        uint64_t y = ind(x) + a + b;
        mem_[m + i] = y;
        b = ind(y >> kLog) + x;
        results_[m + i] = b;
      }
    }
    a_ = a;
    b_ = b;
    count_ = kSize;
  }

  std::array<uint64_t, kSize> results_;
  std::array<uint64_t, kSize> mem_{};
  uint64_t a_ = 0, b_ = 0, c_ = 0;
  size_t count_ = 0;
};

}  // namespace diffmesh::bench

#endif  // DIFFMESH_BENCH_ISAAC64_H_
