// The batcher: collects unsorted updates and seals the ones the input
// frontier has passed into an immutable batch.
//
//   Batcher<K, V, T, R> batcher;
//   batcher.Push(key, val, time, diff);
//   auto batch = batcher.Seal(Antichain<T>(next));   // times not beyond next
//
// Sealing sorts and consolidates what is pending (O(n log n)); updates at
// times beyond the new upper stay pending, consolidated.
//
// Invariants: sealed batches are contiguous: each batch's lower is the
// previous batch's upper.
#pragma once

#include <algorithm>
#include <utility>
#include <vector>

#include "engine/batch.h"

namespace diffmesh {

template <class K, class V, class T, class R>
class Batcher {
 public:
  using Ptr = BatchPtr<K, V, T, R>;

  Batcher() : lower_(Antichain<T>(Minimum<T>())) {}

  void Push(K key, V val, T time, R diff) {
    pending_.push_back({std::move(key), std::move(val), std::move(time), diff});
  }

  // Seals the pending updates at times not beyond `upper` into a batch
  // [lower, upper); returns it (possibly empty). Also returns in
  // `*batch_lower` the lower envelope of the sealed updates' times.
  Ptr Seal(const Antichain<T>& upper, Antichain<T>* batch_lower) {
    std::sort(pending_.begin(), pending_.end(),
              [](const Entry& a, const Entry& b) {
                if (a.key < b.key) return true;
                if (b.key < a.key) return false;
                if (a.val < b.val) return true;
                if (b.val < a.val) return false;
                return a.time < b.time;
              });
    CoalesceSorted(
        pending_,
        [](const Entry& a, const Entry& b) {
          return a.time == b.time && a.key == b.key && a.val == b.val;
        },
        [](Entry& e) -> R& { return e.diff; });
    BatchBuilder<K, V, T, R> builder;
    std::vector<Entry> kept;
    *batch_lower = Antichain<T>();
    for (Entry& e : pending_) {
      if (upper.LessEqual(e.time)) {
        kept.push_back(std::move(e));
      } else {
        if constexpr (TotallyOrdered<T>) {
          if (batch_lower->empty() || e.time < (*batch_lower)[0]) {
            *batch_lower = Antichain<T>(e.time);
          }
        } else {
          batch_lower->Insert(e.time);
        }
        builder.Push(e.key, e.val, e.time, e.diff);
      }
    }
    pending_ = std::move(kept);
    Ptr batch = builder.Build({lower_, upper, Antichain<T>(Minimum<T>())});
    lower_ = upper;
    return batch;
  }

  // The lower envelope of pending times: what the arrange must still be
  // allowed to emit.
  Antichain<T> PendingFrontier() const {
    Antichain<T> result;
    for (const Entry& e : pending_) result.Insert(e.time);
    return result;
  }
  size_t pending() const { return pending_.size(); }
  const Antichain<T>& lower() const { return lower_; }

 private:
  struct Entry {
    K key;
    V val;
    T time;
    R diff;
  };
  std::vector<Entry> pending_;
  Antichain<T> lower_;
};

}  // namespace diffmesh
