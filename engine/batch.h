// Columnar immutable batches of updates, indexed by key and value.
//
//   BatchBuilder<int, Unit, uint64_t, int64_t> builder;
//   builder.Push(1, Unit{}, 0, +1);            // sorted by (key, val, time)
//   auto batch = builder.Build({lower, upper, since});
//
// Layout: sorted `keys`; `key_offsets[i]..key_offsets[i+1]` index the values
// of key i in sorted `vals`; `val_offsets[j]..val_offsets[j+1]` index that
// value's `(times, diffs)` run, read through `Updates(j)`: an empty stored
// range means the value has exactly one update, equal to the last stored
// update before it (a bulk load at one time with diff 1 stores its time and
// diff once). Offsets are 32-bit; a batch holds fewer than 2^32 values and
// stored updates. A batch whose stored (time, diff) pairs take at most 256
// distinct values (the usual case: a batch spans few times, and diffs are
// mostly +1/-1) keeps them as one byte per update indexing a small
// dictionary; otherwise as the `times` and `diffs` columns. Read them with
// `TimeAt(i)` and `DiffAt(i)`.
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
#include "engine/check.h"
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

  using Offset = uint32_t;

  std::vector<K> keys;
  std::vector<Offset> key_offsets = {0};
  std::vector<V> vals;
  std::vector<Offset> val_offsets = {0};
  std::vector<T> times;  // uncoded form (empty when coded)
  std::vector<R> diffs;
  std::vector<uint8_t> codes;            // coded form: index into dict
  std::vector<std::pair<T, R>> dict;
  size_t updates = 0;  // logical updates, elided ones included
  Description<T> description;

  bool coded() const { return !codes.empty(); }
  size_t stored() const { return coded() ? codes.size() : times.size(); }
  const T& TimeAt(size_t i) const {
    return coded() ? dict[codes[i]].first : times[i];
  }
  const R& DiffAt(size_t i) const {
    return coded() ? dict[codes[i]].second : diffs[i];
  }

  // The positions in `times`/`diffs` of value j's updates.
  std::pair<size_t, size_t> Updates(size_t j) const {
    size_t lo = val_offsets[j], hi = val_offsets[j + 1];
    return {lo == hi ? lo - 1 : lo, hi};
  }

  size_t size() const { return updates; }  // number of updates
  bool empty() const { return updates == 0; }
  // Bytes allocated by the columns (capacity, not just size).
  size_t Bytes() const {
    return keys.capacity() * sizeof(K) + vals.capacity() * sizeof(V) +
           (key_offsets.capacity() + val_offsets.capacity()) * sizeof(Offset) +
           times.capacity() * sizeof(T) + diffs.capacity() * sizeof(R) +
           codes.capacity() + dict.capacity() * sizeof(std::pair<T, R>);
  }
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
      CloseVal();
      b.vals.push_back(val);
    }
    b.times.push_back(time);
    b.diffs.push_back(diff);
    ++b.updates;
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
      if (v.capacity() > v.size() + v.size() / 16 + 16) v.shrink_to_fit();
    };
    fit(b.vals);
    fit(b.val_offsets);
    if (!Encode(b)) {
      fit(b.times);
      fit(b.diffs);
    }
    b.description = std::move(description);
    return std::exchange(batch_, std::make_shared<B>());
  }

  size_t size() const { return batch_->size(); }
  size_t Bytes() const { return batch_->Bytes(); }

 private:
  // Replaces the times and diffs columns with one-byte codes into a
  // dictionary if there are at most 256 distinct (time, diff) pairs.
  static bool Encode(B& b) {
    constexpr size_t kMaxCodes = 256;
    const size_t n = b.times.size();
    if (n < 16) return false;  // not worth it
    std::vector<std::pair<T, R>> dict;
    std::vector<uint8_t> codes(n);
    size_t last = 0;
    for (size_t i = 0; i < n; ++i) {
      const T& t = b.times[i];
      const R& r = b.diffs[i];
      if (!dict.empty() && dict[last].first == t && dict[last].second == r) {
        codes[i] = static_cast<uint8_t>(last);
        continue;
      }
      size_t c = 0;
      while (c < dict.size() && !(dict[c].first == t && dict[c].second == r))
        ++c;
      if (c == dict.size()) {
        if (c == kMaxCodes) return false;
        dict.emplace_back(t, r);
      }
      codes[i] = static_cast<uint8_t>(c);
      last = c;
    }
    b.codes = std::move(codes);
    b.dict = std::move(dict);
    std::vector<T>().swap(b.times);
    std::vector<R>().swap(b.diffs);
    return true;
  }

  // Ends the last value's run; a run of one update equal to the update
  // stored before it is elided (see the layout above).
  void CloseVal() {
    B& b = *batch_;
    size_t start = b.val_offsets.back(), end = b.times.size();
    if (end == start + 1 && start > 0 && b.times[start] == b.times[start - 1] &&
        b.diffs[start] == b.diffs[start - 1]) {
      b.times.pop_back();
      b.diffs.pop_back();
    }
    DM_CHECK_MSG(b.times.size() < UINT32_MAX, "batch exceeds 2^32 updates");
    b.val_offsets.push_back(static_cast<typename B::Offset>(b.times.size()));
  }
  // Ends the last key's last value run, if any.
  void CloseKey() {
    B& b = *batch_;
    if (b.keys.empty()) return;
    CloseVal();
    DM_CHECK_MSG(b.vals.size() < UINT32_MAX, "batch exceeds 2^32 values");
    b.key_offsets.push_back(static_cast<typename B::Offset>(b.vals.size()));
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
  size_t output_bytes() const { return builder_.Bytes(); }

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
    auto [lo, hi] = x.Updates(v);
    for (size_t i = lo; i < hi; ++i) {
      run_.emplace_back(AdvanceBy(x.TimeAt(i), since_), x.DiffAt(i));
    }
  }

  Ptr a_, b_;
  Antichain<T> since_;
  size_t ka_ = 0, kb_ = 0;
  BatchBuilder<K, V, T, R> builder_;
  std::vector<std::pair<T, R>> run_;
};

}  // namespace diffmesh
