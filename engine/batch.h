// Columnar immutable batches of updates, indexed by key and value.
//
//   BatchBuilder<int, Unit, uint64_t, int64_t> builder;
//   builder.Push(1, Unit{}, 0, +1);            // sorted by (key, val, time)
//   auto batch = builder.Build({lower, upper, since});
//
// Layout: sorted `keys`; `key_offsets[i]..key_offsets[i+1]` index the values
// of key i in sorted `vals`; `val_offsets[j]..val_offsets[j+1]` index that
// value's `(times, diffs)` run.
//
// Invariants: keys strictly increasing; values strictly increasing within a
// key; times strictly increasing (by `<`) within a value, no zero diffs, no
// empty runs. The description says: the batch holds exactly the updates with
// times beyond `lower` and not beyond `upper`, with times advanced by
// `since`.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "engine/antichain.h"
#include "engine/difference.h"
#include "engine/update.h"

namespace diffmesh {

template <class T>
struct Description {
  Antichain<T> lower;
  Antichain<T> upper;
  Antichain<T> since;
};

template <class K, class V, class T, class R>
struct Batch {
  using Key = K;
  using Val = V;
  using Time = T;
  using Diff = R;

  std::vector<K> keys;
  std::vector<size_t> key_offsets = {0};
  std::vector<V> vals;
  std::vector<size_t> val_offsets = {0};
  std::vector<T> times;
  std::vector<R> diffs;
  Description<T> description;

  size_t size() const { return times.size(); }  // number of updates
  bool empty() const { return times.empty(); }
};

template <class K, class V, class T, class R>
using BatchPtr = std::shared_ptr<const Batch<K, V, T, R>>;

// Builds a batch from updates pushed in (key, val, time) order.
template <class K, class V, class T, class R>
class BatchBuilder {
 public:
  using B = Batch<K, V, T, R>;

  BatchBuilder() : batch_(std::make_shared<B>()) {}

  // Reserves room for up to `updates` updates (an upper bound is fine: the
  // batch is shrunk to fit when built).
  void Reserve(size_t updates) {
    batch_->vals.reserve(updates);
    batch_->val_offsets.reserve(updates + 1);
    batch_->times.reserve(updates);
    batch_->diffs.reserve(updates);
  }

  // REQUIRES: (key, val, time) strictly greater than the previous push.
  void Push(const K& key, const V& val, const T& time, const R& diff) {
    B& b = *batch_;
    if (b.keys.empty() || !(b.keys.back() == key)) {
      CloseKey();
      b.keys.push_back(key);
      b.vals.push_back(val);
    } else if (!(b.vals.back() == val)) {
      b.val_offsets.push_back(b.times.size());
      b.vals.push_back(val);
    }
    b.times.push_back(time);
    b.diffs.push_back(diff);
  }

  // Pushes a consolidated (time, diff) run for (key, val); empty runs vanish.
  void PushRun(const K& key, const V& val,
               const std::vector<std::pair<T, R>>& run) {
    for (const auto& [t, r] : run) Push(key, val, t, r);
  }

  std::shared_ptr<const B> Build(Description<T> description) {
    CloseKey();
    B& b = *batch_;
    // Reserve() may have over-estimated: give back a large excess.
    auto fit = [](auto& v) {
      if (v.capacity() > v.size() + v.size() / 4 + 64) v.shrink_to_fit();
    };
    fit(b.vals);
    fit(b.val_offsets);
    fit(b.times);
    fit(b.diffs);
    b.description = std::move(description);
    return std::exchange(batch_, std::make_shared<B>());
  }

  size_t size() const { return batch_->times.size(); }

 private:
  // Ends the last key's last value run, if any.
  void CloseKey() {
    B& b = *batch_;
    if (b.keys.empty()) return;
    b.val_offsets.push_back(b.times.size());
    b.key_offsets.push_back(b.vals.size());
  }

  std::shared_ptr<B> batch_;
};

// Merges two batches (older `a`, newer `b`) into one, advancing times by
// `since`, a bounded amount of work at a time.
//
// Costs: Work(fuel) processes about `fuel` updates (whole keys at a time), so
// a merge of n updates finishes after O(n) fuel in total.
template <class K, class V, class T, class R>
class Merger {
 public:
  using Ptr = BatchPtr<K, V, T, R>;

  Merger(Ptr a, Ptr b, Antichain<T> since)
      : a_(std::move(a)), b_(std::move(b)), since_(std::move(since)) {
    builder_.Reserve(a_->size() + b_->size());
  }

  // Spends up to `*fuel` units of work; returns true once the merge is done.
  bool Work(int64_t* fuel) {
    const auto& A = *a_;
    const auto& B = *b_;
    while (*fuel > 0 && (ka_ < A.keys.size() || kb_ < B.keys.size())) {
      if (kb_ == B.keys.size() ||
          (ka_ < A.keys.size() && A.keys[ka_] < B.keys[kb_])) {
        *fuel -= CopyKey(A, ka_++, nullptr, 0);
      } else if (ka_ == A.keys.size() || B.keys[kb_] < A.keys[ka_]) {
        *fuel -= CopyKey(B, kb_++, nullptr, 0);
      } else {
        *fuel -= CopyKey(A, ka_++, &B, kb_++);
      }
    }
    return ka_ == A.keys.size() && kb_ == B.keys.size();
  }

  // REQUIRES: Work returned true.
  Ptr Finish() {
    Description<T> d{a_->description.lower, b_->description.upper, since_};
    return builder_.Build(std::move(d));
  }

  size_t input_size() const { return a_->size() + b_->size(); }
  size_t output_size() const { return builder_.size(); }

 private:
  using Bt = Batch<K, V, T, R>;

  // Emits key `ka` of `x` merged with key `kb` of `y` (if any); returns work.
  int64_t CopyKey(const Bt& x, size_t ka, const Bt* y, size_t kb) {
    const K& key = x.keys[ka];
    size_t va = x.key_offsets[ka], va_end = x.key_offsets[ka + 1];
    size_t vb = 0, vb_end = 0;
    if (y != nullptr) {
      vb = y->key_offsets[kb];
      vb_end = y->key_offsets[kb + 1];
    }
    int64_t work = 1;
    while (va < va_end || vb < vb_end) {
      run_.clear();
      const V* val;
      if (vb == vb_end || (va < va_end && x.vals[va] < y->vals[vb])) {
        val = &x.vals[va];
        AppendRun(x, va++);
      } else if (va == va_end || y->vals[vb] < x.vals[va]) {
        val = &y->vals[vb];
        AppendRun(*y, vb++);
      } else {
        val = &x.vals[va];
        AppendRun(x, va++);
        AppendRun(*y, vb++);
      }
      work += static_cast<int64_t>(run_.size());
      ConsolidatePairs(run_);  // sort by time, sum, drop zeros
      builder_.PushRun(key, *val, run_);
    }
    return work;
  }

  void AppendRun(const Bt& x, size_t v) {
    for (size_t i = x.val_offsets[v]; i < x.val_offsets[v + 1]; ++i) {
      run_.emplace_back(AdvanceBy(x.times[i], since_), x.diffs[i]);
    }
  }

  Ptr a_, b_;
  Antichain<T> since_;
  size_t ka_ = 0, kb_ = 0;
  BatchBuilder<K, V, T, R> builder_;
  std::vector<std::pair<T, R>> run_;
};

}  // namespace diffmesh
