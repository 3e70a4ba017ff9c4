// Oracle harness: seeded random update sequences (inserts and retractions
// over many times) go through a dataflow; at every time, the accumulated
// output must equal a from-scratch computation over the accumulated inputs.
//
//   CheckAgainstOracle<uint64_t, Rec, Rec, Out>(
//       "count", [](auto a, auto b) { return Count(a); },
//       [](const Multiset<Rec>& a, const Multiset<Rec>&) { ... }, GenRec,
//       GenRec);
//
// Seeds: DIFFMESH_ORACLE_SEEDS (default 200) consecutive seeds, or exactly
// DIFFMESH_SEED=n. Every seed runs on 1, 2, 3 and 4 workers and on 2
// processes of 2 workers (or the layouts in DIFFMESH_ORACLE_WORKERS, e.g.
// "1,4,3x1"; tests/worker_layout.h); with several workers each worker
// feeds every peers-th update, so data enters from all of them, and the
// output is exchanged to worker 0, which checks it. Under mpirun the same
// binary checks across real processes. A failure prints the seed and the
// layout so it can be kept as a regression test under tests/regress/.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "engine/graph.h"
#include "engine/input.h"
#include "engine/lattice.h"
#include "engine/probe.h"
#include "engine/runtime.h"
#include "gtest/gtest.h"
#include "operators/exchange.h"
#include "operators/inspect.h"
#include "tests/worker_layout.h"

namespace diffmesh::testing {

template <class D>
using Multiset = std::map<D, int64_t>;

using Rec = std::pair<uint32_t, uint32_t>;
using PTime = Product<uint64_t, uint64_t>;

inline std::string Show(uint64_t x) { return std::to_string(x); }
inline std::string Show(int64_t x) { return std::to_string(x); }
inline std::string Show(uint32_t x) { return std::to_string(x); }
inline std::string Show(const PTime& t) {
  return "(" + Show(t.outer) + "," + Show(t.inner) + ")";
}
template <class A, class B>
std::string Show(const std::pair<A, B>& p) {
  return "(" + Show(p.first) + "," + Show(p.second) + ")";
}
template <class D>
std::string Show(const Multiset<D>& m) {
  std::string s = "{";
  for (const auto& [d, r] : m) s += Show(d) + ":" + std::to_string(r) + " ";
  return s + "}";
}

inline std::vector<uint64_t> OracleSeeds() {
  if (const char* one = std::getenv("DIFFMESH_SEED"))
    return {std::strtoull(one, nullptr, 10)};
  uint64_t n = 200;
  if (const char* count = std::getenv("DIFFMESH_ORACLE_SEEDS"))
    n = std::strtoull(count, nullptr, 10);
  std::vector<uint64_t> seeds;
  for (uint64_t i = 0; i < n; ++i) seeds.push_back(i);
  return seeds;
}

inline std::vector<WorkerLayout> OracleWorkers() {
  const char* list = std::getenv("DIFFMESH_ORACLE_WORKERS");
  return WorkerLayouts(list ? list : "1,2,3,4,2x2");
}

// How a time kind is generated and checked.
template <class T>
struct TimeKind;
template <>
struct TimeKind<uint64_t> {
  static uint64_t At(uint64_t round, std::mt19937_64& rng) {
    return round + (rng() % 4 == 0 ? rng() % 3 : 0);
  }
  static uint64_t Round(uint64_t round) { return round; }
  static std::vector<uint64_t> Completed(uint64_t round) { return {round}; }
};
template <>
struct TimeKind<PTime> {
  static constexpr uint64_t kInner = 6;
  static PTime At(uint64_t round, std::mt19937_64& rng) {
    return {round + (rng() % 4 == 0 ? 1 : 0), rng() % kInner};
  }
  static PTime Round(uint64_t round) { return {round, 0}; }
  // All times with outer == round that any join of update times can take.
  static std::vector<PTime> Completed(uint64_t round) {
    std::vector<PTime> times;
    for (uint64_t i = 0; i <= kInner; ++i) times.push_back({round, i});
    return times;
  }
};

template <class D, class T>
Multiset<D> AccumulateAt(const std::vector<Update<D, T, int64_t>>& updates,
                         const T& t) {
  Multiset<D> acc;
  for (const auto& u : updates) {
    if (LessEqual(u.time, t)) acc[u.data] += u.diff;
  }
  for (auto it = acc.begin(); it != acc.end();) {
    it = it->second == 0 ? acc.erase(it) : std::next(it);
  }
  return acc;
}

template <class D>
Multiset<D> DropZeros(Multiset<D> m) {
  for (auto it = m.begin(); it != m.end();)
    it = it->second == 0 ? m.erase(it) : std::next(it);
  return m;
}

struct OracleOptions {
  int rounds = 12;
  int max_updates_per_round = 6;
  // Allows removals of absent records (negative multiplicities).
  bool allow_negative = false;
};

// Runs one seed on `layout`; returns false (with a printed seed) on the
// first mismatch, in every process.
template <class T, class A, class B, class Out, class Build, class Oracle,
          class GenA, class GenB>
bool RunOracleSeed(const std::string& name, uint64_t seed,
                   const WorkerLayout& layout, Build build, Oracle oracle,
                   GenA gen_a, GenB gen_b, const OracleOptions& options) {
  std::string where = name + " on " + layout.Name() +
                      "; reproduce with DIFFMESH_SEED=" + std::to_string(seed);
  std::mutex output_mutex;
  std::vector<Update<Out, T, int64_t>> output;  // gathered at worker 0
  auto status = RunOnLayout(layout, [&](Worker& worker) -> absl::Status {
    // Every worker draws the same sequence; each feeds its share of it.
    std::mt19937_64 rng(seed * 7919 + 17);
    const bool checker = worker.index() == 0;
    Graph& graph = worker.NewDataflow(name);
    auto [in_a, coll_a] = NewInput<A, T>(graph);
    auto [in_b, coll_b] = NewInput<B, T>(graph);
    auto built = build(coll_a, coll_b);
    // Everything to worker 0, whichever process holds it.
    if (worker.peers() > 1) {
      built = Exchange(built, [](const Out&) { return uint64_t{0}; });
    }
    auto result = Inspect(built, [&](const Out& d, const T& t, int64_t r) {
      std::lock_guard<std::mutex> lock(output_mutex);
      output.push_back({d, t, r});
    });
    auto probe = ProbeStream(result.stream);

    std::vector<Update<A, T, int64_t>> sent_a;
    std::vector<Update<B, T, int64_t>> sent_b;
    Multiset<A> live_a;
    Multiset<B> live_b;
    // Latest time each record was updated at: a retraction goes no earlier,
    // so it never drives a multiplicity negative at any time.
    std::map<A, T> last_a;
    std::map<B, T> last_b;
    uint64_t generated = 0;
    auto generate = [&](auto& in, auto& sent, auto& live, auto& last, auto& gen,
                        uint64_t round) {
      using D = typename std::decay_t<decltype(live)>::key_type;
      T t = TimeKind<T>::At(round, rng);
      int64_t diff = 1;
      D d = gen(rng);
      if (!live.empty() && rng() % 3 == 0) {  // retract something present
        auto it = live.begin();
        std::advance(it, rng() % live.size());
        d = it->first;
        diff = -1;
        t = Join(t, last[d]);
      } else if (options.allow_negative && rng() % 5 == 0) {
        diff = -1;
      } else if (rng() % 6 == 0) {
        diff = 2;
      }
      live[d] += diff;
      if (live[d] == 0) live.erase(d);
      auto [slot, fresh] = last.try_emplace(d, t);
      if (!fresh) slot->second = Join(slot->second, t);
      if (generated++ % worker.peers() ==
          static_cast<uint64_t>(worker.index())) {
        in.UpdateAt(d, t, diff);
      }
      sent.push_back({d, t, diff});
    };

    for (uint64_t round = 0; round < static_cast<uint64_t>(options.rounds);
         ++round) {
      int n = static_cast<int>(rng() % (options.max_updates_per_round + 1));
      for (int i = 0; i < n; ++i) {
        if (rng() % 2 == 0) {
          generate(in_a, sent_a, live_a, last_a, gen_a, round);
        } else {
          generate(in_b, sent_b, live_b, last_b, gen_b, round);
        }
      }
      // Sometimes let several rounds complete in one go.
      if (round + 1 < static_cast<uint64_t>(options.rounds) && rng() % 4 == 0)
        continue;
      T next = TimeKind<T>::Round(round + 1);
      in_a.AdvanceTo(next);
      in_b.AdvanceTo(next);
      // Wait until every time to be checked is final (for a partial order,
      // LessThan(next) alone would not cover times incomparable with next).
      auto pending = [&] {
        if (probe.LessThan(next)) return true;
        for (uint64_t r = 0; r <= round; ++r) {
          for (const T& t : TimeKind<T>::Completed(r)) {
            if (probe.LessEqual(t)) return true;
          }
        }
        return false;
      };
      if (!worker.StepWhile(pending)) {
        ADD_FAILURE() << "dataflow stalled: " << where;
        return absl::FailedPreconditionError("stalled");
      }
      if (!checker) continue;
      // Final everywhere: every worker's output up to these times is in.
      std::lock_guard<std::mutex> lock(output_mutex);
      for (uint64_t r = 0; r <= round; ++r) {
        for (const T& t : TimeKind<T>::Completed(r)) {
          Multiset<Out> got = AccumulateAt(output, t);
          Multiset<Out> want = DropZeros(
              oracle(AccumulateAt(sent_a, t), AccumulateAt(sent_b, t)));
          if (got != want) {
            ADD_FAILURE() << "mismatch at time " << Show(t) << " after round "
                          << round << "\n  got:  " << Show(got)
                          << "\n  want: " << Show(want) << "\n  " << where;
            return absl::FailedPreconditionError("mismatch");
          }
        }
      }
    }
    in_a.Close();
    in_b.Close();
    if (!worker.StepWhile([&] { return !probe.Done(); })) {
      ADD_FAILURE() << "did not drain after close: " << where;
      return absl::FailedPreconditionError("did not drain");
    }
    return absl::OkStatus();
  });
  if (!status.ok()) {
    // Every process learns of the checker's mismatch here, and stops at
    // the same seed.
    ADD_FAILURE() << status.ToString() << ": " << where;
    return false;
  }
  return true;
}

template <class T, class A, class B, class Out, class Build, class Oracle,
          class GenA, class GenB>
void CheckAgainstOracle(const std::string& name, Build build, Oracle oracle,
                        GenA gen_a, GenB gen_b, OracleOptions options = {}) {
  int64_t cases = 0;
  for (const WorkerLayout& layout : OracleWorkers()) {
    for (uint64_t seed : OracleSeeds()) {
      if (!RunOracleSeed<T, A, B, Out>(name, seed, layout, build, oracle, gen_a,
                                       gen_b, options))
        return;
      ++cases;
    }
  }
  // Summed by scripts/oracle-scale.sh.
  std::printf("[oracle] %s: %lld cases, 0 mismatches\n", name.c_str(),
              static_cast<long long>(cases));
}

// Record generators over small domains, so keys collide and retract often.
inline Rec GenRec(std::mt19937_64& rng) {
  return {static_cast<uint32_t>(rng() % 6), static_cast<uint32_t>(rng() % 4)};
}
inline uint32_t GenKey(std::mt19937_64& rng) {
  return static_cast<uint32_t>(rng() % 6);
}

}  // namespace diffmesh::testing
