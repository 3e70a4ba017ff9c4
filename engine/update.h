// Updates `(data, time, diff)` and their consolidation.
//
//   std::vector<Update<int, uint64_t>> u = {{1, 0, +1}, {1, 0, -1}, {2, 1, 3}};
//   Consolidate(u);   // {{2, 1, 3}}
//
// A collection at time t is the sum of the diffs of all updates at times <= t.
// Consolidation sorts by (data, time), sums equal pairs and drops zeros; it is
// O(n log n) and leaves the vector in canonical form.
#pragma once

#include <algorithm>
#include <cstdint>
#include <tuple>
#include <utility>
#include <vector>

#include "engine/difference.h"

namespace diffmesh {

template <class D, class T, class R = int64_t>
struct Update {
  D data;
  T time;
  R diff;

  friend bool operator==(const Update&, const Update&) = default;
  // Crosses processes field by field, or as its bytes when trivially
  // copyable (engine/wire.h).
  template <class Self>
  static auto WireFields(Self& self) {
    return std::tie(self.data, self.time, self.diff);
  }
};

// Sums adjacent equal keys in a sorted range of (key, diff) pairs in place,
// dropping zeros. `key_eq(a, b)` compares elements; `diff(a)` names the diff.
template <class Vec, class KeyEq, class DiffOf>
void CoalesceSorted(Vec& v, KeyEq key_eq, DiffOf diff) {
  size_t out = 0;
  for (size_t i = 0; i < v.size();) {
    size_t j = i + 1;
    auto sum = diff(v[i]);
    while (j < v.size() && key_eq(v[i], v[j])) AddDiff(sum, diff(v[j++]));
    if (!IsZero(sum)) {
      if (out != i) v[out] = std::move(v[i]);
      diff(v[out]) = sum;
      ++out;
    }
    i = j;
  }
  v.resize(out);
}

template <class D, class T, class R>
void Consolidate(std::vector<Update<D, T, R>>& updates) {
  std::sort(updates.begin(), updates.end(), [](const auto& a, const auto& b) {
    if (a.data < b.data) return true;
    if (b.data < a.data) return false;
    return a.time < b.time;
  });
  CoalesceSorted(
      updates,
      [](const auto& a, const auto& b) {
        return a.time == b.time && a.data == b.data;
      },
      [](auto& u) -> R& { return u.diff; });
}

// Consolidates `(data, diff)` pairs.
template <class D, class R>
void ConsolidatePairs(std::vector<std::pair<D, R>>& pairs) {
  std::sort(pairs.begin(), pairs.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  CoalesceSorted(
      pairs, [](const auto& a, const auto& b) { return a.first == b.first; },
      [](auto& p) -> R& { return p.second; });
}

}  // namespace diffmesh
