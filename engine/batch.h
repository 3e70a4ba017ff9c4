// Columnar immutable batches of updates, indexed by key and value.
//
//   BatchBuilder<int, Unit, uint64_t, int64_t> builder;
//   builder.Push(1, Unit{}, 0, +1);            // sorted by (key, val, time)
//   auto batch = builder.Build({lower, upper, since});
//
// Layout: sorted `keys` (a Column: packed rows live in one byte arena per
// column, engine/column.h); key i's values in sorted `vals` are
// `ValBegin(i)..ValEnd(i)` (`key_offsets[i]..key_offsets[i+1]`, or just value
// i when every key has exactly one value: then `key_offsets` is empty);
// value j's `(times, diffs)` run is read through `Updates(j)`. When every
// value has exactly one update `val_offsets` is empty and value j's update
// is stored at j; otherwise `val_offsets[j]..val_offsets[j+1]` index the run,
// and an empty stored range means the value has exactly one update, equal to
// the last stored update before it. Offsets are 32-bit; a batch holds fewer
// than 2^32 values and stored updates. A batch whose stored (time, diff) pairs
// take at most 256 (65,536) distinct values -- the usual case: a batch spans
// few times, and diffs are mostly small -- keeps them as one (two) byte codes
// per update indexing a dictionary; otherwise as the `times` and `diffs`
// columns. Read them with `TimeAt(i)` and `DiffAt(i)`.
//
// Invariants: keys strictly increasing; values strictly increasing within a
// key; times strictly increasing (by `<`) within a value, no zero diffs, no
// empty runs. The description says: the batch holds exactly the updates with
// times beyond `lower` and not beyond `upper`, with times advanced by
// `since`.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "engine/antichain.h"
#include "engine/check.h"
#include "engine/column.h"
#include "engine/difference.h"
#include "engine/held_bytes.h"
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

  Column<K> keys;
  std::vector<Offset> key_offsets;  // empty: key i has value i alone
  Column<V> vals;
  std::vector<Offset> val_offsets;  // empty: value j has update j alone
  std::vector<T> times;             // uncoded form (empty when coded)
  std::vector<R> diffs;
  std::vector<uint8_t> codes;     // coded form: index into dict, or
  std::vector<uint16_t> codes16;  // this one if dict has over 256 entries
  std::vector<std::pair<T, R>> dict;
  size_t updates = 0;  // logical updates, elided ones included
  Description<T> description;

  bool coded() const { return !dict.empty(); }
  size_t stored() const {
    return coded() ? codes.size() + codes16.size() : times.size();
  }
  const std::pair<T, R>& Coded(size_t i) const {
    return dict[codes.empty() ? codes16[i] : codes[i]];
  }
  const T& TimeAt(size_t i) const {
    return coded() ? Coded(i).first : times[i];
  }
  const R& DiffAt(size_t i) const {
    return coded() ? Coded(i).second : diffs[i];
  }

  // The positions in `vals` of key i's values.
  size_t ValBegin(size_t i) const {
    return key_offsets.empty() ? i : key_offsets[i];
  }
  size_t ValEnd(size_t i) const {
    return key_offsets.empty() ? i + 1 : key_offsets[i + 1];
  }
  // The positions in `times`/`diffs` of value j's updates.
  std::pair<size_t, size_t> Updates(size_t j) const {
    if (val_offsets.empty()) return {j, j + 1};
    size_t lo = val_offsets[j], hi = val_offsets[j + 1];
    return {lo == hi ? lo - 1 : lo, hi};
  }

  size_t size() const { return updates; }  // number of updates
  bool empty() const { return updates == 0; }
  // Adds the batch's columns to `parts` (engine/held_bytes.h); they sum to
  // Bytes().
  void AddBytesTo(HeldByteParts* parts) const {
    parts->keys += keys.Bytes();
    parts->vals += vals.Bytes();
    parts->key_offsets += key_offsets.capacity() * sizeof(Offset);
    parts->val_offsets += val_offsets.capacity() * sizeof(Offset);
    parts->times += times.capacity() * sizeof(T);
    parts->diffs += diffs.capacity() * sizeof(R);
    parts->codes += codes.capacity() + codes16.capacity() * 2;
    parts->dict += dict.capacity() * sizeof(std::pair<T, R>);
    parts->updates += updates;
    parts->batches += 1;
  }
  // Bytes allocated by the columns (capacity, not just size).
  size_t Bytes() const {
    return keys.Bytes() + vals.Bytes() +
           (key_offsets.capacity() + val_offsets.capacity()) * sizeof(Offset) +
           times.capacity() * sizeof(T) + diffs.capacity() * sizeof(R) +
           codes.capacity() + codes16.capacity() * 2 +
           dict.capacity() * sizeof(std::pair<T, R>);
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
    batch_->keys.Expect(updates);
    batch_->vals.reserve(updates);
    reserve_ = reserve_keys_ = reserve_vals_ = updates;
  }
  // Reserves room for merging `a` and `b`: each column (and offsets, once
  // needed) for what both inputs hold, which a merge that cancels nothing
  // fills exactly. A column grown by doubling instead would hold up to
  // twice its size, and its old copy beside it while it grows, at the
  // moment both inputs are still held.
  void ReserveFor(const B& a, const B& b) {
    reserve_ = a.size() + b.size();
    reserve_keys_ = a.keys.size() + b.keys.size();
    reserve_vals_ = a.vals.size() + b.vals.size();
    batch_->keys.ReserveFor(a.keys, b.keys);
    batch_->vals.ReserveFor(a.vals, b.vals);
  }

  // REQUIRES: (key, val, time) strictly greater than the previous push.
  void Push(const K& key, const V& val, const T& time, const R& diff) {
    B& b = *batch_;
    if (b.keys.empty() || !(b.keys.back() == key)) {
      CloseKey();
      b.keys.push_back(key);
      b.vals.push_back(val);
    } else if (!(b.vals.back() == val)) {
      if (b.key_offsets.empty()) {
        // The current key has a second value: from here on keys index
        // their values through offsets (each earlier key had one).
        b.key_offsets.reserve(std::max(reserve_keys_, b.keys.size()) + 1);
        for (size_t i = 0; i < b.keys.size(); ++i)
          b.key_offsets.push_back(static_cast<typename B::Offset>(i));
      }
      CloseVal();
      b.vals.push_back(val);
    } else if (b.val_offsets.empty() && Stored() == b.vals.size()) {
      // The current value has a second update: from here on values index
      // their runs through offsets (each earlier value had one update).
      b.val_offsets.reserve(std::max(reserve_vals_, b.vals.size()) + 1);
      for (size_t j = 0; j < b.vals.size(); ++j)
        b.val_offsets.push_back(static_cast<typename B::Offset>(j));
    }
    PushUpdate(time, diff);
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
    if (coding_) index_.clear();
    // Reserve() may have over-estimated: give back a large excess.
    auto fit = [](auto& v) {
      if (v.capacity() > v.size() + v.size() / 16 + 16) v.shrink_to_fit();
    };
    b.keys.Fit();
    b.vals.Fit();
    fit(b.key_offsets);
    fit(b.val_offsets);
    fit(b.times);
    fit(b.diffs);
    fit(b.codes);
    fit(b.codes16);
    b.description = std::move(description);
    coding_ = false;
    tried_coding_ = false;
    last_ = 0;
    reserve_ = reserve_keys_ = reserve_vals_ = 0;
    return std::exchange(batch_, std::make_shared<B>());
  }

  size_t size() const { return batch_->size(); }
  size_t Bytes() const { return batch_->Bytes(); }

 private:
  // Updates are stored plainly until there are kCodeAfter of them, then as
  // codes into a dictionary of distinct (time, diff) pairs while there are
  // at most kMaxCodes of those (found by hashing the pair's bytes when they
  // identify it, else by comparison, then at most 256), plainly again if
  // there turn out to be more.
  static constexpr size_t kCodeAfter = 256;
  static constexpr bool kHashable =
      std::has_unique_object_representations_v<T> &&
      std::has_unique_object_representations_v<R>;
  static constexpr size_t kMaxCodes = kHashable ? 65536 : 256;
  using PairBits = std::array<char, sizeof(T) + sizeof(R)>;
  static PairBits Bits(const T& t, const R& r) {
    PairBits bits{};
    if constexpr (kHashable) {
      std::memcpy(bits.data(), &t, sizeof(T));
      std::memcpy(bits.data() + sizeof(T), &r, sizeof(R));
    }
    return bits;
  }

  size_t Stored() const {
    return coding_ ? batch_->codes.size() + batch_->codes16.size()
                   : batch_->times.size();
  }

  void PushUpdate(const T& time, const R& diff) {
    B& b = *batch_;
    if (coding_) {
      size_t c = Code(time, diff);
      if (c < kMaxCodes) {
        if (c >= 256 && !b.codes.empty()) Widen();
        if (b.codes16.empty() && c < 256) {
          b.codes.push_back(static_cast<uint8_t>(c));
        } else {
          b.codes16.push_back(static_cast<uint16_t>(c));
        }
        return;
      }
      Uncode();  // too many distinct pairs: plain from here on
    }
    b.times.push_back(time);
    b.diffs.push_back(diff);
    if (!tried_coding_ && b.times.size() == kCodeAfter) StartCoding();
  }

  // The code of (t, r), added to the dictionary if new; kMaxCodes if full.
  size_t Code(const T& t, const R& r) {
    B& b = *batch_;
    if (!b.dict.empty() && b.dict[last_].first == t &&
        b.dict[last_].second == r) {
      return last_;
    }
    size_t c = b.dict.size();
    if constexpr (kHashable) {
      auto it = index_.find(Bits(t, r));
      if (it != index_.end()) c = it->second;
    } else {
      for (size_t i = 0; i < b.dict.size(); ++i) {
        if (b.dict[i].first == t && b.dict[i].second == r) {
          c = i;
          break;
        }
      }
    }
    if (c == b.dict.size()) {
      if (c == kMaxCodes) return kMaxCodes;
      b.dict.emplace_back(t, r);
      if constexpr (kHashable) index_.emplace(Bits(t, r), c);
    }
    last_ = c;
    return c;
  }

  void StartCoding() {
    B& b = *batch_;
    tried_coding_ = true;
    coding_ = true;
    // kCodeAfter updates have at most 256 distinct pairs: one byte each.
    static_assert(kCodeAfter <= 256);
    b.codes.reserve(std::max(reserve_, b.times.size()));
    for (size_t i = 0; i < b.times.size(); ++i) {
      b.codes.push_back(static_cast<uint8_t>(Code(b.times[i], b.diffs[i])));
    }
    std::vector<T>().swap(b.times);
    std::vector<R>().swap(b.diffs);
  }

  // Codes from one byte to two, at the 257th distinct pair.
  void Widen() {
    B& b = *batch_;
    b.codes16.reserve(std::max(reserve_, b.codes.size()));
    b.codes16.assign(b.codes.begin(), b.codes.end());
    std::vector<uint8_t>().swap(b.codes);
  }

  void Uncode() {
    B& b = *batch_;
    const size_t n = Stored();
    coding_ = false;
    b.times.reserve(std::max(reserve_, n));
    b.diffs.reserve(std::max(reserve_, n));
    for (size_t i = 0; i < n; ++i) {
      const auto& [t, r] = b.Coded(i);
      b.times.push_back(t);
      b.diffs.push_back(r);
    }
    std::vector<uint8_t>().swap(b.codes);
    std::vector<uint16_t>().swap(b.codes16);
    b.dict.clear();
    b.dict.shrink_to_fit();
    index_.clear();
  }

  // Whether stored updates i and j are equal.
  bool SameUpdate(size_t i, size_t j) const {
    const B& b = *batch_;
    if (coding_) {
      return b.codes.empty() ? b.codes16[i] == b.codes16[j]
                             : b.codes[i] == b.codes[j];
    }
    return b.times[i] == b.times[j] && b.diffs[i] == b.diffs[j];
  }
  void PopUpdate() {
    B& b = *batch_;
    if (coding_) {
      if (b.codes.empty()) {
        b.codes16.pop_back();
      } else {
        b.codes.pop_back();
      }
    } else {
      b.times.pop_back();
      b.diffs.pop_back();
    }
  }

  // Ends the last value's run; a run of one update equal to the update
  // stored before it is elided (see the layout above). Nothing to do while
  // every value has one update (no offsets).
  void CloseVal() {
    B& b = *batch_;
    DM_CHECK_MSG(Stored() < UINT32_MAX, "batch exceeds 2^32 updates");
    if (b.val_offsets.empty()) return;
    size_t start = b.val_offsets.back(), end = Stored();
    if (end == start + 1 && start > 0 && SameUpdate(start, start - 1)) {
      PopUpdate();
    }
    b.val_offsets.push_back(static_cast<typename B::Offset>(Stored()));
  }
  // Ends the last key's last value run, if any.
  void CloseKey() {
    B& b = *batch_;
    if (b.keys.empty()) return;
    CloseVal();
    DM_CHECK_MSG(b.vals.size() < UINT32_MAX, "batch exceeds 2^32 values");
    if (b.key_offsets.empty()) return;  // every key so far has one value
    b.key_offsets.push_back(static_cast<typename B::Offset>(b.vals.size()));
  }

  std::shared_ptr<B> batch_;
  bool coding_ = false;
  bool tried_coding_ = false;
  size_t last_ = 0;
  size_t reserve_ = 0;  // updates, and keys and values, at most
  size_t reserve_keys_ = 0;
  size_t reserve_vals_ = 0;
  absl::flat_hash_map<PairBits, uint32_t> index_;
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
    builder_.ReserveFor(*a_, *b_);
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
    size_t va = x.ValBegin(ka), va_end = x.ValEnd(ka);
    size_t vb = 0, vb_end = 0;
    if (y != nullptr) {
      vb = y->ValBegin(kb);
      vb_end = y->ValEnd(kb);
    }
    int64_t work = 1;
    while (va < va_end || vb < vb_end) {
      run_.clear();
      const Bt* from;  // the batch and index of the value pushed
      size_t at;
      if (vb == vb_end || (va < va_end && x.vals[va] < y->vals[vb])) {
        from = &x;
        at = va;
        AppendRun(x, va++);
      } else if (va == va_end || y->vals[vb] < x.vals[va]) {
        from = y;
        at = vb;
        AppendRun(*y, vb++);
      } else {
        from = &x;
        at = va;
        AppendRun(x, va++);
        AppendRun(*y, vb++);
      }
      work += static_cast<int64_t>(run_.size());
      ConsolidatePairs(run_);  // sort by time, sum, drop zeros
      builder_.PushRun(key, from->vals[at], run_);
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
