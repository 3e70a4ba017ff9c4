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
    parts_.push_back(Part{std::move(batch), negate, 0, 0, false});
    parts_.back().val = parts_.back().batch->key_offsets[0];
    Refresh();
  }

  bool KeyValid() const { return key_ != nullptr; }
  const K& Key() const { return *key_; }
  void StepKey() {
    for (Part& p : parts_) {
      if (AtKey(p)) {
        ++p.key;
        if (p.key < p.batch->keys.size()) p.val = p.batch->key_offsets[p.key];
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
        p.key = std::lower_bound(keys.begin() + p.key, keys.end(), key) -
                keys.begin();
      } else {
        // Later seeks move forward a little: gallop, then binary search.
        size_t step = 1, lo = p.key, hi = p.key + 1;
        while (hi < keys.size() && keys[hi] < key) {
          lo = hi;
          step <<= 1;
          hi = std::min(keys.size(), hi + step);
        }
        p.key = std::lower_bound(keys.begin() + lo, keys.begin() + hi, key) -
                keys.begin();
      }
      if (p.key < keys.size()) p.val = p.batch->key_offsets[p.key];
    }
    Refresh();
  }

  bool ValValid() const { return val_ != nullptr; }
  const V& Val() const { return *val_; }
  void StepVal() {
    for (Part& p : parts_) {
      if (AtVal(p)) ++p.val;
    }
    RefreshVal();
  }
  // Calls f(time, diff) for every update of the current (key, value).
  template <class F>
  void MapTimes(F&& f) const {
    for (const Part& p : parts_) {
      if (!AtVal(p)) continue;
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

 private:
  struct Part {
    Ptr batch;
    bool negate;
    size_t key;
    size_t val;
    bool sought;  // a SeekKey has positioned this part before
  };

  bool AtKey(const Part& p) const {
    return key_ != nullptr && p.key < p.batch->keys.size() &&
           p.batch->keys[p.key] == *key_;
  }
  bool AtVal(const Part& p) const {
    return AtKey(p) && val_ != nullptr &&
           p.val < p.batch->key_offsets[p.key + 1] &&
           p.batch->vals[p.val] == *val_;
  }

  void Refresh() {
    key_ = nullptr;
    for (const Part& p : parts_) {
      if (p.key < p.batch->keys.size() &&
          (key_ == nullptr || p.batch->keys[p.key] < *key_)) {
        key_ = &p.batch->keys[p.key];
      }
    }
    RefreshVal();
  }
  void RefreshVal() {
    val_ = nullptr;
    if (key_ == nullptr) return;
    for (const Part& p : parts_) {
      if (!(p.key < p.batch->keys.size() && p.batch->keys[p.key] == *key_))
        continue;
      if (p.val < p.batch->key_offsets[p.key + 1] &&
          (val_ == nullptr || p.batch->vals[p.val] < *val_)) {
        val_ = &p.batch->vals[p.val];
      }
    }
  }

  std::vector<Part> parts_;
  const K* key_ = nullptr;
  const V* val_ = nullptr;
};

}  // namespace diffmesh
