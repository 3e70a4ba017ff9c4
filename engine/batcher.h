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
// A key or value type that packs into bytes (engine/column.h: catalog's
// Row) is not held as one object per update: each block keeps the bytes of
// its keys and values back to back in one arena, and an entry holds an
// (offset, size) into it, so a block is two allocations however wide its
// rows, and sorting moves small entries. Merging chains copies the bytes
// into the output blocks' arenas.
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

namespace batcher_internal {

// How a batcher's block holds a key or a value: the value itself...
template <class X>
struct Held {
  using Stored = X;
  static Stored Put(X&& x, std::vector<uint8_t>*) { return std::move(x); }
  static const X& Get(const Stored& s, const std::vector<uint8_t>&) {
    return s;
  }
  static Stored Move(Stored& s, const std::vector<uint8_t>&,
                     std::vector<uint8_t>*) {
    return std::move(s);
  }
};

// ... or, for a type that packs into bytes, its place in the block's arena.
template <PacksIntoBytes X>
struct Held<X> {
  struct Stored {
    uint64_t offset = 0;
    uint64_t size = 0;
  };
  static Stored Put(const X& x, std::vector<uint8_t>* arena) {
    const auto b = x.bytes();
    const auto* p = reinterpret_cast<const uint8_t*>(b.data());
    Stored s{arena->size(), b.size()};
    arena->insert(arena->end(), p, p + b.size());
    return s;
  }
  static X Get(const Stored& s, const std::vector<uint8_t>& arena) {
    return X::View(arena.data() + s.offset, s.size);
  }
  // Copies the bytes from one block's arena to another's.
  static Stored Move(const Stored& s, const std::vector<uint8_t>& from,
                     std::vector<uint8_t>* to) {
    Stored out{to->size(), s.size};
    to->insert(to->end(), from.data() + s.offset,
               from.data() + s.offset + s.size);
    return out;
  }
};

}  // namespace batcher_internal

template <class K, class V, class T, class R>
class Batcher {
 public:
  using Ptr = BatchPtr<K, V, T, R>;

  Batcher() : lower_(Antichain<T>(Minimum<T>())) {}

  void Push(K key, V val, T time, R diff) {
    if (open_.entries.size() == kBlock) CloseBlock();
    if (open_.entries.capacity() == 0) {
      // Small inputs stay small; a block is never reallocated once full.
      open_.entries.reserve(chains_.empty() ? 64 : kBlock);
    }
    open_frontier_.Insert(time);
    Prefix prefix{};
    if constexpr (HasSortPrefix<K>) prefix.key = key.SortPrefix();
    if constexpr (HasSortPrefix<V>) prefix.val = val.SortPrefix();
    open_.entries.push_back(Entry{HeldK::Put(std::move(key), &open_.arena),
                                  HeldV::Put(std::move(val), &open_.arena),
                                  std::move(time), diff, prefix});
  }

  Ptr Seal(const Antichain<T>& upper, Antichain<T>* batch_lower) {
    if (!open_.entries.empty()) CloseBlock();
    while (chains_.size() > 1) MergeLastTwo();
    BatchBuilder<K, V, T, R> builder;
    builder.Reserve(pending());
    ChainWriter kept;
    *batch_lower = Antichain<T>();
    if (!chains_.empty()) {
      for (ChainReader r(chains_[0]); r.Valid(); r.Next()) {
        Entry& e = r.Get();
        if (upper.LessEqual(e.time)) {
          kept.Push(e, r.arena());
          continue;
        }
        if constexpr (TotallyOrdered<T>) {
          if (batch_lower->empty() || e.time < (*batch_lower)[0]) {
            *batch_lower = Antichain<T>(e.time);
          }
        } else {
          batch_lower->Insert(e.time);
        }
        builder.Push(HeldK::Get(e.key, r.arena()), HeldV::Get(e.val, r.arena()),
                     e.time, e.diff);
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
    size_t n = open_.entries.size();
    for (const Chain& c : chains_) n += c.size;
    return n;
  }
  size_t PendingBytes() const {
    size_t n = open_.Bytes();
    for (const Chain& c : chains_)
      for (const Block& b : c.blocks) n += b.Bytes();
    return n;
  }
  const Antichain<T>& lower() const { return lower_; }
  // Nothing is pending (Seal would build an empty batch).
  bool empty() const { return open_.entries.empty() && chains_.empty(); }
  // Moves the lower bound to `upper` when there is nothing to seal: what
  // Seal does, without building an empty batch. REQUIRES: empty().
  void Skip(const Antichain<T>& upper) { lower_ = upper; }

 private:
  struct Prefixes {
    uint64_t key = 0, val = 0;
  };
  struct NoPrefixes {};
  using Prefix = std::conditional_t<HasSortPrefix<K> || HasSortPrefix<V>,
                                    Prefixes, NoPrefixes>;
  using HeldK = batcher_internal::Held<K>;
  using HeldV = batcher_internal::Held<V>;
  struct Entry {
    typename HeldK::Stored key;
    typename HeldV::Stored val;
    T time;
    R diff;
    [[no_unique_address]] Prefix prefix;
  };
  struct Block {
    std::vector<Entry> entries;
    std::vector<uint8_t> arena;  // packed keys' and values' bytes
    size_t Bytes() const {
      return entries.capacity() * sizeof(Entry) + arena.capacity();
    }
  };
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
    Entry& Get() { return c_->blocks[block_].entries[pos_]; }
    // The arena of Get()'s block.
    const std::vector<uint8_t>& arena() const {
      return c_->blocks[block_].arena;
    }
    void Next() {
      ++pos_;
      Skip();
    }

   private:
    void Skip() {
      while (block_ < c_->blocks.size() &&
             pos_ == c_->blocks[block_].entries.size()) {
        c_->blocks[block_++] = Block();
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
    // Appends `e`, held in a block whose arena is `from`.
    void Push(Entry& e, const std::vector<uint8_t>& from) {
      if (current.entries.capacity() == 0) current.entries.reserve(kBlock);
      chain.frontier.Insert(e.time);
      current.entries.push_back(Entry{HeldK::Move(e.key, from, &current.arena),
                                      HeldV::Move(e.val, from, &current.arena),
                                      std::move(e.time), e.diff, e.prefix});
      ++chain.size;
      if (current.entries.size() == kBlock) {
        chain.blocks.push_back(std::move(current));
        current = {};
      }
    }
    Chain Finish() {
      if (!current.entries.empty()) chain.blocks.push_back(std::move(current));
      return std::move(chain);
    }
  };

  // Compares entries held in blocks whose arenas are `aa` and `ba`.
  static int Compare(const Entry& a, const std::vector<uint8_t>& aa,
                     const Entry& b, const std::vector<uint8_t>& ba) {
    if constexpr (HasSortPrefix<K>) {
      if (a.prefix.key != b.prefix.key) {
        return a.prefix.key < b.prefix.key ? -1 : 1;
      }
    }
    if (int c = OrderOf<K>(HeldK::Get(a.key, aa), HeldK::Get(b.key, ba))) {
      return c;
    }
    if constexpr (HasSortPrefix<V>) {
      if (a.prefix.val != b.prefix.val) {
        return a.prefix.val < b.prefix.val ? -1 : 1;
      }
    }
    if (int c = OrderOf<V>(HeldV::Get(a.val, aa), HeldV::Get(b.val, ba))) {
      return c;
    }
    return a.time < b.time ? -1 : (b.time < a.time ? 1 : 0);
  }

  void CloseBlock() {
    const std::vector<uint8_t>& arena = open_.arena;
    std::sort(open_.entries.begin(), open_.entries.end(),
              [&](const Entry& a, const Entry& b) {
                return Compare(a, arena, b, arena) < 0;
              });
    // Entries that differ only in their diffs are now neighbours; their
    // bytes stay in the arena unused until the block is merged or sealed.
    CoalesceSorted(
        open_.entries,
        [&](const Entry& a, const Entry& b) {
          return a.time == b.time &&
                 HeldK::Get(a.key, arena) == HeldK::Get(b.key, arena) &&
                 HeldV::Get(a.val, arena) == HeldV::Get(b.val, arena);
        },
        [](Entry& e) -> R& { return e.diff; });
    Chain c;
    c.size = open_.entries.size();
    c.frontier = std::move(open_frontier_);
    open_frontier_.clear();
    if (!open_.entries.empty()) c.blocks.push_back(std::move(open_));
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
      const int c = Compare(x, ra.arena(), y, rb.arena());
      if (c < 0) {
        out.Push(x, ra.arena());
        ra.Next();
      } else if (c > 0) {
        out.Push(y, rb.arena());
        rb.Next();
      } else {
        AddDiff(x.diff, y.diff);
        if (!IsZero(x.diff)) out.Push(x, ra.arena());
        ra.Next();
        rb.Next();
      }
    }
    for (; ra.Valid(); ra.Next()) out.Push(ra.Get(), ra.arena());
    for (; rb.Valid(); rb.Next()) out.Push(rb.Get(), rb.arena());
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
