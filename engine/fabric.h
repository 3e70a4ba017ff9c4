// Fabric: how the workers of one Runtime talk to each other. Everything that
// crosses workers is a message put into a mailbox owned by the receiving
// worker; no worker reads another worker's dataflow state.
//
//   Fabric fabric(/*peers=*/2);
//   auto box = fabric.Channel<Mailbox<int>>(ChannelKey{0, 3, 0}, 2);
//   box->Push(1, 42);            // to worker 1 (wakes it if it is parked)
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

 private:
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

// One mailbox per receiving worker, many senders. Messages from one sender
// are received in the order sent (FIFO per sender pair), which the progress
// protocol relies on.
template <class M>
class Mailbox {
 public:
  explicit Mailbox(Fabric* fabric) : fabric_(fabric), boxes_(fabric->peers()) {}

  void Push(int to, M message) {
    {
      std::lock_guard<std::mutex> lock(boxes_[to].mutex);
      boxes_[to].messages.push_back(std::move(message));
      boxes_[to].size.store(boxes_[to].messages.size(),
                            std::memory_order_release);
    }
    fabric_->doorbell(to).Ring();
  }
  // Appends everything delivered to `worker` so far, oldest first.
  void DrainInto(int worker, std::vector<M>* out) {
    Box& box = boxes_[worker];
    if (box.size.load(std::memory_order_acquire) == 0) return;
    std::lock_guard<std::mutex> lock(box.mutex);
    for (M& m : box.messages) out->push_back(std::move(m));
    box.messages.clear();
    box.size.store(0, std::memory_order_release);
  }
  bool HasMessages(int worker) const {
    return boxes_[worker].size.load(std::memory_order_acquire) != 0;
  }

 private:
  struct Box {
    std::mutex mutex;
    std::vector<M> messages;
    std::atomic<size_t> size{0};
  };
  Fabric* fabric_;
  std::vector<Box> boxes_;
};

}  // namespace diffmesh
