#include "governance/freshness.h"

#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/graph.h"
#include "engine/status_macros.h"
#include "governance/counted_rows.h"
#include "governance/profile.h"
#include "operators/concat.h"
#include "operators/flat_map.h"
#include "operators/map.h"

namespace diffmesh {
namespace {

std::optional<double> UnitMicros(std::string unit) {
  unit = absl::AsciiStrToLower(unit);
  static const std::map<std::string, double> units = {
      {"s", 1e6},           {"sec", 1e6},         {"second", 1e6},
      {"seconds", 1e6},     {"m", 60e6},          {"min", 60e6},
      {"minute", 60e6},     {"minutes", 60e6},    {"h", 3600e6},
      {"hr", 3600e6},       {"hour", 3600e6},     {"hours", 3600e6},
      {"d", 86400e6},       {"day", 86400e6},     {"days", 86400e6},
      {"w", 604800e6},      {"week", 604800e6},   {"weeks", 604800e6},
      {"mo", 2592000e6},    {"month", 2592000e6}, {"months", 2592000e6},
      {"y", 31536000e6},    {"yr", 31536000e6},   {"year", 31536000e6},
      {"years", 31536000e6}};
  auto it = units.find(unit);
  if (it == units.end()) return std::nullopt;
  return it->second;
}

// The SLA's value x unit in microseconds, and the unit's; InvalidArgument
// naming its path for a value that is not a positive number or an unknown
// unit.
absl::StatusOr<std::pair<double, double>> SlaMicros(const SlaProperty& p) {
  double value = 0;
  if (!absl::SimpleAtod(p.value, &value) || !(value > 0) ||
      !std::isfinite(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat(p.where, ": ", p.property, " value '", p.value,
                     "' is not a positive number"));
  }
  std::optional<double> unit = UnitMicros(p.unit);
  if (!unit) {
    return absl::InvalidArgumentError(
        absl::StrCat(p.where, ": unknown unit '", p.unit,
                     "' (s, m, h, d, w, mo, y or their long names)"));
  }
  return std::pair<double, double>(value * *unit, *unit);
}

}  // namespace

absl::StatusOr<std::optional<absl::Duration>> DataSetRetention(
    const AttachedContract& attached) {
  std::optional<absl::Duration> shortest;
  for (const SlaProperty& p : attached.contract.sla) {
    if (absl::AsciiStrToLower(p.property) != "retention") continue;
    // About the data set: no element, or the schema object itself.
    if (!p.element.empty() && p.element != attached.object) continue;
    DM_ASSIGN_OR_RETURN(auto micros, SlaMicros(p));
    const absl::Duration d =
        absl::Microseconds(static_cast<int64_t>(micros.first));
    if (!shortest || d < *shortest) shortest = d;
  }
  return shortest;
}

absl::StatusOr<std::vector<FreshnessRule>> FreshnessRules(
    const AttachedContract& attached, const Schema& schema) {
  std::vector<FreshnessRule> rules;
  const DataContract& c = attached.contract;
  for (size_t i = 0; i < c.sla.size(); ++i) {
    const SlaProperty& p = c.sla[i];
    const std::string kind = absl::AsciiStrToLower(p.property);
    const bool retention = kind == "retention";
    if (kind != "latency" && kind != "freshness" && !retention) continue;
    // Retention without an element describes the data set
    // (DataSetRetention).
    if (retention && (p.element.empty() || p.element == attached.object)) {
      continue;
    }
    std::string column = p.element;
    if (const size_t dot = column.find('.'); dot != std::string::npos) {
      if (column.substr(0, dot) != attached.object) continue;  // another's
      column = column.substr(dot + 1);
    }
    if (column.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(p.where, ": ", p.property,
                       " needs an element (the timestamp column it is "
                       "about) to be checked"));
    }
    DM_ASSIGN_OR_RETURN(auto micros, SlaMicros(p));
    std::optional<int> at = schema.FieldIndex(column);
    if (!at || schema.fields()[*at].type != ValueType::kTimestamp) {
      return absl::FailedPreconditionError(absl::StrCat(
          p.where, ": ", p.property, " element '", column, "' is not ",
          at ? "a timestamp column" : "a column", " of the product"));
    }
    FreshnessRule r;
    r.id = absl::StrCat(attached.object, ".", column,
                        retention ? ".retention" : ".freshness");
    r.column = column;
    r.oldest = retention;
    r.max_age_micros = static_cast<int64_t>(micros.first);
    r.unit_micros = micros.second;
    r.expected = absl::StrCat("<= ", p.value, " ", p.unit);
    rules.push_back(std::move(r));
  }
  return rules;
}

absl::StatusOr<Table> FreshnessChecks(const Table& product,
                                      const std::vector<FreshnessRule>& rules,
                                      const Collection<int64_t>& now) {
  if (product.rows().graph() == nullptr) {
    return absl::InvalidArgumentError("FreshnessChecks: an empty Table");
  }
  if (product.rows().graph()->sealed()) {
    return absl::FailedPreconditionError(
        "FreshnessChecks: the dataflow has already run; build on "
        "Mesh::Use(id)");
  }
  // Named values for CountedRows, each replaced by retracting the old: 0
  // is now, 1 + k the newest value of the k-th column read, -(1 + k) its
  // oldest, each plus one (so that a missing name, read as 0, means none).
  using Named = std::pair<Row, int64_t>;
  std::vector<std::string> columns;
  std::map<std::string, int64_t> name_of;
  for (const FreshnessRule& r : rules) {
    if (name_of.emplace(r.column, static_cast<int64_t>(columns.size() + 1))
            .second) {
      columns.push_back(r.column);
    }
  }
  Collection<Named> named = Map(now, [](const int64_t& t) {
    return Named(Row{Value(int64_t{0})}, t + 1);
  });
  if (!columns.empty()) {
    // The newest and oldest values: one Profile's maxima and minima over
    // the columns read.
    DM_ASSIGN_OR_RETURN(Table read, product.Select(columns));
    DM_ASSIGN_OR_RETURN(Table metrics, Profile(read));
    named =
        Concat(named, FlatMap(metrics.rows(), [name_of](const Row& m) {
                 // (column, metric, value, text)
                 std::vector<Named> out;
                 const bool max = m[1].as_string() == "max";
                 if ((!max && m[1].as_string() != "min") || m[2].is_null()) {
                   return out;
                 }
                 auto it = name_of.find(std::string(m[0].as_string()));
                 if (it != name_of.end()) {
                   out.emplace_back(Row{Value(max ? it->second : -it->second)},
                                    static_cast<int64_t>(m[2].as_double()) + 1);
                 }
                 return out;
               }));
  }
  // Per rule: its outcome and the time it began.
  auto since = std::make_shared<std::map<size_t, std::pair<bool, uint64_t>>>();
  RowCollection verdicts = CountedRows(
      named, "freshness",
      [rules, name_of, since](uint64_t t, const CountsByName& counts) {
        auto get = [&](int64_t name) -> std::optional<int64_t> {
          auto it = counts.find(name);
          if (it == counts.end() || it->second == 0) return std::nullopt;
          return it->second - 1;
        };
        const std::optional<int64_t> clock = get(0);
        std::vector<Row> rows;
        for (size_t i = 0; i < rules.size(); ++i) {
          const FreshnessRule& r = rules[i];
          const int64_t name = name_of.at(r.column);
          const std::optional<int64_t> value = get(r.oldest ? -name : name);
          double observed = std::numeric_limits<double>::infinity();
          bool passed = false;
          if (r.oldest && !value) {
            observed = 0;  // no rows: none kept too long
            passed = true;
          } else if (clock && value) {
            const int64_t age = *clock - *value;
            // In hundredths of the unit: the verdict does not change at
            // every tick of the clock (the outcome uses the exact age).
            observed =
                std::round(100 * static_cast<double>(age) / r.unit_micros) /
                100;
            passed = age <= r.max_age_micros;
          }
          auto [at, fresh] = since->try_emplace(i, passed, t);
          if (!fresh && at->second.first != passed) at->second = {passed, t};
          Row row;
          row.AppendString(r.id);
          row.AppendString(r.column);
          row.AppendString(r.oldest ? "retention" : "freshness");
          row.AppendString("error");
          row.AppendBool(passed);
          row.AppendDouble(observed);
          row.AppendString(r.expected);
          row.AppendInt64(static_cast<int64_t>(at->second.second));
          rows.push_back(std::move(row));
        }
        return rows;
      });
  return Table::Computed(product, verdicts, VerdictSchema(),
                         TransformKind::kAggregate);
}

}  // namespace diffmesh
