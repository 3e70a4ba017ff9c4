// Table: a collection of rows with a schema that records, as it is built,
// where every column comes from (column lineage).
//
//   Table orders = ...;                                   // from a Mesh
//   DM_ASSIGN_OR_RETURN(Table big, orders.Filter({"amount"}, [](const Row& in)
//   {
//     return !in[0].is_null() && in[0].as_double() > 100; }));
//   DM_ASSIGN_OR_RETURN(Table by_region, big.GroupBy({"region"}).Aggregate(
//       {Count("orders"), Sum("amount", "revenue")}));
//
// Every operation returns a new Table (the old one stays usable) or an
// InvalidArgument naming the operation and the column at fault; nothing is
// added to the dataflow when it fails. REQUIRES: the dataflow has not run
// yet (FailedPrecondition otherwise): operators are added before the first
// step.
//
// Lineage. Each output column keeps the set of product columns it is
// computed from, with the transform kind of the whole path
// (ComposeKinds): select/rename/union/group keys are direct; derive is
// derived; aggregates are aggregate; mask is masking. Columns read by a
// filter, and the key columns of a join, influence which rows exist, so they
// are kept as table-wide sources (kinds filter and join_key) that apply to
// every output column. Publishing a table (Mesh::Publish) turns both into
// LineageEdges into the new product.
//
// Rows that an operation cannot produce (a derive or mask function returned
// a value of the wrong type) are not dropped silently: they go to the
// table's quarantine, rows of QuarantineSchema().
//
// Null semantics follow SQL: a join never matches null keys; count(column),
// sum, min, max and mean skip nulls; sum/min/max/mean of no non-null value
// is null; count(*) counts rows.
// Thread-safety: a Table belongs to the worker thread of the dataflow it
// builds on (like the operators it adds).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "catalog/lineage.h"
#include "catalog/row.h"
#include "catalog/schema.h"
#include "engine/collection.h"

namespace diffmesh {

using RowCollection = Collection<Row, uint64_t, int64_t>;

// A product column an output column is computed from, and how.
struct ColumnSource {
  ColumnRef from;
  TransformKind kind = TransformKind::kDirect;
  friend auto operator<=>(const ColumnSource&, const ColumnSource&) = default;
};

// (where, line, reason): where a row was refused and why. `line` is null
// when the row did not come from a file.
const Schema& QuarantineSchema();

enum class AggregateKind { kCount, kCountColumn, kSum, kMin, kMax, kMean };

struct AggregateSpec {
  AggregateKind kind = AggregateKind::kCount;
  std::string input;   // empty for kCount (rows)
  std::string output;  // the output column's name
};

// count(*) as `output`.
AggregateSpec Count(std::string output);
// count of non-null `input` values.
AggregateSpec CountColumn(std::string input, std::string output);
AggregateSpec Sum(std::string input, std::string output);
AggregateSpec Min(std::string input, std::string output);
AggregateSpec Max(std::string input, std::string output);
AggregateSpec Mean(std::string input, std::string output);

class GroupedTable;
class SharedArrangements;

class Table {
 public:
  // The values of the declared input columns, in the order declared.
  using RowFn = std::function<Value(const Row& inputs)>;
  using Predicate = std::function<bool(const Row& inputs)>;
  using ValueFn = std::function<Value(const Value&)>;

  // An empty table of no dataflow; assign one built by FromProduct or an
  // operation.
  Table() = default;

  // Rows of product `product`: column c comes directly from product.c.
  // InvalidArgument if `schema` is not valid (Schema::Make).
  static absl::StatusOr<Table> FromProduct(const std::string& product,
                                           RowCollection rows, Schema schema);
  // The same, for a mesh's products: the arrangements of the product's rows
  // that operations on this very table make (a join's sides, by their
  // keys) are shared through `shared` -- made once per dataflow, and
  // imported from the running products' dataflow into one added later
  // (catalog/shared_arrangements.h).
  static absl::StatusOr<Table> FromProduct(
      const std::string& product, RowCollection rows, Schema schema,
      std::shared_ptr<SharedArrangements> shared);

  // Rows computed from no product's rows (the mesh's metadata, as
  // governance/'s tiers are): no column lineage. InvalidArgument for a bad
  // `schema`.
  static absl::StatusOr<Table> FromMetadata(RowCollection rows, Schema schema);

  // Rows that an operator outside this class computes from `from`'s rows
  // (governance/'s metrics, say): every output column is computed from
  // every column of `from` with transform `kind`, and `from`'s filter and
  // join-key sources and quarantine carry over. REQUIRES: `rows` is built
  // on `from`'s dataflow (CheckBuildable's rules); InvalidArgument for a bad
  // `schema`.
  static absl::StatusOr<Table> Computed(const Table& from, RowCollection rows,
                                        Schema schema, TransformKind kind);

  // This table, whose rows also depend on columns `columns` of `other`
  // (a lookup in it, say): their sources, composed with `kind`, become
  // table-wide sources (as a join's keys are), and `other`'s quarantine
  // joins this one's. InvalidArgument for an unknown column.
  absl::StatusOr<Table> InfluencedBy(const Table& other,
                                     const std::vector<std::string>& columns,
                                     TransformKind kind) const;

  // This table over other rows, computed from its own with no change of
  // schema or meaning (a hold on checks, say): the same columns, lineage
  // and quarantine. REQUIRES: `rows` is built on this table's rows.
  Table WithRows(RowCollection rows) const;

  const RowCollection& rows() const { return rows_; }
  const Schema& schema() const { return schema_; }
  // Per column, its sources (sorted, unique).
  const std::vector<std::vector<ColumnSource>>& column_sources() const {
    return column_sources_;
  }
  // Sources that influence every column (filter reads, join keys).
  const std::vector<ColumnSource>& table_sources() const {
    return table_sources_;
  }
  // The products this table reads, sorted.
  std::vector<std::string> UpstreamProducts() const;
  // Rows refused on the way (QuarantineSchema()), each refusing operation's
  // once even where tables that share it meet again; nullopt when no
  // operation can refuse any. REQUIRES: the dataflow has not run (several
  // refusing operations are concatenated here).
  std::optional<RowCollection> quarantine() const;

  absl::StatusOr<Table> Select(const std::vector<std::string>& columns) const;
  absl::StatusOr<Table> Rename(const std::string& from,
                               const std::string& to) const;
  // Appends column `name` of `type` = fn(values of `inputs`). A result
  // that is neither null nor of `type` sends the row to the quarantine.
  absl::StatusOr<Table> Derive(const std::string& name, ValueType type,
                               const std::vector<std::string>& inputs,
                               RowFn fn) const;
  // Keeps the rows for which predicate(values of `inputs`) holds.
  absl::StatusOr<Table> Filter(const std::vector<std::string>& inputs,
                               Predicate predicate) const;
  // Replaces `column` by fn(column), a declared masking transform (e.g. a
  // hash of an email). The type stays; the column's tags (pii, ...) do
  // not: the masked value no longer holds what they classified. A
  // wrong-typed result quarantines the row. Nulls are passed to fn as well.
  absl::StatusOr<Table> Mask(const std::string& column, ValueFn fn) const;
  // Inner equi-join on pairs (left column, right column) of equal types.
  // Output: every left column, then the right columns that are not join
  // keys; a right column whose name is already taken is an error (Rename
  // it first).
  absl::StatusOr<Table> JoinOn(
      const Table& right,
      const std::vector<std::pair<std::string, std::string>>& on) const;
  // JoinOn columns named the same on both sides.
  absl::StatusOr<Table> Join(const Table& right,
                             const std::vector<std::string>& on) const;
  // Rows of both; the schemas must have the same column names and types in
  // the same order (a column is nullable if it is on either side).
  absl::StatusOr<Table> Union(const Table& other) const;
  GroupedTable GroupBy(std::vector<std::string> keys) const;

 private:
  friend class GroupedTable;
  Table(RowCollection rows, Schema schema,
        std::vector<std::vector<ColumnSource>> column_sources,
        std::vector<ColumnSource> table_sources,
        std::vector<RowCollection> quarantine);
  absl::Status CheckBuildable(const char* operation) const;
  absl::StatusOr<std::vector<int>> Indices(
      const char* operation, const std::vector<std::string>& columns) const;
  // Sources of `columns` composed with `kind`.
  std::vector<ColumnSource> SourcesOf(const std::vector<int>& columns,
                                      TransformKind kind) const;
  // This table's quarantine parts and `more`, each stream once.
  std::vector<RowCollection> WithQuarantine(
      const std::vector<RowCollection>& more) const;

  RowCollection rows_;
  Schema schema_;
  std::vector<std::vector<ColumnSource>> column_sources_;
  std::vector<ColumnSource> table_sources_;
  std::vector<RowCollection> quarantine_;
  // Set on a product's own rows only (FromProduct with sharing).
  std::string product_;
  std::shared_ptr<SharedArrangements> shared_;
};

class GroupedTable {
 public:
  // One row per group present: the key columns, then one column per
  // aggregate. count and count_column are int64 (never null); sum keeps an
  // int64 input's type and is double otherwise; min/max keep the type;
  // mean is double. InvalidArgument for unknown columns, sums or means of
  // non-numeric columns, and repeated output names.
  absl::StatusOr<Table> Aggregate(
      const std::vector<AggregateSpec>& aggregates) const;

 private:
  friend class Table;
  GroupedTable(Table table, std::vector<std::string> keys)
      : table_(std::move(table)), keys_(std::move(keys)) {}
  Table table_;
  std::vector<std::string> keys_;
};

}  // namespace diffmesh
