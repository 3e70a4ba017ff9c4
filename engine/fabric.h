// Fabric: how the workers of one Runtime talk to each other. Everything that
// crosses workers is a message put into a mailbox owned by the receiving
// worker; no worker reads another worker's dataflow state.
//
//   Fabric fabric(/*peers=*/2);
//   auto box = fabric.Channel<Mailbox<int>>(ChannelKey{0, 3, 0}, 2);
//   box->Push(0, 1, 42);         // worker 0 to worker 1 (wakes it if parked)
//   std::vector<int> got; box->DrainInto(1, &got);
//
// Channels are named by where they are used (dataflow, operator, purpose),
// so workers that build the same dataflows in the same order meet on the
// same channel without talking first. The same shape works across
// processes: a mailbox becomes a socket or an MPI endpoint; nothing here
// relies on shared dataflow state.
//
// Thread-safety: every member is safe to call from any worker thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <typeindex>
#include <typeinfo>
#include <utility>
#include <vector>

#include "engine/check.h"

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
};

class Fabric {
 public:
  explicit Fabric(int peers) : peers_(peers), doorbells_(peers) {
    DM_CHECK_MSG(peers >= 1, "a runtime needs at least one worker");
  }
  Fabric(const Fabric&) = delete;
  Fabric& operator=(const Fabric&) = delete;

  int peers() const { return peers_; }
  Doorbell& doorbell(int worker) { return doorbells_[worker]; }

  // The channel named `key`, made by the first worker that asks:
  // `std::make_shared<C>(this, args...)`. Every worker must ask for the same
  // type under the same key (i.e. build the same dataflows in the same
  // order); a mismatch is a programming error and aborts.
  template <class C, class... Args>
  std::shared_ptr<C> Channel(const ChannelKey& key, Args&&... args) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto [it, fresh] = channels_.try_emplace(key, typeid(C), nullptr);
    if (fresh) {
      it->second.second =
          std::make_shared<C>(this, std::forward<Args>(args)...);
    }
    DM_CHECK_MSG(it->second.first == std::type_index(typeid(C)),
                 "workers built different dataflows: a channel was asked for "
                 "with two types");
    return std::static_pointer_cast<C>(it->second.second);
  }

 private:
  const int peers_;
  std::vector<Doorbell> doorbells_;
  std::mutex mutex_;
  std::map<ChannelKey, std::pair<std::type_index, std::shared_ptr<void>>>
      channels_;
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
class Mailbox {
 public:
  explicit Mailbox(Fabric* fabric)
      : fabric_(fabric),
        peers_(fabric->peers()),
        lanes_(static_cast<size_t>(peers_) * peers_) {}
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

  // Called by worker `from` only.
  void Push(int from, int to, M message) {
    Lane& lane = lanes_[static_cast<size_t>(from) * peers_ + to];
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
  // Appends everything delivered to `worker` so far, oldest first per
  // sender. Called by worker `worker` only.
  void DrainInto(int worker, std::vector<M>* out) {
    for (int from = 0; from < peers_; ++from) {
      Lane& lane = lanes_[static_cast<size_t>(from) * peers_ + worker];
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
  }
  bool HasMessages(int worker) const {
    for (int from = 0; from < peers_; ++from) {
      const Lane& lane = lanes_[static_cast<size_t>(from) * peers_ + worker];
      if (lane.sender.count.load(std::memory_order_acquire) !=
          lane.receiver.taken) {
        return true;
      }
    }
    return false;
  }

 private:
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
  Fabric* fabric_;
  int peers_;
  std::vector<Lane> lanes_;
};

}  // namespace diffmesh
