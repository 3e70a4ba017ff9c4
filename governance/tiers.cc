#include "governance/tiers.h"

#include <algorithm>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "operators/antijoin.h"
#include "operators/concat.h"
#include "operators/distinct.h"
#include "operators/filter.h"
#include "operators/flat_map.h"
#include "operators/map.h"
#include "operators/reduce.h"
#include "operators/semijoin.h"

namespace diffmesh {
namespace {

using Id = std::string;
// What is known of a product: its declaration (kind 0: the declared tier)
// or a reason it holds less (kind 1: the highest tier the reason allows,
// and its text).
using Fact = std::tuple<int, int, std::string>;
using Keyed = Collection<std::pair<Id, Unit>>;

Keyed Ids(const Collection<ProductDescriptor>& descriptors) {
  return Map(descriptors, [](const ProductDescriptor& d) {
    return std::pair<Id, Unit>(d.id, Unit{});
  });
}

Collection<std::pair<Id, Fact>> Reasons(
    const Collection<std::pair<Id, Unit>>& ids, Tier allows, std::string text) {
  return Map(ids, [allows, text](const std::pair<Id, Unit>& p) {
    return std::pair<Id, Fact>(p.first,
                               Fact{1, static_cast<int>(allows), text});
  });
}

}  // namespace

Collection<TierStatus> Tiers(const TierInputs& in) {
  auto at_least = [&](Tier tier) {
    return Filter(in.descriptors, [tier](const ProductDescriptor& d) {
      return d.tier >= tier;
    });
  };
  auto wants_curated = at_least(Tier::kCurated);
  auto wants_authoritative =
      Distinct(Map(at_least(Tier::kAuthoritative),
                   [](const ProductDescriptor& d) { return d.id; }));
  auto with_contract =
      Distinct(Map(in.contracts, [](const std::pair<Id, std::string>& c) {
        return c.first;
      }));

  // Curated: an owner and a contract.
  auto with_owner = Ids(Filter(wants_curated, [](const ProductDescriptor& d) {
    return !d.owner.empty();
  }));
  auto no_owner = Ids(Filter(wants_curated, [](const ProductDescriptor& d) {
    return d.owner.empty();
  }));
  auto no_contract = Antijoin(Ids(wants_curated), with_contract);
  // The products that hold curated or above.
  auto curated =
      Distinct(Map(Semijoin(with_owner, with_contract),
                   [](const std::pair<Id, Unit>& p) { return p.first; }));

  // Authoritative: no failing error check, every upstream curated.
  auto failing = Map(
      Semijoin(in.failing_checks, wants_authoritative),
      [](const std::pair<Id, std::string>& f) {
        return std::pair<Id, Fact>(
            f.first, Fact{1, static_cast<int>(Tier::kCurated),
                          absl::StrCat("error check ", f.second, " fails")});
      });
  // (upstream, product) for authoritative products.
  auto upstream =
      Distinct(Map(Filter(in.edges,
                          [](const LineageEdge& e) {
                            return e.from.is_product() && e.to.is_product() &&
                                   e.from.product != e.to.product;
                          }),
                   [](const LineageEdge& e) {
                     return std::pair<Id, Id>(e.to.product, e.from.product);
                   }));
  auto upstream_of_authoritative = Map(
      Semijoin(upstream, wants_authoritative), [](const std::pair<Id, Id>& p) {
        return std::pair<Id, Id>(p.second, p.first);
      });
  auto below_curated =
      Map(Antijoin(upstream_of_authoritative, curated),
          [](const std::pair<Id, Id>& p) {
            return std::pair<Id, Fact>(
                p.second,
                Fact{1, static_cast<int>(Tier::kCurated),
                     absl::StrCat("upstream ", p.first, " is below curated")});
          });

  auto declared = Map(in.descriptors, [](const ProductDescriptor& d) {
    return std::pair<Id, Fact>(d.id, Fact{0, static_cast<int>(d.tier), ""});
  });
  auto facts = Concat(
      Concat(
          Concat(declared, Reasons(no_owner, Tier::kRaw, "no owner")),
          Concat(Reasons(no_contract, Tier::kRaw, "no data contract attached"),
                 failing)),
      below_curated);
  using Out = std::tuple<int, int, std::string>;  // declared, held, reason
  auto held =
      Reduce<Out>(facts, [](const Id&, const auto& input, auto* output) {
        // Sorted by fact: the declaration (kind 0) first, if any.
        const Fact& first = input.front().first;
        if (std::get<0>(first) != 0) return;  // retired: no status
        const int declared = std::get<1>(first);
        int tier = declared;
        std::string reason;
        for (const auto& [fact, n] : input) {
          if (std::get<0>(fact) != 1 || n <= 0) continue;
          tier = std::min(tier, std::get<1>(fact));
          if (!reason.empty()) reason += "; ";
          reason += std::get<2>(fact);
        }
        output->push_back({Out{declared, tier, std::move(reason)}, 1});
      });
  return Map(held, [](const std::pair<Id, Out>& p) {
    const auto& [declared, tier, reason] = p.second;
    return TierStatus{p.first, static_cast<Tier>(declared),
                      static_cast<Tier>(tier), reason};
  });
}

const Schema& TierSchema() {
  static const Schema* schema = new Schema({
      {"product", ValueType::kString, /*nullable=*/false},
      {"declared", ValueType::kString, /*nullable=*/false},
      {"tier", ValueType::kString, /*nullable=*/false},
      {"reason", ValueType::kString},
  });
  return *schema;
}

RowCollection TierRows(const Collection<TierStatus>& tiers) {
  return Map(tiers, [](const TierStatus& s) {
    Row row;
    row.AppendString(s.product);
    row.AppendString(TierName(s.declared));
    row.AppendString(TierName(s.held));
    if (s.reason.empty()) {
      row.AppendNull();
    } else {
      row.AppendString(s.reason);
    }
    return row;
  });
}

}  // namespace diffmesh
