// Fabric: how the workers of one Runtime talk to each other. Everything that
// crosses workers is a message put into a mailbox owned by the receiving
// worker; no worker reads another worker's dataflow state.
//
//   Fabric fabric(/*peers=*/2);
//   auto box = fabric.Channel<Mailbox<int>>(ChannelKey{0, 3, 0});
//   box->Push(0, 1, 42);         // worker 0 to worker 1 (wakes it if parked)
//   std::vector<int> got; box->DrainInto(1, &got);
//
// Channels are named by where they are used (dataflow, operator, purpose),
// so workers that build the same dataflows in the same order meet on the
// same channel without talking first.
//
// Across processes (Fabric(threads, link)): worker ids are global. A
// message between two workers of this process takes the in-memory lane as
// before; one to a worker of another process is encoded (engine/wire.h)
// into a frame, appended to that process's outbox, and sent with the rest
// of the outbox as one batch by the next Pump (a worker pumps after each
// step and while it waits). Whoever pumps also receives: it splits each
// batch into frames and hands each to its channel, which keeps it encoded
// until its receiver drains it. Frames for a channel this process has not
// made yet (its workers have not built that dataflow) wait in the fabric
// until the channel is made. Order: frames from one worker to another
// leave in the order queued, in batches that arrive in the order sent
// (ProcessLink), so each (sender, receiver) pair stays FIFO.
//
// Thread-safety: every member is safe to call from any worker thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <type_traits>
#include <typeindex>
#include <typeinfo>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "engine/check.h"
#include "engine/process_link.h"
#include "engine/wire.h"

namespace diffmesh {

// Wakes a parked worker when something is delivered to it.
//
// Protocol (no lost wake-ups): the receiver reads `Seen()` before it looks
// at its mailboxes; it parks only if the counter still equals that value
// after announcing that it sleeps. A sender bumps the counter first and only
// then checks whether the receiver sleeps (both sequentially consistent).
class Doorbell {
 public:
  uint64_t Seen() const { return rings_.load(std::memory_order_seq_cst); }
  void Ring() {
    rings_.fetch_add(1, std::memory_order_seq_cst);
    if (sleeping_.load(std::memory_order_seq_cst)) {
      std::lock_guard<std::mutex> lock(mutex_);
      wake_.notify_one();
    }
  }
  // Spins for a few microseconds (a round trip between workers on different
  // cores takes well under one); returns whether the counter moved past
  // `seen`.
  bool Spin(uint64_t seen) const;
  // Waits until the counter moves past `seen`: spins, then yields, then
  // sleeps. Returns early on a ring.
  void Wait(uint64_t seen);
  // Wait's last phase alone: sleeps until the counter moves past `seen`,
  // woken by Ring (at most kSleepLimit).
  void Sleep(uint64_t seen);

  // How often Wait slept, and how often a sleep ended by its timeout with a
  // ring already there: a lost wake-up, which the timeout only bounds (a
  // test asserts there are none).
  uint64_t sleeps() const { return sleeps_.load(); }
  uint64_t late_wakeups() const { return late_wakeups_.load(); }
  static constexpr std::chrono::milliseconds kSleepLimit{50};

 private:
  std::atomic<uint64_t> sleeps_{0};
  std::atomic<uint64_t> late_wakeups_{0};
  std::atomic<uint64_t> rings_{0};
  std::atomic<bool> sleeping_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
};

// Identifies a channel: the dataflow's index (in creation order), the
// operator's index in it, and a purpose tag for operators with several.
struct ChannelKey {
  int dataflow;
  int op;
  int purpose;
  friend bool operator<(const ChannelKey& a, const ChannelKey& b) {
    return std::tie(a.dataflow, a.op, a.purpose) <
           std::tie(b.dataflow, b.op, b.purpose);
  }
  friend bool operator==(const ChannelKey&, const ChannelKey&) = default;
};

// A channel that receives messages from workers of other processes.
class RemoteInbox {
 public:
  virtual ~RemoteInbox() = default;
  // The encoded message `bytes` from worker `from` (another process's) to
  // worker `to` (this process's), or to each of this process's workers
  // when `to` is kEveryWorker: a part of `batch`, which the inbox may keep
  // instead of copying the bytes. Called by whichever thread pumps.
  virtual void Deliver(int from, int to,
                       std::shared_ptr<const std::string> batch,
                       absl::string_view bytes) = 0;
};

// One frame of a batch between processes: a message for one worker on one
// channel. A frame whose channel's dataflow is kControlDataflow is the
// fabric's own (the end of a run); kOutsideDataflows names channels that
// belong to no dataflow, made by the layers above (the mesh's
// AgreementRelay, catalog/agreement_relay.h).
struct FrameHeader {
  int32_t dataflow;
  int32_t op;
  int32_t purpose;
  int32_t from;
  int32_t to;
  uint32_t size;  // bytes of the message after the header
};
inline constexpr int32_t kControlDataflow = -1;
inline constexpr int32_t kOutsideDataflows = -2;
// A frame's `to` for a message to every worker of the receiving process
// (Mailbox::Broadcast): encoded and sent once per process, not per worker.
inline constexpr int32_t kEveryWorker = -1;

// Splits a batch received from another process into its frames, calling
// `frame(header, message bytes)` for each. DataLoss naming the byte offset
// when the batch is cut short or a frame names a worker outside
// [0, peers) (or kEveryWorker as its receiver).
absl::Status ParseFrames(
    absl::string_view batch, int peers,
    const std::function<void(const FrameHeader&, absl::string_view)>& frame);
// The same, with the refusal as text (empty when the batch is whole): what
// the fabric itself calls, so a run builds no absl::Status (see Runtime's
// CoreBody); ParseFrames is in engine/frames.cc.
std::string CheckFrames(
    absl::string_view batch, int peers,
    const std::function<void(const FrameHeader&, absl::string_view)>& frame);

// What a worker's body returned when it failed, as it travels at the end
// of a run.
struct WorkerFailure {
  int32_t worker = 0;
  int32_t code = 0;  // absl::StatusCode
  std::string message;
  template <class Self>
  static auto WireFields(Self& self) {
    return std::tie(self.worker, self.code, self.message);
  }
};

class Fabric {
 public:
  // `peers` workers, all in this process.
  explicit Fabric(int peers);
  // `threads` workers in this process, and as many in each of the others
  // `link` reaches: worker ids are global, process p's are
  // [p * threads, (p + 1) * threads). REQUIRES: `link` outlives the fabric.
  Fabric(int threads, ProcessLink* link);
  Fabric(const Fabric&) = delete;
  Fabric& operator=(const Fabric&) = delete;

  // Workers in every process, and in this one.
  int peers() const { return peers_; }
  int threads() const { return threads_; }
  // The global id of this process's first worker.
  int first() const { return first_; }
  bool IsLocal(int worker) const {
    return worker >= first_ && worker < first_ + threads_;
  }
  // Null when every worker is in this process.
  ProcessLink* link() const { return link_; }
  // REQUIRES: IsLocal(worker).
  Doorbell& doorbell(int worker) { return doorbells_[worker - first_]; }

  // The channel named `key`, made by the first worker that asks:
  // `std::make_shared<C>(this, key, args...)`. Every worker must ask for
  // the same type under the same key (i.e. build the same dataflows in the
  // same order); a mismatch is a programming error and aborts. A channel
  // that is a RemoteInbox gets the messages other processes sent to it
  // before it was made.
  template <class C, class... Args>
  std::shared_ptr<C> Channel(const ChannelKey& key, Args&&... args) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto [it, fresh] = channels_.try_emplace(key, typeid(C), nullptr);
    if (fresh) {
      auto channel =
          std::make_shared<C>(this, key, std::forward<Args>(args)...);
      it->second.second = channel;
      if constexpr (std::is_base_of_v<RemoteInbox, C>) {
        AdoptEarlyFrames(key, channel.get());
      }
    }
    DM_CHECK_MSG(it->second.first == std::type_index(typeid(C)),
                 "workers built different dataflows: a channel was asked for "
                 "with two types");
    return std::static_pointer_cast<C>(it->second.second);
  }

  // Queues a message for worker `to` of another process: a frame header,
  // then what `encode(WireWriter&)` writes. Sent by the next Pump, in the
  // order queued.
  template <class Encode>
  void SendFrame(const ChannelKey& key, int from, int to, Encode&& encode) {
    QueueFrame(key, from, to / threads_, to, std::forward<Encode>(encode));
  }
  // The same, one frame for every worker of process `process` (kEveryWorker).
  template <class Encode>
  void SendFrameToEvery(const ChannelKey& key, int from, int process,
                        Encode&& encode) {
    QueueFrame(key, from, process, kEveryWorker, std::forward<Encode>(encode));
  }
  int processes() const { return processes_; }
  // Frames queued for other processes so far (each is encoded once).
  uint64_t frames_sent() const {
    return frames_sent_.load(std::memory_order_relaxed);
  }

  // Sends what is queued for other processes and delivers what arrived
  // from them. Any thread may call it; it returns at once when another
  // thread is already pumping. A no-op within one process.
  void Pump();
  // Doorbell::Spin and Doorbell::Wait for worker `worker`, pumping while
  // they wait when there are other processes (nothing else would receive
  // their messages).
  bool Spin(int worker, uint64_t seen);
  void Wait(int worker, uint64_t seen);

  // The end of a run across processes, called once by this process after
  // all its workers are done: tells every other process which of this
  // process's workers failed and waits until each has said the same.
  // Returns the failures of every process, ordered by worker.
  std::vector<WorkerFailure> Finish(std::vector<WorkerFailure> local);

  static constexpr size_t kMaxFrameBytes = size_t{1} << 30;
  // How often Wait yields between pumps before it sleeps between them.
  static constexpr int kYields = 200;

 private:
  template <class Encode>
  void QueueFrame(const ChannelKey& key, int from, int process, int to,
                  Encode&& encode) {
    frames_sent_.fetch_add(1, std::memory_order_relaxed);
    Outbox& box = *outboxes_[process];
    std::lock_guard<std::mutex> lock(box.mutex);
    const size_t at = box.bytes.size();
    FrameHeader header{key.dataflow, key.op, key.purpose, from, to, 0};
    box.bytes.append(reinterpret_cast<const char*>(&header), sizeof header);
    WireWriter writer(&box.bytes);
    encode(writer);
    const size_t size = box.bytes.size() - at - sizeof header;
    DM_CHECK_MSG(size <= kMaxFrameBytes,
                 "a message to another process is larger than 1 GiB");
    header.size = static_cast<uint32_t>(size);
    std::memcpy(box.bytes.data() + at, &header, sizeof header);
  }

  struct alignas(64) Outbox {
    std::mutex mutex;
    std::string bytes;
  };
  struct EarlyFrame {
    int from;
    int to;
    std::shared_ptr<const std::string> batch;
    absl::string_view bytes;  // in *batch
  };
  // Called with mutex_ held.
  void AdoptEarlyFrames(const ChannelKey& key, RemoteInbox* inbox);
  void Dispatch(int from_process, std::shared_ptr<const std::string> batch);

  const int threads_;
  ProcessLink* const link_;
  const int processes_;
  const int first_;
  const int peers_;
  std::vector<Doorbell> doorbells_;
  std::mutex mutex_;  // channels_, inboxes_, early_
  std::map<ChannelKey, std::pair<std::type_index, std::shared_ptr<void>>>
      channels_;
  std::map<ChannelKey, RemoteInbox*> inboxes_;
  // Frames for channels this process has not made yet.
  std::map<ChannelKey, std::vector<EarlyFrame>> early_;
  std::vector<std::unique_ptr<Outbox>> outboxes_;  // per process
  std::atomic<uint64_t> frames_sent_{0};
  std::mutex pump_mutex_;
  // Written under pump_mutex_: which processes said they are done, and
  // the failures they reported.
  std::vector<char> finished_;
  std::vector<WorkerFailure> remote_failures_;
};

// Messages to each worker, in one lane per (sender, receiver) pair: a
// single-producer single-consumer queue, so neither side takes a lock and
// a delivery costs the receiver few cache-line transfers (the doorbell, the
// lane's count, the slot). Messages from one sender are received in the
// order sent (FIFO per sender pair), which the progress protocol relies on.
//
// A lane is a chain of fixed-size segments: the sender fills the newest,
// the receiver empties and frees the oldest. Nothing bounds a lane (a sender
// never waits for a receiver), and an unused lane holds no segment.
template <class M>
class Mailbox : public RemoteInbox {
 public:
  Mailbox(Fabric* fabric, const ChannelKey& key)
      : fabric_(fabric),
        key_(key),
        threads_(fabric->threads()),
        first_(fabric->first()),
        lanes_(static_cast<size_t>(threads_) * threads_),
        remote_(fabric->link() != nullptr ? threads_ : 0) {}
  ~Mailbox() {
    for (Lane& lane : lanes_) {
      Segment* segment = lane.receiver.segment;
      if (segment == nullptr) segment = lane.first.load();
      while (segment != nullptr) {
        Segment* next = segment->next.load(std::memory_order_relaxed);
        delete segment;
        segment = next;
      }
    }
  }
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  // Called by worker `from` (of this process) only. A message to a worker
  // of another process is encoded (engine/wire.h) and sent by the next
  // Fabric::Pump.
  void Push(int from, int to, M message) {
    if (!fabric_->IsLocal(to)) {
      fabric_->SendFrame(key_, from, to, [&](WireWriter& writer) {
        WireEncode(writer, message);
      });
      return;
    }
    Lane& lane = lanes_[LaneIndex(from, to)];
    Sender& s = lane.sender;
    if (s.segment == nullptr || s.index == kSegmentSlots) {
      auto* fresh = new Segment;
      if (s.segment == nullptr) {
        // The receiver starts at the first segment once it sees a count.
        lane.first.store(fresh, std::memory_order_relaxed);
      } else {
        s.segment->next.store(fresh, std::memory_order_relaxed);
      }
      s.segment = fresh;
      s.index = 0;
    }
    s.segment->slots[s.index++] = std::move(message);
    // Publishes the slot (and any new segment) to the receiver.
    s.count.store(++s.pushed, std::memory_order_release);
    fabric_->doorbell(to).Ring();
  }
  // Worker `from`'s `message` to every other worker: a copy into each lane
  // of this process, and one frame to each other process, whose pump
  // hands the same bytes to each of its workers (so a process's workers
  // cost one encoding and one frame, not one each). Order per (sender,
  // receiver) pair is kept as with Push. Called by worker `from` only.
  void Broadcast(int from, const M& message) {
    for (int to = first_; to < first_ + threads_; ++to) {
      if (to != from) Push(from, to, message);
    }
    if (remote_.empty()) return;
    const int here = first_ / threads_;
    for (int process = 0; process < fabric_->processes(); ++process) {
      if (process == here) continue;
      fabric_->SendFrameToEvery(key_, from, process, [&](WireWriter& writer) {
        WireEncode(writer, message);
      });
    }
  }
  // Appends everything delivered to `worker` so far, oldest first per
  // sender. Called by worker `worker` only.
  void DrainInto(int worker, std::vector<M>* out) {
    for (int from = first_; from < first_ + threads_; ++from) {
      Lane& lane = lanes_[LaneIndex(from, worker)];
      Receiver& r = lane.receiver;
      uint64_t available = lane.sender.count.load(std::memory_order_acquire);
      while (r.taken < available) {
        if (r.segment == nullptr) {
          r.segment = lane.first.load(std::memory_order_relaxed);
          r.index = 0;
        } else if (r.index == kSegmentSlots) {
          Segment* next = r.segment->next.load(std::memory_order_relaxed);
          delete r.segment;
          r.segment = next;
          r.index = 0;
        }
        out->push_back(std::move(r.segment->slots[r.index++]));
        ++r.taken;
      }
    }
    if (remote_.empty()) return;
    RemoteLane& lane = remote_[worker - first_];
    if (lane.count.load(std::memory_order_acquire) == 0) return;
    {
      std::lock_guard<std::mutex> lock(lane.mutex);
      lane.taking.swap(lane.pending);
      lane.count.store(0, std::memory_order_relaxed);
    }
    for (const Encoded& encoded : lane.taking) {
      WireReader reader(encoded.bytes);
      M message;
      DM_CHECK_MSG(WireDecode(reader, message) && reader.done(),
                   "a message from another process did not decode: the "
                   "processes run different builds");
      out->push_back(std::move(message));
    }
    lane.taking.clear();
  }
  bool HasMessages(int worker) const {
    for (int from = first_; from < first_ + threads_; ++from) {
      const Lane& lane = lanes_[LaneIndex(from, worker)];
      if (lane.sender.count.load(std::memory_order_acquire) !=
          lane.receiver.taken) {
        return true;
      }
    }
    return !remote_.empty() &&
           remote_[worker - first_].count.load(std::memory_order_acquire) != 0;
  }

  void Deliver(int from, int to, std::shared_ptr<const std::string> batch,
               absl::string_view bytes) override {
    if (to == kEveryWorker) {
      for (int worker = first_; worker < first_ + threads_; ++worker) {
        Deliver(from, worker, batch, bytes);
      }
      return;
    }
    RemoteLane& lane = remote_[to - first_];
    {
      std::lock_guard<std::mutex> lock(lane.mutex);
      lane.pending.push_back({std::move(batch), bytes});
      lane.count.store(lane.pending.size(), std::memory_order_release);
    }
    fabric_->doorbell(to).Ring();
  }

 private:
  size_t LaneIndex(int from, int to) const {
    return static_cast<size_t>(from - first_) * threads_ + (to - first_);
  }
  static constexpr int kSegmentSlots = 32;
  struct Segment {
    M slots[kSegmentSlots];
    std::atomic<Segment*> next{nullptr};
  };
  // The sender's and the receiver's state on separate cache lines: the
  // receiver reads only `count` of the sender's line.
  struct alignas(64) Sender {
    std::atomic<uint64_t> count{0};  // messages published
    uint64_t pushed = 0;
    Segment* segment = nullptr;  // the newest
    int index = 0;               // next free slot in it
  };
  struct alignas(64) Receiver {
    uint64_t taken = 0;
    Segment* segment = nullptr;  // the oldest not yet emptied
    int index = 0;               // next slot to take in it
  };
  struct Lane {
    Sender sender;
    Receiver receiver;
    std::atomic<Segment*> first{nullptr};
  };
  // Messages from other processes to one worker of this one, still
  // encoded (the receiver decodes its own), oldest first per sender; each
  // keeps the batch it arrived in alive.
  struct Encoded {
    std::shared_ptr<const std::string> batch;
    absl::string_view bytes;
  };
  struct alignas(64) RemoteLane {
    std::atomic<size_t> count{0};
    std::mutex mutex;
    std::vector<Encoded> pending;
    std::vector<Encoded> taking;  // the receiver's, between drains
  };
  Fabric* fabric_;
  ChannelKey key_;
  int threads_;
  int first_;
  std::vector<Lane> lanes_;
  std::vector<RemoteLane> remote_;
};

}  // namespace diffmesh
