// Shared traces: one arranged spine read by many operators through
// reference-counted reader handles.
//
//   auto trace = std::make_shared<Trace<K, V, T, R>>();
//   TraceReader<K, V, T, R> reader(trace);        // holds since back
//   reader.SetSince(frontier);                    // allows compaction
//   auto cursor = reader.CursorThrough(reader.acknowledged());
//
// Every inserted batch gets a sequence number. A reader acknowledges the
// batches it has received as messages; CursorThrough(seq) shows the trace as
// of batch `seq` by adding the newer batches negated, so operators read
// exactly what they have been told about, whatever the merges did.
//
// Invariants: the spine's since is the meet of every live reader's since
// (with no readers, the trace compacts up to its upper); `recent` keeps the
// batches newer than the oldest acknowledgement. Dropping a reader releases
// both its holds.
//
// Memory: HeldBytes counts everything the trace keeps alive, the spine and
// the batches a reader has not acknowledged that the spine has merged away
// since (PinnedBytes). A reader that stops acknowledging pins every batch
// inserted after its last acknowledgement: UnacknowledgedBatches reports how
// far the slowest reader lags, and acknowledging or releasing frees it.
// The arrange operator drops a trace that has no reader and no other owner
// (operators/arrange.h), so a trace nobody can read is not maintained.
//
// Thread compatibility: a trace belongs to one worker.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "engine/spine.h"

namespace diffmesh {

template <class K, class V, class T, class R>
class Trace {
 public:
  using Ptr = BatchPtr<K, V, T, R>;

  // Appends a batch; returns its sequence number.
  uint64_t Insert(Ptr batch) {
    uint64_t seq = ++seq_;
    if (!batch->empty() && !readers_.empty()) recent_.emplace_back(seq, batch);
    Tell(&batch, seq, batch->description.upper);
    spine_.Insert(std::move(batch));
    UpdateSince();
    return seq;
  }

  // The trace is complete up to `upper` with nothing new: an empty batch,
  // which no reader needs to see (takes no sequence number).
  void Advance(const Antichain<T>& upper) {
    spine_.AdvanceUpper(upper);
    Tell(nullptr, seq_, upper);
    UpdateSince();
  }

  // What a dataflow that imports the trace (operators/import.h) hears of
  // it from then on: each inserted batch with its sequence number, and the
  // upper after it, in order. The listener calls `wake` when it gets news.
  struct Listener {
    struct News {
      Ptr batch;  // null: only the upper moved
      uint64_t seq = 0;
      Antichain<T> upper;
    };
    std::deque<News> news;
    std::function<void()> wake;
  };
  // Adds a listener, held weakly: dropping it unregisters it.
  void Listen(const std::shared_ptr<Listener>& listener) {
    listeners_.push_back(listener);
  }
  // The batches that hold the trace's contents now (a merge's inputs while
  // it runs), newest first.
  std::vector<Ptr> Batches() const {
    std::vector<Ptr> out;
    spine_.ForEachBatch([&](const Ptr& b) {
      if (b != nullptr && !b->empty()) out.push_back(b);
    });
    return out;
  }

  uint64_t sequence() const { return seq_; }
  const Spine<K, V, T, R>& spine() const { return spine_; }
  Spine<K, V, T, R>& spine() { return spine_; }
  size_t StoredUpdates() const { return spine_.StoredUpdates(); }
  size_t StoredBytes() const { return spine_.StoredBytes(); }
  size_t NumReaders() const { return readers_.size(); }

  // Batches kept only for readers that have not acknowledged them (the
  // spine no longer holds them, merged or compacted).
  size_t PinnedUpdates() const {
    return SumPinned([](const auto& b) { return b.size(); });
  }
  size_t PinnedBytes() const {
    return SumPinned([](const auto& b) { return b.Bytes(); });
  }
  // Everything the trace keeps alive: the spine plus the pinned batches.
  size_t HeldUpdates() const { return StoredUpdates() + PinnedUpdates(); }
  size_t HeldBytes() const { return StoredBytes() + PinnedBytes(); }
  // Whether the trace keeps `batch` alive (in its spine or for a reader).
  bool Keeps(const Batch<K, V, T, R>* batch) const {
    if (spine_.Holds(batch)) return true;
    for (const auto& [s, b] : recent_) {
      if (b.get() == batch) return true;
    }
    return false;
  }
  // HeldBytes by part: the spine's batches by column, the rest as pinned.
  void AddBytesTo(HeldByteParts* parts) const {
    spine_.AddBytesTo(parts);
    parts->pinned += PinnedBytes();
  }
  // How many batches the least advanced reader has not acknowledged.
  uint64_t UnacknowledgedBatches() const { return seq_ - OldestAcknowledged(); }

  // A cursor over the trace as of batch `seq`.
  TraceCursor<K, V, T, R> CursorThrough(uint64_t seq) const {
    TraceCursor<K, V, T, R> cursor;
    spine_.AddTo(&cursor);
    for (const auto& [s, batch] : recent_) {
      if (s > seq) cursor.Add(batch, /*negate=*/true);
    }
    return cursor;
  }

 private:
  template <class, class, class, class>
  friend class TraceReader;

  struct ReaderState {
    Antichain<T> since;
    uint64_t acknowledged;
  };

  int AddReader() {
    int id = next_reader_++;
    readers_[id] = ReaderState{spine_.since(), seq_};
    return id;
  }
  void RemoveReader(int id) {
    readers_.erase(id);
    UpdateSince();
    TrimRecent();
  }
  void SetReaderSince(int id, const Antichain<T>& since) {
    readers_[id].since = since;
    UpdateSince();
  }
  void Acknowledge(int id, uint64_t seq) {
    readers_[id].acknowledged = seq;
    TrimRecent();
  }

  void UpdateSince() {
    Antichain<T> since;
    bool any = false;
    for (const auto& [id, r] : readers_) {
      if (r.since.empty()) continue;
      since = any ? MeetFrontiers(since, r.since) : r.since;
      any = true;
    }
    if (!any) {
      if (!readers_.empty() || spine_.upper().empty()) return;
      since = spine_.upper();
    }
    // Compaction only moves forward.
    if (spine_.since().Dominates(since) && !(since == spine_.since())) {
      spine_.SetSince(std::move(since));
    }
  }
  uint64_t OldestAcknowledged() const {
    uint64_t oldest = seq_;
    for (const auto& [id, r] : readers_)
      oldest = std::min(oldest, r.acknowledged);
    return oldest;
  }
  void TrimRecent() {
    const uint64_t oldest = OldestAcknowledged();
    while (!recent_.empty() && recent_.front().first <= oldest)
      recent_.pop_front();
  }

  void Tell(const Ptr* batch, uint64_t seq, const Antichain<T>& upper) {
    for (auto it = listeners_.begin(); it != listeners_.end();) {
      std::shared_ptr<Listener> l = it->lock();
      if (l == nullptr) {
        it = listeners_.erase(it);
        continue;
      }
      typename Listener::News& n = l->news.emplace_back();
      if (batch != nullptr && !(*batch)->empty()) n.batch = *batch;
      n.seq = seq;
      n.upper = upper;
      if (l->wake) l->wake();
      ++it;
    }
  }

  template <class Of>
  size_t SumPinned(Of of) const {
    size_t total = 0;
    for (const auto& [s, batch] : recent_) {
      if (!spine_.Holds(batch.get())) total += of(*batch);
    }
    return total;
  }

  Spine<K, V, T, R> spine_;
  uint64_t seq_ = 0;
  std::deque<std::pair<uint64_t, Ptr>> recent_;
  std::map<int, ReaderState> readers_;
  int next_reader_ = 0;
  std::vector<std::weak_ptr<Listener>> listeners_;
};

// A trace's contents when a dataflow imported it (operators/import.h): the
// batches that held them and the sequence number they are as of. The
// import sends these batches first; a reader in the importing dataflow
// reads the trace without them until it has received them.
template <class K, class V, class T, class R>
struct ImportBase {
  std::vector<BatchPtr<K, V, T, R>> batches;
  uint64_t seq = 0;
};

// A reader's hold on a shared trace. Movable, not copyable; releases its
// holds when destroyed or Released.
template <class K, class V, class T, class R>
class TraceReader {
 public:
  using TraceT = Trace<K, V, T, R>;

  TraceReader() = default;
  explicit TraceReader(std::shared_ptr<TraceT> trace)
      : trace_(std::move(trace)), id_(trace_->AddReader()) {}
  // A reader in a dataflow that imported the trace at `base` (null: not
  // imported): it has received nothing yet.
  TraceReader(std::shared_ptr<TraceT> trace,
              const std::shared_ptr<const ImportBase<K, V, T, R>>& base)
      : TraceReader(std::move(trace)) {
    if (base == nullptr) return;
    // The import's own reader holds every batch after base->seq.
    trace_->readers_.at(id_).acknowledged = base->seq;
    unreceived_ = base->batches;
  }
  TraceReader(TraceReader&& other) noexcept
      : trace_(std::move(other.trace_)),
        id_(other.id_),
        unreceived_(std::move(other.unreceived_)) {}
  TraceReader& operator=(TraceReader&& other) noexcept {
    Release();
    trace_ = std::move(other.trace_);
    id_ = other.id_;
    unreceived_ = std::move(other.unreceived_);
    return *this;
  }
  ~TraceReader() { Release(); }

  void SetSince(const Antichain<T>& since) {
    if (trace_) trace_->SetReaderSince(id_, since);
  }
  void Acknowledge(uint64_t seq) {
    if (trace_) trace_->Acknowledge(id_, seq);
  }
  // The reader received `batch`, numbered `seq` (a batch message).
  void Received(const BatchPtr<K, V, T, R>& batch, uint64_t seq) {
    if (!unreceived_.empty()) std::erase(unreceived_, batch);
    Acknowledge(seq);
  }
  uint64_t acknowledged() const {
    return trace_->readers_.at(id_).acknowledged;
  }
  TraceCursor<K, V, T, R> CursorThrough(uint64_t seq) const {
    return trace_->CursorThrough(seq);
  }
  // The trace as of the last acknowledged batch (without an import's
  // base batches not received yet).
  TraceCursor<K, V, T, R> Cursor() const {
    TraceCursor<K, V, T, R> cursor = CursorThrough(acknowledged());
    for (const auto& batch : unreceived_) cursor.Add(batch, /*negate=*/true);
    return cursor;
  }
  void Release() {
    if (trace_) trace_->RemoveReader(id_);
    trace_.reset();
    unreceived_.clear();
  }
  bool valid() const { return trace_ != nullptr; }
  const std::shared_ptr<TraceT>& trace() const { return trace_; }

 private:
  std::shared_ptr<TraceT> trace_;
  int id_ = -1;
  std::vector<BatchPtr<K, V, T, R>> unreceived_;  // of an import's base
};

}  // namespace diffmesh
