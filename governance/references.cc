#include "governance/references.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/graph.h"
#include "engine/status_macros.h"
#include "governance/counted_rows.h"
#include "governance/profile.h"
#include "operators/antijoin.h"
#include "operators/count.h"
#include "operators/distinct.h"
#include "operators/internal/unary.h"
#include "operators/map.h"

namespace diffmesh {
namespace {

using Updates = std::vector<Update<Row, uint64_t, int64_t>>;

absl::StatusOr<std::vector<int>> Columns(const Table& table,
                                         const std::vector<std::string>& names,
                                         const char* side) {
  if (names.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("MissingReferences: the ", side, " key has no column"));
  }
  std::vector<int> out;
  for (const std::string& name : names) {
    std::optional<int> at = table.schema().FieldIndex(name);
    if (!at) {
      return absl::InvalidArgumentError(absl::StrCat(
          "MissingReferences: the ", side, " has no column '", name, "'"));
    }
    out.push_back(*at);
  }
  return out;
}

// Each row's key (none when a key column is null), with the row's diff.
Collection<std::pair<Row, Unit>> Keys(const Table& table,
                                      std::vector<int> columns,
                                      const char* name) {
  return internal::Unary<std::pair<Row, Unit>, int64_t>(
      table.rows(), name,
      [columns](
          Updates&& in,
          std::vector<Update<std::pair<Row, Unit>, uint64_t, int64_t>>* out) {
        for (const auto& u : in) {
          Row key;
          bool null = false;
          for (int c : columns) {
            const Datum d = u.data[c];
            null = null || d.is_null();
            key.push_back(d);
          }
          if (!null) out->push_back({{std::move(key), Unit{}}, u.time, u.diff});
        }
      });
}

}  // namespace

absl::StatusOr<Table> MissingReferences(
    const Table& child, const std::vector<std::string>& key,
    const Table& parent, const std::vector<std::string>& parent_key) {
  if (child.rows().graph() == nullptr || parent.rows().graph() == nullptr) {
    return absl::InvalidArgumentError("MissingReferences: an empty Table");
  }
  Graph* graph = child.rows().graph();
  if (parent.rows().graph() != graph) {
    return absl::FailedPreconditionError(
        "MissingReferences: the tables are of different dataflows (build "
        "both on products of one time, or on Mesh::Use of one time)");
  }
  if (graph->sealed()) {
    return absl::FailedPreconditionError(
        "MissingReferences: the dataflow has already run; build on "
        "Mesh::Use(id) after the first Advance");
  }
  DM_ASSIGN_OR_RETURN(std::vector<int> from, Columns(child, key, "child"));
  DM_ASSIGN_OR_RETURN(std::vector<int> to,
                      Columns(parent, parent_key, "parent"));
  if (from.size() != to.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("MissingReferences: the keys have ", from.size(), " and ",
                     to.size(), " columns"));
  }
  for (size_t i = 0; i < from.size(); ++i) {
    const ValueType a = child.schema().fields()[from[i]].type;
    const ValueType b = parent.schema().fields()[to[i]].type;
    if (a != b) {
      return absl::InvalidArgumentError(absl::StrCat(
          "MissingReferences: '", key[i], "' is ", ValueTypeName(a), " but '",
          parent_key[i], "' is ", ValueTypeName(b)));
    }
  }
  auto referenced =
      Distinct(Map(Keys(parent, to, "references.parent_keys"),
                   [](const std::pair<Row, Unit>& k) { return k.first; }));
  auto missing =
      Antijoin(Keys(child, from, "references.child_keys"), referenced);
  // Every missing row counts under the one name 0.
  auto named = internal::Unary<Row, int64_t>(
      missing, "references.missing",
      [](std::vector<Update<std::pair<Row, Unit>, uint64_t, int64_t>>&& in,
         Updates* out) {
        for (const auto& u : in) {
          Row name;
          name.AppendInt64(0);
          out->push_back({std::move(name), u.time, u.diff});
        }
      });
  const std::string column = absl::StrJoin(key, ",");
  RowCollection rows = CountedRows(
      CountTotal(named), "references.count",
      [column](uint64_t, const CountsByName& counts) {
        auto it = counts.find(0);
        const double n =
            it == counts.end() ? 0 : static_cast<double>(it->second);
        return std::vector<Row>{MetricRow(column, "missing_references", n)};
      });
  // The count depends on the parent's key too (which keys exist).
  DM_ASSIGN_OR_RETURN(
      Table counted,
      Table::Computed(child, rows, MetricsSchema(), TransformKind::kAggregate));
  return counted.InfluencedBy(parent, parent_key, TransformKind::kJoinKey);
}

}  // namespace diffmesh
