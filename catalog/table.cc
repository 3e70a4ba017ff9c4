#include "catalog/table.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "catalog/shared_arrangements.h"
#include "engine/graph.h"
#include "engine/status_macros.h"
#include "operators/combine.h"
#include "operators/concat.h"
#include "operators/filter.h"
#include "operators/flat_map.h"
#include "operators/join.h"
#include "operators/map.h"
#include "operators/reduce.h"

namespace diffmesh {
namespace {

Row Project(const Row& row, const std::vector<int>& columns) {
  absl::InlinedVector<Datum, 16> values = row.Unpack();
  Row out;
  for (int c : columns) out.push_back(values[c]);
  return out;
}

void SortUnique(std::vector<ColumnSource>* sources) {
  std::sort(sources->begin(), sources->end());
  sources->erase(std::unique(sources->begin(), sources->end()), sources->end());
}

std::vector<ColumnSource> Merged(std::vector<ColumnSource> a,
                                 const std::vector<ColumnSource>& b) {
  a.insert(a.end(), b.begin(), b.end());
  SortUnique(&a);
  return a;
}

bool Fits(const Value& v, ValueType type) {
  return v.is_null() || v.type() == type;
}

Row QuarantineRow(std::string where, std::string reason) {
  return Row{Value(std::move(where)), Value::Null(), Value(std::move(reason))};
}

// A row produced by a user function: kept (first) or refused, in which case
// the Row is a quarantine row.
using Produced = std::pair<bool, Row>;

// Splits produced rows into the kept ones and the quarantine rows.
std::pair<RowCollection, RowCollection> SplitProduced(
    const Collection<Produced, uint64_t, int64_t>& produced) {
  auto ok = Map(Filter(produced, [](const Produced& p) { return p.first; }),
                [](const Produced& p) { return p.second; });
  auto refused =
      Map(Filter(produced, [](const Produced& p) { return !p.first; }),
          [](const Produced& p) { return p.second; });
  return {ok, refused};
}

bool IsNumeric(ValueType t) {
  return t == ValueType::kInt64 || t == ValueType::kDouble;
}

double AsDouble(Datum v) {
  return v.type() == ValueType::kInt64 ? static_cast<double>(v.as_int64())
                                       : v.as_double();
}

// One aggregate over a group: where its input sits in the value row (-1 for
// count(*)) and its kind and input type.
struct AggregatePlan {
  AggregateKind kind;
  int position;
  ValueType type;
};

Row EvaluateAggregates(const std::vector<AggregatePlan>& plans,
                       const std::vector<std::pair<Row, int64_t>>& input) {
  Row out;
  for (const AggregatePlan& plan : plans) {
    int64_t count = 0;
    int64_t int_sum = 0;
    double double_sum = 0;
    std::optional<Datum> best;
    for (const auto& [values, diff] : input) {
      if (plan.kind == AggregateKind::kCount) {
        count += diff;
        continue;
      }
      Datum v = values[plan.position];
      if (v.is_null()) continue;
      count += diff;
      switch (plan.kind) {
        case AggregateKind::kSum:
        case AggregateKind::kMean:
          if (v.type() == ValueType::kInt64) {
            int_sum += v.as_int64() * diff;
          }
          double_sum += AsDouble(v) * static_cast<double>(diff);
          break;
        case AggregateKind::kMin:
          if (diff > 0 && (!best || v < *best)) best = v;
          break;
        case AggregateKind::kMax:
          if (diff > 0 && (!best || *best < v)) best = v;
          break;
        default:
          break;
      }
    }
    switch (plan.kind) {
      case AggregateKind::kCount:
      case AggregateKind::kCountColumn:
        out.AppendInt64(count);
        break;
      case AggregateKind::kSum:
        if (count == 0) {
          out.AppendNull();
        } else if (plan.type == ValueType::kInt64) {
          out.AppendInt64(int_sum);
        } else {
          out.AppendDouble(double_sum);
        }
        break;
      case AggregateKind::kMean:
        if (count == 0) {
          out.AppendNull();
        } else {
          out.AppendDouble(double_sum / static_cast<double>(count));
        }
        break;
      case AggregateKind::kMin:
      case AggregateKind::kMax:
        if (best) {
          out.push_back(*best);
        } else {
          out.AppendNull();
        }
        break;
    }
  }
  return out;
}

const char* AggregateName(AggregateKind kind) {
  switch (kind) {
    case AggregateKind::kCount:
      return "count";
    case AggregateKind::kCountColumn:
      return "count_column";
    case AggregateKind::kSum:
      return "sum";
    case AggregateKind::kMin:
      return "min";
    case AggregateKind::kMax:
      return "max";
    case AggregateKind::kMean:
      return "mean";
  }
  return "?";
}

}  // namespace

const Schema& QuarantineSchema() {
  static const Schema* schema = new Schema(
      {{"where", ValueType::kString, false, "file, or the operation"},
       {"line", ValueType::kInt64, true, "line or record number in the file"},
       {"reason", ValueType::kString, false, "why the row was refused"}});
  return *schema;
}

AggregateSpec Count(std::string output) {
  return {AggregateKind::kCount, "", std::move(output)};
}
AggregateSpec CountColumn(std::string input, std::string output) {
  return {AggregateKind::kCountColumn, std::move(input), std::move(output)};
}
AggregateSpec Sum(std::string input, std::string output) {
  return {AggregateKind::kSum, std::move(input), std::move(output)};
}
AggregateSpec Min(std::string input, std::string output) {
  return {AggregateKind::kMin, std::move(input), std::move(output)};
}
AggregateSpec Max(std::string input, std::string output) {
  return {AggregateKind::kMax, std::move(input), std::move(output)};
}
AggregateSpec Mean(std::string input, std::string output) {
  return {AggregateKind::kMean, std::move(input), std::move(output)};
}

Table::Table(RowCollection rows, Schema schema,
             std::vector<std::vector<ColumnSource>> column_sources,
             std::vector<ColumnSource> table_sources,
             std::vector<RowCollection> quarantine)
    : rows_(std::move(rows)),
      schema_(std::move(schema)),
      column_sources_(std::move(column_sources)),
      table_sources_(std::move(table_sources)),
      quarantine_(std::move(quarantine)) {
  for (auto& s : column_sources_) SortUnique(&s);
  SortUnique(&table_sources_);
}

absl::StatusOr<Table> Table::FromProduct(const std::string& product,
                                         RowCollection rows, Schema schema) {
  absl::StatusOr<Schema> valid = Schema::Make(schema.fields());
  if (!valid.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("product ", product, ": ", valid.status().message()));
  }
  std::vector<std::vector<ColumnSource>> sources;
  for (const Field& f : schema.fields()) {
    sources.push_back({{{product, f.name}, TransformKind::kDirect}});
  }
  return Table(std::move(rows), *std::move(valid), std::move(sources), {}, {});
}

absl::StatusOr<Table> Table::FromProduct(
    const std::string& product, RowCollection rows, Schema schema,
    std::shared_ptr<SharedArrangements> shared) {
  DM_ASSIGN_OR_RETURN(Table table,
                      FromProduct(product, std::move(rows), std::move(schema)));
  table.product_ = product;
  table.shared_ = std::move(shared);
  return table;
}

absl::StatusOr<Table> Table::FromMetadata(RowCollection rows, Schema schema) {
  absl::StatusOr<Schema> valid = Schema::Make(schema.fields());
  if (!valid.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("FromMetadata: ", valid.status().message()));
  }
  std::vector<std::vector<ColumnSource>> sources(valid->size());
  return Table(std::move(rows), *std::move(valid), std::move(sources), {}, {});
}

absl::StatusOr<Table> Table::Computed(const Table& from, RowCollection rows,
                                      Schema schema, TransformKind kind) {
  DM_RETURN_IF_ERROR(from.CheckBuildable("Computed"));
  absl::StatusOr<Schema> valid = Schema::Make(schema.fields());
  if (!valid.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Computed: ", valid.status().message()));
  }
  std::vector<int> all(from.schema_.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
  std::vector<std::vector<ColumnSource>> sources(valid->size(),
                                                 from.SourcesOf(all, kind));
  return Table(std::move(rows), *std::move(valid), std::move(sources),
               from.table_sources_, from.WithQuarantine({}));
}

absl::StatusOr<Table> Table::InfluencedBy(
    const Table& other, const std::vector<std::string>& columns,
    TransformKind kind) const {
  DM_ASSIGN_OR_RETURN(std::vector<int> indices,
                      other.Indices("influenced by", columns));
  Table out = *this;
  out.table_sources_ = Merged(table_sources_, other.SourcesOf(indices, kind));
  out.table_sources_ = Merged(out.table_sources_, other.table_sources_);
  out.quarantine_ = WithQuarantine(other.quarantine_);
  out.product_.clear();
  out.shared_.reset();
  return out;
}

Table Table::WithRows(RowCollection rows) const {
  Table out = *this;
  out.rows_ = std::move(rows);
  // Other rows than the product's own: nothing of its arrangements fits.
  out.product_.clear();
  out.shared_.reset();
  return out;
}

std::vector<std::string> Table::UpstreamProducts() const {
  std::set<std::string> products;
  for (const auto& sources : column_sources_) {
    for (const ColumnSource& s : sources) products.insert(s.from.product);
  }
  for (const ColumnSource& s : table_sources_) products.insert(s.from.product);
  return {products.begin(), products.end()};
}

absl::Status Table::CheckBuildable(const char* operation) const {
  if (rows_.graph() != nullptr && rows_.graph()->sealed()) {
    return absl::FailedPreconditionError(
        absl::StrCat(operation,
                     ": the dataflow has already run; build on the products "
                     "before the mesh's first Advance, or on Mesh::Use(id) "
                     "after it"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int>> Table::Indices(
    const char* operation, const std::vector<std::string>& columns) const {
  std::vector<int> out;
  for (const std::string& name : columns) {
    std::optional<int> at = schema_.FieldIndex(name);
    if (!at) {
      std::vector<std::string> names;
      for (const Field& f : schema_.fields()) names.push_back(f.name);
      return absl::InvalidArgumentError(
          absl::StrCat(operation, ": no column '", name,
                       "' (columns: ", absl::StrJoin(names, ", "), ")"));
    }
    out.push_back(*at);
  }
  return out;
}

std::vector<ColumnSource> Table::SourcesOf(const std::vector<int>& columns,
                                           TransformKind kind) const {
  std::vector<ColumnSource> out;
  for (int c : columns) {
    for (const ColumnSource& s : column_sources_[c]) {
      out.push_back({s.from, ComposeKinds(s.kind, kind)});
    }
  }
  SortUnique(&out);
  return out;
}

std::vector<RowCollection> Table::WithQuarantine(
    const std::vector<RowCollection>& more) const {
  std::vector<RowCollection> parts = quarantine_;
  for (const RowCollection& part : more) {
    const bool known =
        std::any_of(parts.begin(), parts.end(), [&](const RowCollection& p) {
          return p.stream.port == part.stream.port;
        });
    if (!known) parts.push_back(part);
  }
  return parts;
}

std::optional<RowCollection> Table::quarantine() const {
  if (quarantine_.empty()) return std::nullopt;
  if (quarantine_.size() == 1) return quarantine_[0];
  return ConcatMany(quarantine_);
}

absl::StatusOr<Table> Table::Select(
    const std::vector<std::string>& columns) const {
  if (auto s = CheckBuildable("select"); !s.ok()) return s;
  auto indices = Indices("select", columns);
  if (!indices.ok()) return indices.status();
  std::vector<Field> fields;
  std::vector<std::vector<ColumnSource>> sources;
  for (int c : *indices) {
    fields.push_back(schema_.fields()[c]);
    sources.push_back(column_sources_[c]);
  }
  absl::StatusOr<Schema> schema = Schema::Make(std::move(fields));
  if (!schema.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("select: ", schema.status().message()));
  }
  auto rows = Map(
      rows_, [idx = *indices](const Row& row) { return Project(row, idx); });
  return Table(rows, *std::move(schema), std::move(sources), table_sources_,
               quarantine_);
}

absl::StatusOr<Table> Table::Rename(const std::string& from,
                                    const std::string& to) const {
  auto index = Indices("rename", {from});
  if (!index.ok()) return index.status();
  std::vector<Field> fields = schema_.fields();
  fields[(*index)[0]].name = to;
  absl::StatusOr<Schema> schema = Schema::Make(std::move(fields));
  if (!schema.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "rename '", from, "' to '", to, "': ", schema.status().message()));
  }
  return Table(rows_, *std::move(schema), column_sources_, table_sources_,
               quarantine_);
}

absl::StatusOr<Table> Table::Derive(const std::string& name, ValueType type,
                                    const std::vector<std::string>& inputs,
                                    RowFn fn) const {
  const std::string op = absl::StrCat("derive '", name, "'");
  if (auto s = CheckBuildable(op.c_str()); !s.ok()) return s;
  if (!fn) return absl::InvalidArgumentError(op + ": no function given");
  auto indices = Indices(op.c_str(), inputs);
  if (!indices.ok()) return indices.status();
  std::vector<Field> fields = schema_.fields();
  fields.push_back(
      {name, type, /*nullable=*/true,
       absl::StrCat("derived from ", absl::StrJoin(inputs, ", "))});
  absl::StatusOr<Schema> schema = Schema::Make(std::move(fields));
  if (!schema.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": ", schema.status().message()));
  }
  auto produced = Map(rows_, [idx = *indices, fn, type, op](const Row& row) {
    Value v = fn(Project(row, idx));
    if (!Fits(v, type)) {
      return Produced(
          false,
          QuarantineRow(op, absl::StrCat("returned ", v.DebugString(),
                                         ", expects ", ValueTypeName(type),
                                         "; row ", RowDebugString(row))));
    }
    Row out = row;
    out.push_back(v);
    return Produced(true, std::move(out));
  });
  auto [kept, refused] = SplitProduced(produced);
  std::vector<std::vector<ColumnSource>> sources = column_sources_;
  sources.push_back(SourcesOf(*indices, TransformKind::kDerived));
  return Table(kept, *std::move(schema), std::move(sources), table_sources_,
               WithQuarantine({refused}));
}

absl::StatusOr<Table> Table::Filter(const std::vector<std::string>& inputs,
                                    Predicate predicate) const {
  if (auto s = CheckBuildable("filter"); !s.ok()) return s;
  if (!predicate) return absl::InvalidArgumentError("filter: no predicate");
  auto indices = Indices("filter", inputs);
  if (!indices.ok()) return indices.status();
  auto rows =
      diffmesh::Filter(rows_, [idx = *indices, predicate](const Row& row) {
        return predicate(Project(row, idx));
      });
  return Table(
      rows, schema_, column_sources_,
      Merged(table_sources_, SourcesOf(*indices, TransformKind::kFilter)),
      quarantine_);
}

absl::StatusOr<Table> Table::Mask(const std::string& column, ValueFn fn) const {
  const std::string op = absl::StrCat("mask '", column, "'");
  if (auto s = CheckBuildable(op.c_str()); !s.ok()) return s;
  if (!fn) return absl::InvalidArgumentError(op + ": no function given");
  auto index = Indices(op.c_str(), {column});
  if (!index.ok()) return index.status();
  const int at = (*index)[0];
  const ValueType type = schema_.fields()[at].type;
  const bool nullable = schema_.fields()[at].nullable;
  auto produced = Map(rows_, [at, fn, type, nullable, op](const Row& row) {
    absl::InlinedVector<Datum, 16> values = row.Unpack();
    Value v = fn(values[at].ToValue());
    if (!Fits(v, type) || (v.is_null() && !nullable)) {
      return Produced(
          false,
          QuarantineRow(op, absl::StrCat("returned ", v.DebugString(),
                                         ", expects ", ValueTypeName(type),
                                         nullable ? "" : " (not null)")));
    }
    Row out;
    for (int c = 0; c < static_cast<int>(values.size()); ++c) {
      if (c == at) {
        out.push_back(v);
      } else {
        out.push_back(values[c]);
      }
    }
    return Produced(true, std::move(out));
  });
  auto [kept, refused] = SplitProduced(produced);
  std::vector<std::vector<ColumnSource>> sources = column_sources_;
  sources[at] = SourcesOf({at}, TransformKind::kMasking);
  std::vector<Field> fields = schema_.fields();
  fields[at].description =
      absl::StrCat(fields[at].description,
                   fields[at].description.empty() ? "" : " ", "(masked)");
  // A masked value no longer holds what the tags classified (pii, ...):
  // they stay behind, and a published product declares them anew if the
  // masked column still needs them.
  fields[at].tags.clear();
  return Table(kept, Schema(std::move(fields)), std::move(sources),
               table_sources_, WithQuarantine({refused}));
}

absl::StatusOr<Table> Table::Join(const Table& right,
                                  const std::vector<std::string>& on) const {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const std::string& c : on) pairs.emplace_back(c, c);
  return JoinOn(right, pairs);
}

absl::StatusOr<Table> Table::JoinOn(
    const Table& right,
    const std::vector<std::pair<std::string, std::string>>& on) const {
  if (auto s = CheckBuildable("join"); !s.ok()) return s;
  if (rows_.graph() != right.rows_.graph()) {
    return absl::InvalidArgumentError(
        "join: the tables belong to different dataflows");
  }
  if (on.empty()) {
    return absl::InvalidArgumentError("join: no key columns given");
  }
  std::vector<std::string> left_names, right_names;
  for (const auto& [l, r] : on) {
    left_names.push_back(l);
    right_names.push_back(r);
  }
  auto left_keys = Indices("join (left)", left_names);
  if (!left_keys.ok()) return left_keys.status();
  auto right_keys = right.Indices("join (right)", right_names);
  if (!right_keys.ok()) return right_keys.status();
  for (size_t i = 0; i < on.size(); ++i) {
    ValueType lt = schema_.fields()[(*left_keys)[i]].type;
    ValueType rt = right.schema_.fields()[(*right_keys)[i]].type;
    if (lt != rt) {
      return absl::InvalidArgumentError(
          absl::StrCat("join: key '", on[i].first, "' is ", ValueTypeName(lt),
                       " but '", on[i].second, "' is ", ValueTypeName(rt)));
    }
  }
  std::vector<int> right_rest;
  for (int c = 0; c < static_cast<int>(right.schema_.size()); ++c) {
    if (std::find(right_keys->begin(), right_keys->end(), c) ==
        right_keys->end()) {
      right_rest.push_back(c);
    }
  }
  std::vector<Field> fields = schema_.fields();
  std::vector<std::vector<ColumnSource>> sources = column_sources_;
  for (int c : right_rest) {
    fields.push_back(right.schema_.fields()[c]);
    sources.push_back(right.column_sources_[c]);
  }
  absl::StatusOr<Schema> schema = Schema::Make(std::move(fields));
  if (!schema.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "join: ", schema.status().message(), "; rename one side first"));
  }
  // The output key column holds both sides' key value.
  for (size_t i = 0; i < on.size(); ++i) {
    sources[(*left_keys)[i]] = Merged(sources[(*left_keys)[i]],
                                      right.column_sources_[(*right_keys)[i]]);
  }
  // Null keys never match (SQL), so they are not keyed at all.
  // `values` absent: the whole row.
  auto keyed = [](const RowCollection& rows, std::vector<int> keys,
                  std::optional<std::vector<int>> values) {
    return FlatMap(rows, [keys, values](const Row& row) {
      std::vector<std::pair<Row, Row>> out;
      absl::InlinedVector<Datum, 16> datums = row.Unpack();
      for (int k : keys) {
        if (datums[k].is_null()) return out;
      }
      out.emplace_back(Project(row, keys),
                       values ? Project(row, *values) : row);
      return out;
    });
  };
  // A product's own rows keyed alike are arranged once per dataflow, and a
  // dataflow added while the mesh runs imports the running one.
  auto arranged = [&](const Table& side, const std::vector<int>& keys,
                      const std::optional<std::vector<int>>& values) {
    if (side.shared_ == nullptr) {
      return ArrangeByKey(keyed(side.rows_, keys, values));
    }
    const SharedArrangements::Key key{side.product_, keys, values};
    Graph* graph = side.rows_.graph();
    if (auto found = side.shared_->Find(key, graph)) return *found;
    auto made = ArrangeByKey(keyed(side.rows_, keys, values));
    side.shared_->Add(key, graph, made);
    return made;
  };
  auto rows = JoinCore(arranged(*this, *left_keys, std::nullopt),
                       arranged(right, *right_keys, right_rest),
                       [](const Row&, const Row& left, const Row& rest) {
                         Row out = left;
                         out.Extend(rest);
                         return out;
                       });
  std::vector<ColumnSource> table_sources =
      Merged(table_sources_, right.table_sources_);
  table_sources =
      Merged(table_sources, SourcesOf(*left_keys, TransformKind::kJoinKey));
  table_sources = Merged(table_sources,
                         right.SourcesOf(*right_keys, TransformKind::kJoinKey));
  std::vector<RowCollection> quarantine = WithQuarantine(right.quarantine_);
  return Table(rows, *std::move(schema), std::move(sources),
               std::move(table_sources), std::move(quarantine));
}

absl::StatusOr<Table> Table::Union(const Table& other) const {
  if (auto s = CheckBuildable("union"); !s.ok()) return s;
  if (rows_.graph() != other.rows_.graph()) {
    return absl::InvalidArgumentError(
        "union: the tables belong to different dataflows");
  }
  if (schema_.size() != other.schema_.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "union: ", schema_.size(), " columns vs ", other.schema_.size()));
  }
  std::vector<Field> fields = schema_.fields();
  std::vector<std::vector<ColumnSource>> sources = column_sources_;
  for (size_t i = 0; i < fields.size(); ++i) {
    const Field& o = other.schema_.fields()[i];
    if (o.name != fields[i].name || o.type != fields[i].type) {
      return absl::InvalidArgumentError(
          absl::StrCat("union: column ", i, " is '", fields[i].name, "' ",
                       ValueTypeName(fields[i].type), " on one side and '",
                       o.name, "' ", ValueTypeName(o.type), " on the other"));
    }
    fields[i].nullable = fields[i].nullable || o.nullable;
    sources[i] = Merged(sources[i], other.column_sources_[i]);
  }
  return Table(Concat(rows_, other.rows_), Schema(std::move(fields)),
               std::move(sources), Merged(table_sources_, other.table_sources_),
               WithQuarantine(other.quarantine_));
}

GroupedTable Table::GroupBy(std::vector<std::string> keys) const {
  return GroupedTable(*this, std::move(keys));
}

absl::StatusOr<Table> GroupedTable::Aggregate(
    const std::vector<AggregateSpec>& aggregates) const {
  const Table& t = table_;
  if (auto s = t.CheckBuildable("group_by"); !s.ok()) return s;
  auto keys = t.Indices("group_by", keys_);
  if (!keys.ok()) return keys.status();
  if (aggregates.empty()) {
    return absl::InvalidArgumentError("aggregate: no aggregates given");
  }
  std::vector<Field> fields;
  std::vector<std::vector<ColumnSource>> sources;
  for (int k : *keys) {
    fields.push_back(t.schema_.fields()[k]);
    sources.push_back(t.column_sources_[k]);
  }
  std::vector<int> value_columns;  // the distinct aggregate inputs
  std::vector<AggregatePlan> plans;
  for (const AggregateSpec& spec : aggregates) {
    const std::string op = absl::StrCat("aggregate ", AggregateName(spec.kind),
                                        " '", spec.output, "'");
    if (spec.kind == AggregateKind::kCount) {
      plans.push_back({spec.kind, -1, ValueType::kInt64});
      fields.push_back(
          {spec.output, ValueType::kInt64, false, "count of rows"});
      sources.push_back(t.SourcesOf(*keys, TransformKind::kAggregate));
      continue;
    }
    auto input = t.Indices(op.c_str(), {spec.input});
    if (!input.ok()) return input.status();
    const int column = (*input)[0];
    const ValueType type = t.schema_.fields()[column].type;
    if ((spec.kind == AggregateKind::kSum ||
         spec.kind == AggregateKind::kMean) &&
        !IsNumeric(type)) {
      return absl::InvalidArgumentError(
          absl::StrCat(op, ": column '", spec.input, "' is ",
                       ValueTypeName(type), ", not numeric"));
    }
    auto pos = std::find(value_columns.begin(), value_columns.end(), column);
    if (pos == value_columns.end()) {
      value_columns.push_back(column);
      pos = value_columns.end() - 1;
    }
    plans.push_back(
        {spec.kind, static_cast<int>(pos - value_columns.begin()), type});
    ValueType out_type = type;
    if (spec.kind == AggregateKind::kCountColumn) out_type = ValueType::kInt64;
    if (spec.kind == AggregateKind::kMean) out_type = ValueType::kDouble;
    if (spec.kind == AggregateKind::kSum && type != ValueType::kInt64) {
      out_type = ValueType::kDouble;
    }
    fields.push_back(
        {spec.output, out_type, spec.kind != AggregateKind::kCountColumn,
         absl::StrCat(AggregateName(spec.kind), " of ", spec.input)});
    sources.push_back(t.SourcesOf({column}, TransformKind::kAggregate));
  }
  absl::StatusOr<Schema> schema = Schema::Make(std::move(fields));
  if (!schema.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("aggregate: ", schema.status().message()));
  }
  // Rows of a group that agree on the aggregates' inputs are summed per
  // message before the reduce arranges them (for a count, one update per
  // group and message).
  auto arrange = [&] {
    return ArrangeByKey(
        Combine(Map(t.rows_, [k = *keys, v = value_columns](const Row& row) {
          return std::pair<Row, Row>(Project(row, k), Project(row, v));
        })));
  };
  // A product's own rows grouped alike are arranged once per dataflow, and
  // a dataflow added while the mesh runs imports the running one.
  std::optional<SharedArrangements::Keyed> arranged;
  if (t.shared_ != nullptr) {
    const SharedArrangements::Key key{t.product_, *keys, value_columns,
                                      /*null_keys=*/true};
    Graph* graph = t.rows_.graph();
    arranged = t.shared_->Find(key, graph);
    if (!arranged) {
      arranged = arrange();
      t.shared_->Add(key, graph, *arranged);
    }
  } else {
    arranged = arrange();
  }
  auto groups = AsCollection(ReduceCore<Row, int64_t>(
      *arranged,
      [plans](const Row&, const std::vector<std::pair<Row, int64_t>>& in,
              std::vector<std::pair<Row, int64_t>>* out) {
        out->emplace_back(EvaluateAggregates(plans, in), 1);
      }));
  auto rows = Map(groups, [](const std::pair<Row, Row>& g) {
    Row out = g.first;
    out.Extend(g.second);
    return out;
  });
  return Table(rows, *std::move(schema), std::move(sources), t.table_sources_,
               t.quarantine_);
}

}  // namespace diffmesh
