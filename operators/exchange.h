// Exchange: routes every update to the worker that owns it, in batches.
//
//   // (key, value) pairs, each on the worker that owns its key:
//   auto owned = Exchange(pairs, [](const auto& kv) { return KeyHash(kv.first);
//   });
//
// Every keyed operator puts one in front of itself when the dataflow runs on
// several workers (ArrangeByKey/ArrangeBySelf do, so join, reduce, count,
// distinct and threshold all do); with one worker it is never built.
//
// An update goes to worker `route(data) % peers`. Each incoming message is
// split into one message per destination: the local part is forwarded at
// once, the rest go to the peers' mailboxes. A message in flight is counted
// at the operator's second input, the "remote" one, which no edge feeds: +1
// by the sender (in the same progress batch as it uncounts the message it
// split), -1 by the receiver when taken; see engine/progress_exchange.h. It
// must not be counted at the ordinary input: there one incoming message
// fans out into several in-flight ones, and a receiver's early -1 would
// cancel the very count that still stands for its siblings.
#pragma once

#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/collection.h"
#include "engine/fabric.h"
#include "engine/graph.h"
#include "engine/port.h"
#include "engine/stable_hash.h"
#include "engine/timestamp.h"

namespace diffmesh {

// The hash that decides which worker owns a key: the same on every worker,
// in every process and run (engine/stable_hash.h).
template <class K>
uint64_t KeyHash(const K& key) {
  return StableHash(key);
}

namespace internal {

// Moves each of `payload`'s elements into `(*parts)[owners[i]]`, in order.
// Each part is allocated at exactly its size: a reserve of an even share
// is overrun by about half the parts of a random split, which then double
// (at 2 workers, 1M/10M's load held 1.5x its edges in messages). `counts`
// is scratch.
template <class P>
void SplitByOwner(P& payload, const std::vector<int>& owners, int peers,
                  std::vector<P>* parts, std::vector<size_t>* counts) {
  counts->assign(peers, 0);
  for (int owner : owners) ++(*counts)[owner];
  parts->resize(peers);
  for (int peer = 0; peer < peers; ++peer) {
    (*parts)[peer].reserve((*counts)[peer]);
  }
  for (size_t i = 0; i < owners.size(); ++i) {
    (*parts)[owners[i]].push_back(std::move(payload[i]));
  }
}

template <class D, class T, class R, class Route>
class ExchangeOperator : public OperatorBase {
 public:
  using P = std::vector<Update<D, T, R>>;
  using Channel = Mailbox<Message<T, P>>;

  ExchangeOperator(const Stream<T, P>& input, Route route)
      : OperatorBase("exchange"),
        in(input.graph, input.graph->NextOperatorIndex()),
        out(input.graph, input.graph->NextOperatorIndex()),
        route_(std::move(route)),
        peers_(input.graph->peers()),
        me_(input.graph->worker_index()) {
    input.port->Connect(&in);
    Graph* graph = input.graph;
    int op = graph->NextOperatorIndex();
    remote_ = graph->NewTarget(op, TimeCodec<T>::kDepth);
    // A received message's time is covered by the remote input (its
    // sender's +1 is visible) or by the ordinary one (the sender's split
    // message, or what produced it, still is).
    out.AddGuard(in.target());
    out.AddGuard(remote_);
    channel_ = graph->fabric()->template Channel<Channel>(
        ChannelKey{graph->dataflow_index(), op, 0});
    graph->AddMailboxPoll(op, [channel = channel_.get(), me = me_] {
      return channel->HasMessages(me);
    });
  }

  bool ReadsFrontiers() const override { return false; }
  void Run() override {
    Message<T, P> message;
    while (in.Pull(&message)) {
      owners_.clear();
      bool one_owner = true;
      for (const auto& u : message.payload) {
        owners_.push_back(static_cast<int>(route_(u.data) % peers_));
        one_owner = one_owner && owners_.back() == owners_.front();
      }
      if (owners_.empty()) continue;
      if (one_owner) {  // travels whole (the usual case for small messages)
        SendTo(owners_.front(), std::move(message.time),
               std::move(message.payload));
        continue;
      }
      SplitByOwner(message.payload, owners_, peers_, &parts_, &counts_);
      for (int peer = 0; peer < peers_; ++peer) {
        if (!parts_[peer].empty()) {
          SendTo(peer, message.time, std::move(parts_[peer]));
        }
        parts_[peer] = {};
      }
    }
    channel_->DrainInto(me_, &received_);
    for (Message<T, P>& m : received_) {
      for (const T& t : m.time) {
        graph()->ChangeTarget(remote_, TimeCodec<T>::Encode(t), -1);
      }
      out.Send(std::move(m));
    }
    received_.clear();
  }

  InputPort<T, P> in;
  OutputPort<T, P> out;

 private:
  void SendTo(int peer, Antichain<T> time, P part) {
    if (peer == me_) {
      out.Send({std::move(time), std::move(part)});
      return;
    }
    for (const T& t : time) {
      graph()->ChangeTarget(remote_, TimeCodec<T>::Encode(t), +1);
    }
    channel_->Push(me_, peer, {std::move(time), std::move(part)});
  }

  Route route_;
  int peers_;
  int me_;
  int remote_;  // where messages in flight to this operator are counted
  std::shared_ptr<Channel> channel_;
  std::vector<Message<T, P>> received_;
  std::vector<int> owners_;     // scratch: each update's worker
  std::vector<size_t> counts_;  // scratch: updates per worker
  std::vector<P> parts_;        // scratch: a split message's parts
};

}  // namespace internal

// REQUIRES: the collection's dataflow runs on a Runtime (graph->fabric()).
template <class D, class T, class R, class Route>
Collection<D, T, R> Exchange(const Collection<D, T, R>& input, Route route) {
  using Op = internal::ExchangeOperator<D, T, R, Route>;
  auto* op =
      input.graph()->template AddOperator<Op>(input.stream, std::move(route));
  return Collection<D, T, R>{{input.graph(), &op->out}};
}

}  // namespace diffmesh
