// The batcher: collects unsorted updates and seals the ones the input
// frontier has passed into an immutable batch.
//
//   Batcher<K, V, T, R> batcher;
//   batcher.Push(key, val, time, diff);
//   auto batch = batcher.Seal(Antichain<T>(next));   // times not beyond next
//
// Updates collect in a block of fixed size; a full block is sorted and
// consolidated (cache-sized work) and becomes a chain. Chains are kept in
// geometrically decreasing sizes: when the newest is at least half the size
// of the one before, the two are merged, consolidating updates that cancel
// or repeat across them (O(n log n) in total), so a stream with many repeats
// is held at about its distinct size. Chains are lists of blocks and a merge
// frees input blocks as it consumes them, so merging needs no second copy.
// Sealing merges the chains and streams the result into the batch builder;
// updates at times beyond the new upper stay pending as one chain.
//
// Sorting compares keys, then values, then times, each once (three-way
// where the type has a total order). A key or value type may offer
// `uint64_t SortPrefix() const`, an integer that never contradicts its
// order (a < b implies a.SortPrefix() <= b.SortPrefix(), as catalog's Row
// does): entries then carry the prefixes and compare them before the
// whole keys or values, so most comparisons are of two integers.
//
// Invariants: sealed batches are contiguous: each batch's lower is the
// previous batch's upper.
#pragma once

#include <algorithm>
#include <compare>
#include <concepts>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/batch.h"

namespace diffmesh {

template <class X>
concept HasSortPrefix = requires(const X& x) {
  { x.SortPrefix() } -> std::convertible_to<uint64_t>;
};

template <class K, class V, class T, class R>
class Batcher {
 public:
  using Ptr = BatchPtr<K, V, T, R>;

  Batcher() : lower_(Antichain<T>(Minimum<T>())) {}

  void Push(K key, V val, T time, R diff) {
    if (open_.size() == kBlock) CloseBlock();
    if (open_.capacity() == 0) {
      // Small inputs stay small; a block is never reallocated once full.
      open_.reserve(chains_.empty() ? 64 : kBlock);
    }
    open_frontier_.Insert(time);
    Entry& e = open_.emplace_back(
        Entry{std::move(key), std::move(val), std::move(time), diff, {}});
    if constexpr (HasSortPrefix<K>) e.prefix.key = e.key.SortPrefix();
    if constexpr (HasSortPrefix<V>) e.prefix.val = e.val.SortPrefix();
  }

  Ptr Seal(const Antichain<T>& upper, Antichain<T>* batch_lower) {
    if (!open_.empty()) CloseBlock();
    while (chains_.size() > 1) MergeLastTwo();
    BatchBuilder<K, V, T, R> builder;
    builder.Reserve(pending());
    ChainWriter kept;
    *batch_lower = Antichain<T>();
    if (!chains_.empty()) {
      for (ChainReader r(chains_[0]); r.Valid(); r.Next()) {
        Entry& e = r.Get();
        if (upper.LessEqual(e.time)) {
          kept.Push(std::move(e));
          continue;
        }
        if constexpr (TotallyOrdered<T>) {
          if (batch_lower->empty() || e.time < (*batch_lower)[0]) {
            *batch_lower = Antichain<T>(e.time);
          }
        } else {
          batch_lower->Insert(e.time);
        }
        builder.Push(e.key, e.val, e.time, e.diff);
      }
      chains_.clear();
    }
    if (kept.chain.size > 0) chains_.push_back(kept.Finish());
    Ptr batch = builder.Build({lower_, upper, Antichain<T>(Minimum<T>())});
    lower_ = upper;
    return batch;
  }

  // The times of pending updates (a lower bound: updates that cancelled in
  // a merge may still count until the next seal).
  Antichain<T> PendingFrontier() const {
    Antichain<T> result = open_frontier_;
    for (const Chain& c : chains_)
      for (const T& t : c.frontier) result.Insert(t);
    return result;
  }
  size_t pending() const {
    size_t n = open_.size();
    for (const Chain& c : chains_) n += c.size;
    return n;
  }
  size_t PendingBytes() const {
    size_t n = open_.capacity();
    for (const Chain& c : chains_)
      for (const Block& b : c.blocks) n += b.capacity();
    return n * sizeof(Entry);
  }
  const Antichain<T>& lower() const { return lower_; }
  // Nothing is pending (Seal would build an empty batch).
  bool empty() const { return open_.empty() && chains_.empty(); }
  // Moves the lower bound to `upper` when there is nothing to seal: what
  // Seal does, without building an empty batch. REQUIRES: empty().
  void Skip(const Antichain<T>& upper) { lower_ = upper; }

 private:
  struct Prefixes {
    uint64_t key = 0, val = 0;
  };
  struct NoPrefixes {};
  struct Entry {
    K key;
    V val;
    T time;
    R diff;
    [[no_unique_address]] std::conditional_t<
        HasSortPrefix<K> || HasSortPrefix<V>, Prefixes, NoPrefixes>
        prefix;
  };
  using Block = std::vector<Entry>;
  struct Chain {
    std::vector<Block> blocks;  // sorted, consolidated across blocks
    size_t size = 0;
    Antichain<T> frontier;
  };

  // Reads a chain front to back, freeing each block once passed.
  class ChainReader {
   public:
    explicit ChainReader(Chain& c) : c_(&c) { Skip(); }
    bool Valid() const { return block_ < c_->blocks.size(); }
    Entry& Get() { return c_->blocks[block_][pos_]; }
    void Next() {
      ++pos_;
      Skip();
    }

   private:
    void Skip() {
      while (block_ < c_->blocks.size() && pos_ == c_->blocks[block_].size()) {
        Block().swap(c_->blocks[block_++]);
        pos_ = 0;
      }
    }
    Chain* c_;
    size_t block_ = 0, pos_ = 0;
  };

  // Appends entries in order, a block at a time.
  struct ChainWriter {
    Chain chain;
    Block current;
    void Push(Entry&& e) {
      if (current.capacity() == 0) current.reserve(kBlock);
      chain.frontier.Insert(e.time);
      current.push_back(std::move(e));
      ++chain.size;
      if (current.size() == kBlock) {
        chain.blocks.push_back(std::move(current));
        current = {};
      }
    }
    Chain Finish() {
      if (!current.empty()) chain.blocks.push_back(std::move(current));
      return std::move(chain);
    }
  };

  template <class X>
  static int Order(const X& a, const X& b) {
    return OrderOf(a, b);
  }
  static int Compare(const Entry& a, const Entry& b) {
    if constexpr (HasSortPrefix<K>) {
      if (a.prefix.key != b.prefix.key) {
        return a.prefix.key < b.prefix.key ? -1 : 1;
      }
    }
    if (int c = Order(a.key, b.key)) return c;
    if constexpr (HasSortPrefix<V>) {
      if (a.prefix.val != b.prefix.val) {
        return a.prefix.val < b.prefix.val ? -1 : 1;
      }
    }
    if (int c = Order(a.val, b.val)) return c;
    return a.time < b.time ? -1 : (b.time < a.time ? 1 : 0);
  }
  static bool Less(const Entry& a, const Entry& b) { return Compare(a, b) < 0; }
  static bool Same(const Entry& a, const Entry& b) {
    return a.time == b.time && a.key == b.key && a.val == b.val;
  }

  void CloseBlock() {
    std::sort(open_.begin(), open_.end(), Less);
    CoalesceSorted(open_, Same, [](Entry& e) -> R& { return e.diff; });
    Chain c;
    c.size = open_.size();
    c.frontier = std::move(open_frontier_);
    open_frontier_ = Antichain<T>();
    if (!open_.empty()) c.blocks.push_back(std::move(open_));
    open_ = {};
    chains_.push_back(std::move(c));
    while (chains_.size() > 1 &&
           2 * chains_.back().size >= chains_[chains_.size() - 2].size) {
      MergeLastTwo();
    }
  }

  // Merges the two newest chains into one, summing equal updates.
  void MergeLastTwo() {
    Chain b = std::move(chains_.back());
    chains_.pop_back();
    Chain a = std::move(chains_.back());
    ChainWriter out;
    ChainReader ra(a), rb(b);
    while (ra.Valid() && rb.Valid()) {
      Entry& x = ra.Get();
      Entry& y = rb.Get();
      const int c = Compare(x, y);
      if (c < 0) {
        out.Push(std::move(x));
        ra.Next();
      } else if (c > 0) {
        out.Push(std::move(y));
        rb.Next();
      } else {
        AddDiff(x.diff, y.diff);
        if (!IsZero(x.diff)) out.Push(std::move(x));
        ra.Next();
        rb.Next();
      }
    }
    for (; ra.Valid(); ra.Next()) out.Push(std::move(ra.Get()));
    for (; rb.Valid(); rb.Next()) out.Push(std::move(rb.Get()));
    chains_.back() = out.Finish();
  }

  // Updates per block: large enough to sort efficiently, small enough that a
  // merge's transient extra memory stays negligible.
  static constexpr size_t kBlock = size_t{1} << 14;
  Block open_;                  // the block being filled
  Antichain<T> open_frontier_;  // times in open_
  std::vector<Chain> chains_;   // sizes decrease geometrically
  Antichain<T> lower_;
};

}  // namespace diffmesh
