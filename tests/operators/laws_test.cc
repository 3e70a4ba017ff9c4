// Algebraic laws, at every time, with retractions and partially ordered
// times: x.negate().concat(x) is empty; distinct is idempotent; count of a
// distinct collection is all ones.
#include <cstdint>
#include <utility>

#include "operators/concat.h"
#include "operators/consolidate.h"
#include "operators/count.h"
#include "operators/distinct.h"
#include "operators/map.h"
#include "operators/negate.h"
#include "tests/operators/oracle.h"

namespace diffmesh::testing {
namespace {

template <class T>
class Laws : public ::testing::Test {};
using TimeKinds = ::testing::Types<uint64_t, PTime>;
TYPED_TEST_SUITE(Laws, TimeKinds);

auto Empty = [](const auto&, const auto&) { return Multiset<Rec>{}; };

TYPED_TEST(Laws, NegateConcatIsEmpty) {
  CheckAgainstOracle<TypeParam, Rec, Rec, Rec>(
      "negate_concat",
      [](auto a, auto) { return Consolidate(Concat(Negate(a), a)); }, Empty,
      GenRec, GenRec, {.allow_negative = true});
}

TYPED_TEST(Laws, DistinctIsIdempotent) {
  CheckAgainstOracle<TypeParam, Rec, Rec, Rec>(
      "distinct_idempotent",
      [](auto a, auto) {
        return Consolidate(Concat(Distinct(Distinct(a)), Negate(Distinct(a))));
      },
      Empty, GenRec, GenRec, {.allow_negative = true});
}

TYPED_TEST(Laws, CountOfDistinctIsOne) {
  CheckAgainstOracle<TypeParam, Rec, Rec, Rec>(
      "count_distinct",
      [](auto a, auto) {
        auto counts = Count(Distinct(a));
        return Consolidate(Concat(
            Map(counts,
                [](const auto& kc) {
                  return std::pair<uint32_t, uint32_t>(
                      kc.first.first * 10 + kc.first.second,
                      static_cast<uint32_t>(kc.second));
                }),
            Negate(Map(Distinct(a), [](const Rec& r) {
              return std::pair<uint32_t, uint32_t>(r.first * 10 + r.second, 1);
            }))));
      },
      Empty, GenRec, GenRec, {.allow_negative = true});
}

}  // namespace
}  // namespace diffmesh::testing
