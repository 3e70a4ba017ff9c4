// Oracle tests for reduce, count, distinct and threshold: every `_total`
// fast path and every general (interesting times) path, with totally and
// partially ordered times and retractions.
#include "operators/reduce.h"

#include <algorithm>
#include <cstdint>
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

}  // namespace
}  // namespace diffmesh::testing
