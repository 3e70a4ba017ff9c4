// Oracle tests for reduce, count, distinct and threshold: every `_total`
// fast path and every general (interesting times) path, with totally and
// partially ordered times and retractions.
#include "operators/reduce.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <utility>

#include "operators/count.h"
#include "operators/distinct.h"
#include "operators/threshold.h"
#include "tests/operators/oracle.h"

namespace diffmesh::testing {
namespace {

template <class T>
class ReduceOracle : public ::testing::Test {};
using TimeKinds = ::testing::Types<uint64_t, PTime>;
TYPED_TEST_SUITE(ReduceOracle, TimeKinds);

using KeyCount = std::pair<uint32_t, int64_t>;

Multiset<KeyCount> CountOracle(const Multiset<uint32_t>& a) {
  Multiset<KeyCount> out;
  for (const auto& [k, m] : a) {
    if (m != 0) out[{k, m}] += 1;
  }
  return out;
}
Multiset<uint32_t> DistinctOracle(const Multiset<uint32_t>& a) {
  Multiset<uint32_t> out;
  for (const auto& [k, m] : a) {
    if (m > 0) out[k] = 1;
  }
  return out;
}

// The threshold under test keeps multiplicities of at least two.
int64_t AtLeastTwo(uint32_t, int64_t m) { return m >= 2 ? m : int64_t{0}; }
Multiset<uint32_t> AtLeastTwoOracle(const Multiset<uint32_t>& a) {
  Multiset<uint32_t> out;
  for (const auto& [k, m] : a) {
    if (m >= 2) out[k] = m;
  }
  return out;
}

// Reduce: per key, the minimum value and the total multiplicity.
TYPED_TEST(ReduceOracle, ReduceMinAndSum) {
  using Out = std::pair<uint32_t, uint32_t>;
  CheckAgainstOracle<TypeParam, Rec, Rec, Out>(
      "reduce",
      [](auto a, auto) {
        return Reduce<uint32_t>(
            a, [](const uint32_t&, const auto& input, auto* output) {
              int64_t total = 0;
              for (const auto& [v, r] : input) total += r;
              output->emplace_back(input.front().first, 1);
              output->emplace_back(1000 + static_cast<uint32_t>(total), 1);
            });
      },
      [](const Multiset<Rec>& a, const Multiset<Rec>&) {
        Multiset<Out> out;
        std::map<uint32_t, std::pair<uint32_t, int64_t>> per_key;
        for (const auto& [r, m] : a) {
          auto [it, fresh] = per_key.try_emplace(r.first, r.second, 0);
          it->second.first = std::min(it->second.first, r.second);
          it->second.second += m;
        }
        for (const auto& [k, v] : per_key) {
          out[{k, v.first}] += 1;
          out[{k, 1000 + static_cast<uint32_t>(v.second)}] += 1;
        }
        return out;
      },
      GenRec, GenRec);
}

TYPED_TEST(ReduceOracle, Count) {
  CheckAgainstOracle<TypeParam, uint32_t, uint32_t, KeyCount>(
      "count", [](auto a, auto) { return Count(a); },
      [](const Multiset<uint32_t>& a, const Multiset<uint32_t>&) {
        return CountOracle(a);
      },
      GenKey, GenKey, {.allow_negative = true});
}

TYPED_TEST(ReduceOracle, CountGeneral) {
  CheckAgainstOracle<TypeParam, uint32_t, uint32_t, KeyCount>(
      "count_general", [](auto a, auto) { return CountGeneral(a); },
      [](const Multiset<uint32_t>& a, const Multiset<uint32_t>&) {
        return CountOracle(a);
      },
      GenKey, GenKey, {.allow_negative = true});
}

TYPED_TEST(ReduceOracle, Distinct) {
  CheckAgainstOracle<TypeParam, uint32_t, uint32_t, uint32_t>(
      "distinct", [](auto a, auto) { return Distinct(a); },
      [](const Multiset<uint32_t>& a, const Multiset<uint32_t>&) {
        return DistinctOracle(a);
      },
      GenKey, GenKey, {.allow_negative = true});
}

TYPED_TEST(ReduceOracle, DistinctGeneral) {
  CheckAgainstOracle<TypeParam, uint32_t, uint32_t, uint32_t>(
      "distinct_general", [](auto a, auto) { return DistinctGeneral(a); },
      [](const Multiset<uint32_t>& a, const Multiset<uint32_t>&) {
        return DistinctOracle(a);
      },
      GenKey, GenKey, {.allow_negative = true});
}

TYPED_TEST(ReduceOracle, ThresholdGeneral) {
  CheckAgainstOracle<TypeParam, uint32_t, uint32_t, uint32_t>(
      "threshold_general",
      [](auto a, auto) { return ThresholdGeneral(a, AtLeastTwo); },
      [](const Multiset<uint32_t>& a, const Multiset<uint32_t>&) {
        return AtLeastTwoOracle(a);
      },
      GenKey, GenKey);
}

// The _total fast paths exist only for totally ordered time.
TEST(ReduceTotalOracle, CountTotal) {
  CheckAgainstOracle<uint64_t, uint32_t, uint32_t, KeyCount>(
      "count_total", [](auto a, auto) { return CountTotal(a); },
      [](const Multiset<uint32_t>& a, const Multiset<uint32_t>&) {
        return CountOracle(a);
      },
      GenKey, GenKey, {.allow_negative = true});
}

TEST(ReduceTotalOracle, DistinctTotal) {
  CheckAgainstOracle<uint64_t, uint32_t, uint32_t, uint32_t>(
      "distinct_total", [](auto a, auto) { return DistinctTotal(a); },
      [](const Multiset<uint32_t>& a, const Multiset<uint32_t>&) {
        return DistinctOracle(a);
      },
      GenKey, GenKey, {.allow_negative = true});
}

TEST(ReduceTotalOracle, ThresholdTotal) {
  CheckAgainstOracle<uint64_t, uint32_t, uint32_t, uint32_t>(
      "threshold_total",
      [](auto a, auto) { return ThresholdTotal(a, AtLeastTwo); },
      [](const Multiset<uint32_t>& a, const Multiset<uint32_t>&) {
        return AtLeastTwoOracle(a);
      },
      GenKey, GenKey);
}

// (key, value) -> count in a reduce's output trace as of its last batch.
template <class Arr>
std::map<std::pair<uint32_t, uint32_t>, int64_t> OutputOf(const Arr& out) {
  std::map<std::pair<uint32_t, uint32_t>, int64_t> acc;
  auto cursor = out.trace->CursorThrough(out.trace->sequence());
  for (; cursor.KeyValid(); cursor.StepKey()) {
    cursor.MapKeyUpdates([&](const uint32_t& v, uint64_t, int64_t r) {
      acc[{cursor.Key(), v}] += r;
    });
  }
  std::erase_if(acc, [](const auto& kv) { return kv.second == 0; });
  return acc;
}

// Like an arrangement's, a reduce's output trace is merged while a single
// worker has nothing else to do, down to one batch, and reads the same.
TEST(ReduceMaintenance, IdleWorkerMergesTheOutputTrace) {
  Worker worker;
  Graph& graph = worker.NewDataflow("reduce_idle");
  auto [input, pairs] = NewInput<std::pair<uint32_t, uint32_t>>(graph);
  auto minimum = ReduceCore<uint32_t, int64_t>(
      ArrangeByKey(pairs), [](const uint32_t&, const auto& in, auto* out) {
        out->emplace_back(in.front().first, 1);  // sorted: the minimum
      });
  auto probe = ProbeStream(minimum.stream);
  for (uint32_t round = 0; round < 60; ++round) {
    input.Insert({round % 10, 1000 - round});  // a new minimum every round
    input.AdvanceTo(round + 1);
    ASSERT_TRUE(worker.StepWhile([&] { return probe.LessThan(round + 1); }));
  }
  auto before = OutputOf(minimum);
  ASSERT_EQ(before.size(), 10u);
  for (uint32_t k = 0; k < 10; ++k) {
    EXPECT_EQ(before[std::make_pair(k, 1000 - 50 - k)], 1) << "key " << k;
  }
  ASSERT_GT(minimum.trace->spine().NumBatches(), 1u);
  while (worker.Step()) {
  }
  EXPECT_EQ(minimum.trace->spine().NumBatches(), 1u);
  EXPECT_EQ(OutputOf(minimum), before);
}

// A reduce keeps the scratch of its activations for the next ones only up
// to a small size per vector: a load's (40,000 keys at once, about 0.6 MiB
// of keys and times alone) is given back, so rounds of a few changes after
// it do not carry it. Before, every scratch vector of up to 65,536
// elements was kept, on every worker.
TEST(ReduceMaintenance, ALoadsScratchIsGivenBack) {
  Worker worker;
  Graph& graph = worker.NewDataflow("reduce_scratch");
  auto [input, pairs] = NewInput<std::pair<uint32_t, uint32_t>>(graph);
  auto minimum = ReduceCore<uint32_t, int64_t>(
      ArrangeByKey(pairs), [](const uint32_t&, const auto& in, auto* out) {
        out->emplace_back(in.front().first, 1);
      });
  auto probe = ProbeStream(minimum.stream);
  constexpr uint32_t kKeys = 40000;
  for (uint32_t k = 0; k < kKeys; ++k) input.Insert({k, k});
  input.AdvanceTo(1);
  ASSERT_TRUE(worker.StepWhile([&] { return probe.LessThan(1); }));
  for (uint32_t round = 1; round <= 5; ++round) {
    input.Insert({round, 0});  // a new minimum for one key
    input.AdvanceTo(round + 1);
    ASSERT_TRUE(worker.StepWhile([&] { return probe.LessThan(round + 1); }));
  }
  HeldByteParts parts;
  worker.AddHeldBytes(&parts);
  EXPECT_LT(parts.other, size_t{256} << 10);
  auto out = OutputOf(minimum);
  ASSERT_EQ(out.size(), kKeys);
  EXPECT_EQ((out[{3, 0}]), 1);
  EXPECT_EQ((out[{7, 7}]), 1);
}

}  // namespace
}  // namespace diffmesh::testing
