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
// A chain's block holds its updates' (time, diff) pairs once for the whole
// block while nearly all are equal -- a load is one time and diff +1, but
// for a few repeated updates -- and as a column only once many differ: a
// loaded edge of two 32-bit nodes is 8 bytes in a chain, not 24.
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
// (offset, size) into it, so a block is two allocations (three once its
// pairs differ) however wide its rows, and sorting moves small entries. Merging
// chains copies the bytes into the output blocks' arenas.
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
    if (open_.entries.size() == open_.entries.capacity()) {
      // Small inputs stay small: the buffer doubles up to an eighth of a
      // block, then takes a whole one (growing by doubling to the end would
      // hold one and a half blocks while the last copy is made). It is kept
      // from block to block until the next seal.
      const size_t n = open_.entries.size();
      open_.entries.reserve(n < kBlock / 8 ? std::max<size_t>(64, 2 * n)
                                           : kBlock);
    }
    open_times_.Insert(time);
    Prefix prefix{};
    if constexpr (HasSortPrefix<K>) prefix.key = key.SortPrefix();
    if constexpr (HasSortPrefix<V>) prefix.val = val.SortPrefix();
    open_.entries.push_back(
        Entry{KV{HeldK::Put(std::move(key), &open_.arena),
                 HeldV::Put(std::move(val), &open_.arena), prefix},
              std::move(time), diff});
  }

  Ptr Seal(const Antichain<T>& upper, Antichain<T>* batch_lower) {
    // The open block's buffer is kept only while updates stream: it is
    // given back before the chains are merged, when a seal holds the most.
    if (!open_.entries.empty()) ChainOpenBlock();
    open_ = {};
    while (chains_.size() > 1) MergeLastTwo();
    BatchBuilder<K, V, T, R> builder;
    builder.Reserve(pending());
    ChainWriter kept(pending());
    *batch_lower = Antichain<T>();
    if (!chains_.empty()) {
      for (ChainReader r(chains_[0]); r.Valid(); r.Next()) {
        const T& time = r.time();
        if (upper.LessEqual(time)) {
          kept.Push(r.kv(), r.arena(), time, r.diff());
          continue;
        }
        if constexpr (TotallyOrdered<T>) {
          if (batch_lower->empty() || time < (*batch_lower)[0]) {
            *batch_lower = Antichain<T>(time);
          }
        } else {
          batch_lower->Insert(time);
        }
        builder.Push(HeldK::Get(r.kv().key, r.arena()),
                     HeldV::Get(r.kv().val, r.arena()), time, r.diff());
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
    Antichain<T> result = open_times_.frontier;
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
  using Pair = std::pair<T, R>;
  struct KV {
    typename HeldK::Stored key;
    typename HeldV::Stored val;
    [[no_unique_address]] Prefix prefix;
  };
  // An update of the block being filled.
  struct Entry {
    KV kv;
    T time;
    R diff;
  };
  struct OpenBlock {
    std::vector<Entry> entries;
    std::vector<uint8_t> arena;  // packed keys' and values' bytes
    size_t Bytes() const {
      return entries.capacity() * sizeof(Entry) + arena.capacity();
    }
  };
  // A block of a chain: keys and values, and their (time, diff) pairs
  // collapsed to one -- the usual case for a load, one time and diff +1 -- so
  // such a block holds no time or diff per update. The few updates whose pair
  // differs (a repeated edge of a load sums to +2) are listed apart; only
  // once they are more than an eighth of the block does it hold every
  // update's pair. (Should the block's first update be one of the few, the
  // common pair is chosen again when the list fills.)
  struct Block {
    std::vector<KV> kvs;
    std::vector<uint8_t> arena;    // packed keys' and values' bytes
    Pair common{};                 // the pair of every update not listed below
    std::vector<uint32_t> odd_at;  // ascending positions of the others...
    std::vector<Pair> odd;         // ... and their pairs
    std::vector<Pair> pairs;       // each update's pair, once many differ
    bool rebased = false;          // Rebase was tried

    void Push(KV kv, const T& time, const R& diff) {
      if (kvs.empty()) {
        common = Pair(time, diff);
      } else if (!pairs.empty()) {
        pairs.emplace_back(time, diff);
      } else if (!IsCommon(time, diff)) {
        PushOdd(time, diff);
      }
      kvs.push_back(std::move(kv));
    }
    bool IsCommon(const T& time, const R& diff) const {
      return time == common.first && diff == common.second;
    }
    // Lists an update whose pair is not the common one; past the list's
    // limit, chooses the common pair again or holds every update's pair.
    void PushOdd(const T& time, const R& diff) {
      const size_t limit = std::max<size_t>(kvs.capacity() / 8, 2);
      if (odd.size() >= limit) {
        if (!Rebase(limit / 2)) {
          pairs.reserve(kvs.capacity());
          pairs.assign(kvs.size(), common);
          for (size_t i = 0; i < odd.size(); ++i) pairs[odd_at[i]] = odd[i];
          std::vector<uint32_t>().swap(odd_at);  // `= {}` keeps the memory
          std::vector<Pair>().swap(odd);
          pairs.emplace_back(time, diff);
          return;
        }
        if (IsCommon(time, diff)) return;
      }
      odd_at.push_back(static_cast<uint32_t>(kvs.size()));
      odd.emplace_back(time, diff);
    }
    // Where the first updates were the odd ones (the list is full of one
    // other pair), makes that pair the common one, once per block, if then
    // at most `most` updates are listed.
    bool Rebase(size_t most) {
      if (rebased) return false;
      rebased = true;
      const Pair p = odd[odd.size() / 2];
      size_t differ = kvs.size() - odd.size();
      for (const Pair& o : odd) differ += !(o == p);
      if (differ > most) return false;
      std::vector<uint32_t> at;
      std::vector<Pair> other;
      at.reserve(most);
      other.reserve(most);
      size_t next = 0;  // odd_at[next] is the next listed position
      for (uint32_t i = 0; i < kvs.size(); ++i) {
        const Pair& here =
            next < odd_at.size() && odd_at[next] == i ? odd[next++] : common;
        if (!(here == p)) {
          at.push_back(i);
          other.push_back(here);
        }
      }
      common = p;
      odd_at = std::move(at);
      odd = std::move(other);
      return true;
    }
    size_t Bytes() const {
      return kvs.capacity() * sizeof(KV) + arena.capacity() +
             odd_at.capacity() * sizeof(uint32_t) +
             (odd.capacity() + pairs.capacity()) * sizeof(Pair);
    }
  };
  // The least times among those inserted. Most updates repeat the time
  // before them (a load is one time), and those are skipped.
  struct Times {
    Antichain<T> frontier;
    T last{};
    bool any = false;
    void Insert(const T& time) {
      if (any && time == last) return;
      frontier.Insert(time);
      last = time;
      any = true;
    }
    void Clear() {
      frontier.clear();
      any = false;
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
    explicit ChainReader(Chain& c) : c_(&c) { Enter(); }
    bool Valid() const { return block_ != nullptr; }
    KV& kv() { return block_->kvs[pos_]; }
    const T& time() const { return pair_->first; }
    const R& diff() const { return pair_->second; }
    // The arena of kv()'s block.
    const std::vector<uint8_t>& arena() const { return block_->arena; }
    void Next() {
      if (++pos_ < size_) {
        Point();
        return;
      }
      *block_ = Block();
      ++index_;
      Enter();
    }

   private:
    // Points at the next block with updates (nullptr past the last),
    // freeing empty ones on the way.
    void Enter() {
      while (index_ < c_->blocks.size() && c_->blocks[index_].kvs.empty()) {
        c_->blocks[index_++] = Block();
      }
      block_ = index_ < c_->blocks.size() ? &c_->blocks[index_] : nullptr;
      size_ = block_ != nullptr ? block_->kvs.size() : 0;
      pos_ = 0;
      if (block_ == nullptr) return;
      dense_ = block_->pairs.empty() ? nullptr : block_->pairs.data();
      odd_at_ = block_->odd_at.data();
      odd_end_ = odd_at_ + block_->odd_at.size();
      odd_ = block_->odd.data();
      Point();
    }
    // Finds the pair of the update at pos_ (listed positions are taken in
    // order).
    void Point() {
      if (dense_ != nullptr) {
        pair_ = dense_ + pos_;
      } else if (odd_at_ != odd_end_ && *odd_at_ == pos_) {
        pair_ = odd_++;
        ++odd_at_;
      } else {
        pair_ = &block_->common;
      }
    }
    Chain* c_;
    Block* block_ = nullptr;
    size_t index_ = 0, pos_ = 0, size_ = 0;
    const Pair* pair_ = nullptr;        // the pair of the update at pos_
    const Pair* dense_ = nullptr;       // block_'s pairs, if it holds them all
    const uint32_t* odd_at_ = nullptr;  // its next listed position...
    const uint32_t* odd_end_ = nullptr;
    const Pair* odd_ = nullptr;  // ... and that update's pair
  };

  // Appends updates in order, a block at a time.
  struct ChainWriter {
    // `expected`: at most how many updates will be pushed.
    explicit ChainWriter(size_t expected) : left(expected) {}
    size_t left;
    Chain chain;
    Block current;
    Times times;
    // Appends an update whose key and value are `kv`, held in a block whose
    // arena is `from`.
    void Push(KV& kv, const std::vector<uint8_t>& from, const T& time,
              const R& diff) {
      if (current.kvs.capacity() == 0) {
        current.kvs.reserve(std::min(kBlock, std::max<size_t>(left, 1)));
      }
      if (left > 0) --left;
      times.Insert(time);
      current.Push(KV{HeldK::Move(kv.key, from, &current.arena),
                      HeldV::Move(kv.val, from, &current.arena), kv.prefix},
                   time, diff);
      ++chain.size;
      if (current.kvs.size() == kBlock) {
        chain.blocks.push_back(std::move(current));
        current = {};
      }
    }
    Chain Finish() {
      chain.frontier = std::move(times.frontier);
      if (!current.kvs.empty()) {
        // A short last block (the usual kept chain of a few future updates)
        // gives back the rest of its reservation.
        if (current.kvs.size() < kBlock / 2) {
          current.kvs.shrink_to_fit();
          current.odd_at.shrink_to_fit();
          current.odd.shrink_to_fit();
          current.pairs.shrink_to_fit();
        }
        chain.blocks.push_back(std::move(current));
      }
      return std::move(chain);
    }
  };

  // Compares keys and values held in blocks whose arenas are `aa` and `ba`.
  static int CompareKV(const KV& a, const std::vector<uint8_t>& aa, const KV& b,
                       const std::vector<uint8_t>& ba) {
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
    return OrderOf<V>(HeldV::Get(a.val, aa), HeldV::Get(b.val, ba));
  }
  static int CompareTimes(const T& a, const T& b) {
    return a < b ? -1 : (b < a ? 1 : 0);
  }

  // Sorts and consolidates the open block into a chain of one block, and
  // merges the newest chains while they are of like size; the open block
  // keeps its buffer for the next updates.
  void CloseBlock() {
    ChainOpenBlock();
    while (chains_.size() > 1 &&
           2 * chains_.back().size >= chains_[chains_.size() - 2].size) {
      MergeLastTwo();
    }
  }
  // Sorts and consolidates the open block into a new chain of one block,
  // emptying it (its buffer's memory stays).
  void ChainOpenBlock() {
    const std::vector<uint8_t>& arena = open_.arena;
    std::sort(open_.entries.begin(), open_.entries.end(),
              [&](const Entry& a, const Entry& b) {
                const int c = CompareKV(a.kv, arena, b.kv, arena);
                return c != 0 ? c < 0 : a.time < b.time;
              });
    // Entries that differ only in their diffs are now neighbours; their
    // bytes stay in the arena unused until the block is merged or sealed.
    CoalesceSorted(
        open_.entries,
        [&](const Entry& a, const Entry& b) {
          return a.time == b.time &&
                 HeldK::Get(a.kv.key, arena) == HeldK::Get(b.kv.key, arena) &&
                 HeldV::Get(a.kv.val, arena) == HeldV::Get(b.kv.val, arena);
        },
        [](Entry& e) -> R& { return e.diff; });
    Chain c;
    c.size = open_.entries.size();
    c.frontier = std::move(open_times_.frontier);
    open_times_.Clear();
    if (!open_.entries.empty()) {
      Block b;
      b.kvs.reserve(open_.entries.size());
      for (Entry& e : open_.entries) b.Push(std::move(e.kv), e.time, e.diff);
      b.arena = std::move(open_.arena);
      c.blocks.push_back(std::move(b));
    }
    open_.entries.clear();
    open_.arena = {};
    chains_.push_back(std::move(c));
  }

  // Merges the two newest chains into one, summing equal updates.
  void MergeLastTwo() {
    Chain b = std::move(chains_.back());
    chains_.pop_back();
    Chain a = std::move(chains_.back());
    ChainWriter out(a.size + b.size);
    ChainReader ra(a), rb(b);
    while (ra.Valid() && rb.Valid()) {
      int c = CompareKV(ra.kv(), ra.arena(), rb.kv(), rb.arena());
      if (c == 0) c = CompareTimes(ra.time(), rb.time());
      if (c < 0) {
        out.Push(ra.kv(), ra.arena(), ra.time(), ra.diff());
        ra.Next();
      } else if (c > 0) {
        out.Push(rb.kv(), rb.arena(), rb.time(), rb.diff());
        rb.Next();
      } else {
        R sum = ra.diff();
        AddDiff(sum, rb.diff());
        if (!IsZero(sum)) out.Push(ra.kv(), ra.arena(), ra.time(), sum);
        ra.Next();
        rb.Next();
      }
    }
    for (; ra.Valid(); ra.Next())
      out.Push(ra.kv(), ra.arena(), ra.time(), ra.diff());
    for (; rb.Valid(); rb.Next())
      out.Push(rb.kv(), rb.arena(), rb.time(), rb.diff());
    chains_.back() = out.Finish();
  }

  // Updates per block: large enough to sort efficiently, small enough that a
  // merge's transient extra memory stays negligible.
  static constexpr size_t kBlock = size_t{1} << 14;
  OpenBlock open_;             // the block being filled
  Times open_times_;           // times in open_
  std::vector<Chain> chains_;  // sizes decrease geometrically
  Antichain<T> lower_;
};

}  // namespace diffmesh
