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
#include <iterator>
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
    if (chunks_.empty() || chunks_.back().size() == kChunk) {
      chunks_.emplace_back();
      // Small inputs stay small; a chunk is never reallocated once full.
      chunks_.back().reserve(chunks_.size() == 1 ? 64 : kChunk);
    }
    chunks_.back().push_back(
        {std::move(key), std::move(val), std::move(time), diff});
  }

  Ptr Seal(const Antichain<T>& upper, Antichain<T>* batch_lower) {
    GatherChunks();
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
    builder.Reserve(pending_.size());
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
    for (const auto& chunk : chunks_)
      for (const Entry& e : chunk) result.Insert(e.time);
    return result;
  }
  size_t pending() const {
    size_t n = pending_.size();
    for (const auto& chunk : chunks_) n += chunk.size();
    return n;
  }
  const Antichain<T>& lower() const { return lower_; }

 private:
  struct Entry {
    K key;
    V val;
    T time;
    R diff;
  };
  // Moves pushed chunks behind pending_ (one exact allocation), freeing each
  // chunk as it goes, so the peak is the updates plus one chunk.
  void GatherChunks() {
    if (chunks_.empty()) return;
    size_t total = pending();
    if (pending_.empty() && chunks_.size() == 1) {
      pending_ = std::move(chunks_.front());
    } else {
      pending_.reserve(total);
      for (auto& chunk : chunks_) {
        std::move(chunk.begin(), chunk.end(), std::back_inserter(pending_));
        std::vector<Entry>().swap(chunk);
      }
    }
    chunks_.clear();
  }

  static constexpr size_t kChunk = size_t{1} << 16;
  std::vector<Entry> pending_;              // updates not yet in a batch
  std::vector<std::vector<Entry>> chunks_;  // pushed since the last seal
  Antichain<T> lower_;
};

}  // namespace diffmesh
