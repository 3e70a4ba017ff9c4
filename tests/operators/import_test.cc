// Import: a dataflow added at a random time reads the arrangements of a
// running dataflow (operators/import.h). At every later time, what it
// computes on them -- a join of two imported arrangements, a join of an
// imported one with a collection of its own, a reduce, a total-order
// count and the imported collection itself -- must equal a from-scratch
// computation over everything fed so far, retractions included, on one and
// on two workers.
#include "operators/import.h"

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "engine/graph.h"
#include "engine/input.h"
#include "engine/probe.h"
#include "engine/runtime.h"
#include "gtest/gtest.h"
#include "operators/arrange.h"
#include "operators/count.h"
#include "operators/inspect.h"
#include "operators/join.h"
#include "operators/map.h"
#include "operators/reduce.h"
#include "tests/operators/oracle.h"

namespace diffmesh::testing {
namespace {

using Joined = std::pair<uint32_t, std::pair<uint32_t, uint32_t>>;
using KeySum = std::pair<uint32_t, int64_t>;

// Outputs gathered from every worker.
template <class D>
struct Gathered {
  std::mutex mu;
  std::vector<Update<D, uint64_t, int64_t>> updates;
  auto Capture() {
    return [this](const D& d, uint64_t t, int64_t r) {
      std::lock_guard<std::mutex> lock(mu);
      updates.push_back({d, t, r});
    };
  }
  Multiset<D> At(uint64_t t) {
    std::lock_guard<std::mutex> lock(mu);
    return AccumulateAt(updates, t);
  }
};

Multiset<Joined> JoinOf(const Multiset<Rec>& a, const Multiset<Rec>& b) {
  Multiset<Joined> out;
  for (const auto& [x, m] : a) {
    for (const auto& [y, n] : b) {
      if (x.first == y.first) out[{x.first, {x.second, y.second}}] += m * n;
    }
  }
  return DropZeros(out);
}

// Runs one seed; returns "" or what differed first.
std::string RunSeed(uint64_t seed, int workers) {
  constexpr uint64_t kRounds = 10;
  Gathered<Joined> both;   // imported a  x  imported b
  Gathered<Joined> fresh;  // imported a  x  c, fed only after the import
  Gathered<KeySum> sums;   // per key of a: sum of value * multiplicity
  Gathered<std::pair<uint32_t, int64_t>> counts;  // keys of a, counted
  Gathered<Rec> flat;                             // a itself
  std::string failure;
  uint64_t imported_at = 0;
  absl::Status status = Runtime::Execute(workers, [&](Worker& worker) {
    std::mt19937_64 rng(seed * 104729 + 7);
    const uint64_t import_at = 1 + rng() % (kRounds - 2);
    if (worker.index() == 0) imported_at = import_at;
    Graph& running = worker.NewDataflow("running");
    auto [in_a, a] = NewInput<Rec>(running);
    auto [in_b, b] = NewInput<Rec>(running);
    Arranged<uint32_t, uint32_t> by_a = ArrangeByKey(a);
    Arranged<uint32_t, uint32_t> by_b = ArrangeByKey(b);
    Arranged<uint32_t, Unit> keys_a =
        ArrangeBySelf(Map(a, [](const Rec& r) { return r.first; }));
    // The running dataflow reads its own arrangements too.
    auto own = ProbeStream(
        JoinCore(by_a, by_b, [](auto k, auto, auto) { return k; }).stream);
    std::vector<Probe<uint64_t>> probes = {own};

    std::optional<InputHandle<Rec>> in_c;
    Multiset<Rec> live_a, live_b, live_c;
    std::vector<Update<Rec, uint64_t, int64_t>> sent_a, sent_b, sent_c;
    uint64_t generated = 0;
    auto feed = [&](InputHandle<Rec>& in, Multiset<Rec>& live,
                    std::vector<Update<Rec, uint64_t, int64_t>>& sent,
                    uint64_t round) {
      Rec d{static_cast<uint32_t>(rng() % 5), static_cast<uint32_t>(rng() % 4)};
      int64_t diff = rng() % 6 == 0 ? 2 : 1;
      if (!live.empty() && rng() % 3 == 0) {  // retract something present
        auto it = live.begin();
        std::advance(it, rng() % live.size());
        d = it->first;
        diff = -1;
      }
      if ((live[d] += diff) == 0) live.erase(d);
      if (generated++ % worker.peers() ==
          static_cast<uint64_t>(worker.index())) {
        in.UpdateAt(d, round, diff);
      }
      sent.push_back({d, round, diff});
    };

    for (uint64_t round = 0; round < kRounds; ++round) {
      if (round == import_at) {
        // Everything before `round` is closed in the running dataflow.
        Graph& added = worker.NewDataflow("added");
        added.set_start_time(round);
        auto ia = Import(added, by_a);
        auto ib = Import(added, by_b);
        auto ik = Import(added, keys_a);
        auto [c_input, c] = NewInput<Rec>(added);
        c_input.AdvanceTo(round);
        in_c.emplace(std::move(c_input));
        auto watch = [&](auto collection, auto capture) {
          probes.push_back(ProbeStream(Inspect(collection, capture).stream));
        };
        watch(JoinCore(ia, ib,
                       [](uint32_t k, uint32_t v1, uint32_t v2) {
                         return Joined{k, {v1, v2}};
                       }),
              both.Capture());
        watch(JoinCore(ia, ArrangeByKey(c),
                       [](uint32_t k, uint32_t v1, uint32_t v2) {
                         return Joined{k, {v1, v2}};
                       }),
              fresh.Capture());
        watch(AsCollection(ReduceCore<int64_t, int64_t>(
                  ia,
                  [](const uint32_t&, const auto& acc, auto* out) {
                    int64_t sum = 0;
                    for (const auto& [v, r] : acc) sum += int64_t{v} * r;
                    out->emplace_back(sum, 1);
                  })),
              sums.Capture());
        watch(internal::ReduceTotal<std::pair<uint32_t, int64_t>, int64_t>(
                  ik, "count_total",
                  [](const uint32_t& key, const int64_t& before,
                     const int64_t& after, const uint64_t& time, auto* out) {
                    if (before == after) return;
                    if (before != 0) out->push_back({{key, before}, time, -1});
                    if (after != 0) out->push_back({{key, after}, time, 1});
                  }),
              counts.Capture());
        watch(AsCollection(ia), flat.Capture());
      }
      const int n = static_cast<int>(rng() % 7);
      for (int i = 0; i < n; ++i) {
        const uint64_t which = rng() % 3;
        if (which == 0) {
          feed(in_a, live_a, sent_a, round);
        } else if (which == 1 || !in_c) {
          feed(in_b, live_b, sent_b, round);
        } else {
          feed(*in_c, live_c, sent_c, round);
        }
      }
      in_a.AdvanceTo(round + 1);
      in_b.AdvanceTo(round + 1);
      if (in_c) in_c->AdvanceTo(round + 1);
      worker.StepWhile([&] {
        for (const auto& p : probes) {
          if (p.LessEqual(round)) return true;
        }
        return false;
      });
      if (worker.index() != 0 || round < import_at || !failure.empty()) {
        continue;
      }
      const auto A = AccumulateAt(sent_a, round);
      const auto B = AccumulateAt(sent_b, round);
      const auto C = AccumulateAt(sent_c, round);
      Multiset<KeySum> want_sums;
      Multiset<std::pair<uint32_t, int64_t>> want_counts;
      std::map<uint32_t, int64_t> sum, count;
      for (const auto& [r, m] : A) {
        sum[r.first] += int64_t{r.second} * m;
        count[r.first] += m;
      }
      for (const auto& [k, s] : sum) want_sums[{k, s}] = 1;
      for (const auto& [k, m] : count) {
        if (m != 0) want_counts[{k, m}] = 1;
      }
      const std::string at = " at time " + std::to_string(round) +
                             " (imported at " + std::to_string(import_at) + ")";
      if (both.At(round) != JoinOf(A, B)) {
        failure = "join of two imports" + at + ": got " + Show(both.At(round)) +
                  " want " + Show(JoinOf(A, B));
      } else if (fresh.At(round) != JoinOf(A, C)) {
        failure = "join with a new collection" + at;
      } else if (sums.At(round) != want_sums) {
        failure = "reduce" + at + ": got " + Show(sums.At(round)) + " want " +
                  Show(want_sums);
      } else if (counts.At(round) != want_counts) {
        failure = "total count" + at;
      } else if (flat.At(round) != A) {
        failure = "the imported collection" + at + ": got " +
                  Show(flat.At(round)) + " want " + Show(A);
      }
    }
  });
  if (!status.ok()) return std::string(status.message());
  // Nothing comes out before the start time.
  for (const auto& u : flat.updates) {
    if (u.time < imported_at) return "an output before the import's start";
  }
  return failure;
}

TEST(ImportOracle, AddedDataflowsMatchFromScratchAtEveryTime) {
  for (int workers : {1, 2}) {
    for (uint64_t seed = 0; seed < 40; ++seed) {
      const std::string failure = RunSeed(seed, workers);
      ASSERT_EQ(failure, "")
          << "seed " << seed << " on " << workers << " worker(s)";
    }
  }
}

TEST(Import, AStoppedImportLetsItsDataflowCompleteAndReleasesTheTrace) {
  Worker worker;
  Graph& running = worker.NewDataflow("running");
  auto [in, rows] = NewInput<Rec>(running);
  Arranged<uint32_t, uint32_t> by_key = ArrangeByKey(rows);
  auto own = ProbeStream(AsCollection(by_key).stream);
  for (uint32_t i = 0; i < 100; ++i) in.Insert({i % 10, i});
  in.AdvanceTo(1);
  worker.StepWhile([&] { return own.LessEqual(0); });
  const size_t readers = by_key.trace->NumReaders();

  Graph& added = worker.NewDataflow("added");
  added.set_start_time(1);
  ImportStop stop;
  Gathered<Rec> seen;
  auto probe = ProbeStream(
      Inspect(AsCollection(Import(added, by_key, &stop)), seen.Capture())
          .stream);
  EXPECT_GT(by_key.trace->NumReaders(), readers);
  in.Insert({3, 1000});
  in.AdvanceTo(2);
  worker.StepWhile([&] { return probe.LessEqual(1) || own.LessEqual(1); });
  EXPECT_EQ(seen.At(1).size(), 101u);
  // Following a running dataflow, the added one does not complete...
  worker.Step();
  EXPECT_FALSE(added.Complete());
  // ...until its import stops.
  stop();
  worker.StepWhile([&] { return !added.Complete(); });
  EXPECT_TRUE(worker.DropDataflow(&added));
  EXPECT_EQ(by_key.trace->NumReaders(), readers);
  // The running dataflow goes on, and nothing more reaches the stopped one.
  in.Insert({4, 2000});
  in.AdvanceTo(3);
  worker.StepWhile([&] { return own.LessEqual(2); });
  EXPECT_EQ(seen.At(5).size(), 101u);
  stop();  // again: nothing
}

}  // namespace
}  // namespace diffmesh::testing
