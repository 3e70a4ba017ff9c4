// Cursors: walk the keys, values and (time, diff) histories of one batch or
// of a list of batches as if they were one sorted collection.
//
//   TraceCursor<K, V, T, R> cursor = handle.Cursor();
//   for (; cursor.KeyValid(); cursor.StepKey())
//     for (; cursor.ValValid(); cursor.StepVal())
//       cursor.MapTimes([&](const T& t, const R& r) { ... });
//
// A batch may be added *negated*: its diffs are reported with their sign
// flipped. That is how a reader subtracts batches it has not yet received
// from a shared trace (engine/trace.h).
//
// Key() and Val() return references that stay valid until the cursor
// moves to another key (value): for a column kept as a byte arena they
// are views the cursor binds (engine/column.h); copy what must outlive that.
//
// Costs: SeekKey gallops forward in each batch, O(log distance) per batch;
// every other step is O(number of batches).
#pragma once

#include <algorithm>
#include <utility>
#include <vector>

#include "engine/batch.h"

namespace diffmesh {

template <class K, class V, class T, class R>
class TraceCursor {
 public:
  using Ptr = BatchPtr<K, V, T, R>;

  void Add(Ptr batch, bool negate = false) {
    if (batch == nullptr || batch->empty()) return;
    parts_.push_back(Part{std::move(batch), negate});
    parts_.back().val = parts_.back().batch->ValBegin(0);
    Refresh();
  }

  bool KeyValid() const { return key_part_ >= 0; }
  // Valid until the cursor steps or seeks to another key.
  const K& Key() const {
    const Part& p = parts_[key_part_];
    return *p.batch->keys.Bind(p.key, &key_slot_);
  }
  void StepKey() {
    for (Part& p : parts_) {
      if (p.at_key) {
        ++p.key;
        if (p.key < p.batch->keys.size()) p.val = p.batch->ValBegin(p.key);
      }
    }
    Refresh();
  }
  // Moves to the first key >= `key`. REQUIRES: `key` >= the current key.
  void SeekKey(const K& key) {
    for (Part& p : parts_) {
      const auto& keys = p.batch->keys;
      if (p.key >= keys.size() || !(keys[p.key] < key)) continue;
      if (!p.sought) {
        // A fresh cursor: one binary search over the whole batch.
        p.sought = true;
        p.key = LowerBound(keys, p.key, keys.size(), key);
      } else {
        // Later seeks move forward a little: gallop, then binary search.
        size_t step = 1, lo = p.key, hi = p.key + 1;
        while (hi < keys.size() && keys[hi] < key) {
          lo = hi;
          step <<= 1;
          hi = std::min(keys.size(), hi + step);
        }
        p.key = LowerBound(keys, lo, hi, key);
      }
      if (p.key < keys.size()) p.val = p.batch->ValBegin(p.key);
    }
    Refresh();
  }

  bool ValValid() const { return val_part_ >= 0; }
  // Valid until the cursor steps to another value or key.
  const V& Val() const {
    const Part& p = parts_[val_part_];
    return *p.batch->vals.Bind(p.val, &val_slot_);
  }
  void StepVal() {
    for (Part& p : parts_) {
      if (p.at_val) ++p.val;
    }
    RefreshVal();
  }
  // Calls f(time, diff) for every update of the current (key, value).
  template <class F>
  void MapTimes(F&& f) const {
    for (const Part& p : parts_) {
      if (!p.at_val) continue;
      const auto& b = *p.batch;
      auto [lo, hi] = b.Updates(p.val);
      for (size_t i = lo; i < hi; ++i) {
        if (p.negate) {
          f(b.TimeAt(i), R(-b.DiffAt(i)));
        } else {
          f(b.TimeAt(i), b.DiffAt(i));
        }
      }
    }
  }
  // Calls f(val, time, diff) for every update of the current key.
  template <class F>
  void MapKeyUpdates(F&& f) {
    for (; ValValid(); StepVal()) {
      const V& v = Val();
      MapTimes([&](const T& t, const R& r) { f(v, t, r); });
    }
  }

  size_t num_batches() const { return parts_.size(); }
  // Calls f(const Batch&) for every batch the cursor reads.
  template <class F>
  void ForEachBatch(F&& f) const {
    for (const Part& p : parts_) f(*p.batch);
  }

 private:
  struct Part {
    Ptr batch;
    bool negate;
    size_t key = 0;
    size_t val = 0;
    bool sought = false;  // a SeekKey has positioned this part before
    bool at_key = false;  // its key is the cursor's key
    bool at_val = false;  // ... and its value the cursor's value
  };

  template <class Col, class X>
  static size_t LowerBound(const Col& col, size_t lo, size_t hi, const X& x) {
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (col[mid] < x) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  // Marks (`Part::*mark`) the parts that are `eligible` and at the least
  // `element` among those; returns one of them, or -1 when none is.
  template <class Eligible, class Element>
  int MarkLeast(bool Part::*mark, Eligible eligible, Element element) {
    int least = -1;
    for (size_t i = 0; i < parts_.size(); ++i) {
      Part& p = parts_[i];
      p.*mark = eligible(p);
      if (!(p.*mark)) continue;
      if (least >= 0) {
        const int order = OrderOf(element(p), element(parts_[least]));
        if (order > 0) {
          p.*mark = false;
          continue;
        }
        if (order == 0) continue;
        for (size_t j = 0; j < i; ++j) parts_[j].*mark = false;
      }
      least = static_cast<int>(i);
    }
    return least;
  }
  void Refresh() {
    key_part_ = MarkLeast(
        &Part::at_key,
        [](const Part& p) { return p.key < p.batch->keys.size(); },
        [](const Part& p) -> decltype(auto) { return p.batch->keys[p.key]; });
    RefreshVal();
  }
  void RefreshVal() {
    val_part_ = MarkLeast(
        &Part::at_val,
        [](const Part& p) {
          return p.at_key && p.val < p.batch->ValEnd(p.key);
        },
        [](const Part& p) -> decltype(auto) { return p.batch->vals[p.val]; });
  }

  std::vector<Part> parts_;
  int key_part_ = -1;  // a part at the current key, or -1 when none
  int val_part_ = -1;
  mutable typename Column<K>::Slot key_slot_;
  mutable typename Column<V>::Slot val_slot_;
};

}  // namespace diffmesh
