#include "governance/checks.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "catalog/csv_writer.h"
#include "engine/graph.h"
#include "engine/status_macros.h"
#include "governance/counted_rows.h"
#include "operators/concat.h"
#include "operators/count.h"
#include "operators/internal/unary.h"
#include "re2/re2.h"

namespace diffmesh {
namespace {

using Updates = std::vector<Update<Row, uint64_t, int64_t>>;

// The rule a count is for; kRows counts the product's rows.
constexpr int64_t kRows = -1;

Row RuleKey(int64_t rule) {
  Row key;
  key.AppendInt64(rule);
  return key;
}

bool Fits(const std::string& logical, ValueType type) {
  if (logical.empty()) return true;
  if (logical == "string") return type == ValueType::kString;
  if (logical == "integer") return type == ValueType::kInt64;
  if (logical == "number")
    return type == ValueType::kInt64 || type == ValueType::kDouble;
  if (logical == "boolean") return type == ValueType::kBool;
  if (logical == "date" || logical == "timestamp")
    return type == ValueType::kTimestamp;
  return false;  // time, object, array
}

// Whether a row counts for one per-row rule (null, missing, invalid).
class RowRule {
 public:
  RowRule(int64_t index, const QualityRule& rule, int column, ValueType type)
      : index_(index), metric_(rule.metric), column_(column) {
    const bool numeric =
        type == ValueType::kInt64 || type == ValueType::kDouble;
    const auto& values = rule.metric == RuleMetric::kMissingValues
                             ? rule.missing_values
                             : rule.valid_values;
    for (const ContractValue& v : values) {
      if (v.is_null) {
        null_listed_ = true;
        continue;
      }
      texts_.insert(v.text);
      char* end = nullptr;
      const double x = std::strtod(v.text.c_str(), &end);
      if (numeric && !v.text.empty() && *end == '\0') numbers_.push_back(x);
    }
    listed_ = !values.empty();
    if (rule.pattern) pattern_ = std::make_shared<RE2>(*rule.pattern);
  }

  int64_t index() const { return index_; }

  bool Counts(const Row& row) const {
    const Datum d = row[column_];
    switch (metric_) {
      case RuleMetric::kNullValues:
        return d.is_null();
      case RuleMetric::kMissingValues:
        return d.is_null() ? null_listed_ : Listed(d, ValueText(d));
      case RuleMetric::kInvalidValues: {
        if (d.is_null()) return false;
        const std::string text = ValueText(d);  // once, for both tests
        if (listed_ && !Listed(d, text)) return true;
        return pattern_ != nullptr && !RE2::PartialMatch(text, *pattern_);
      }
      default:
        return false;
    }
  }

 private:
  bool Listed(Datum d, const std::string& text) const {
    if (texts_.contains(text)) return true;
    if (numbers_.empty()) return false;
    const double x =
        d.type() == ValueType::kInt64
            ? static_cast<double>(d.as_int64())
            : (d.type() == ValueType::kDouble ? d.as_double() : std::nan(""));
    return std::find(numbers_.begin(), numbers_.end(), x) != numbers_.end();
  }

  int64_t index_;
  RuleMetric metric_;
  int column_;
  absl::flat_hash_set<std::string> texts_;
  std::vector<double> numbers_;
  bool null_listed_ = false;
  bool listed_ = false;
  std::shared_ptr<RE2> pattern_;
};

// The verdict rows of every enforced rule, from the counts (kRows: the
// product's rows). `outcome` keeps, per rule, whether it passes and since
// when: a rule whose outcome changes (or that is new) at `t` is so since
// `t`.
std::vector<Row> Verdicts(
    const std::vector<QualityRule>& rules, uint64_t t,
    const CountsByName& counts,
    std::map<size_t, std::pair<bool, uint64_t>>* outcome) {
  auto count = [&](int64_t name) {
    auto it = counts.find(name);
    return it == counts.end() ? int64_t{0} : it->second;
  };
  std::vector<Row> rows;
  const int64_t total = count(kRows);
  for (size_t i = 0; i < rules.size(); ++i) {
    const QualityRule& r = rules[i];
    if (!r.enforced) continue;
    double observed = static_cast<double>(r.metric == RuleMetric::kRowCount
                                              ? total
                                              : count(static_cast<int64_t>(i)));
    if (r.percent) {
      observed = total == 0 ? 0 : 100.0 * observed / static_cast<double>(total);
    }
    const bool passed = r.Passes(observed);
    auto [at, fresh] = outcome->try_emplace(i, passed, t);
    if (!fresh && at->second.first != passed) at->second = {passed, t};
    Row row;
    row.AppendString(r.id);
    if (r.property.empty()) {
      row.AppendNull();
    } else {
      row.AppendString(r.property);
    }
    row.AppendString(RuleMetricName(r.metric));
    row.AppendString(r.severity);
    row.AppendBool(passed);
    row.AppendDouble(observed);
    row.AppendString(r.Expected());
    row.AppendInt64(static_cast<int64_t>(at->second.second));
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace

absl::StatusOr<AttachedContract> Attach(const DataContract& contract,
                                        const Schema& schema,
                                        const std::string& object) {
  const ContractObject* found = nullptr;
  for (const ContractObject& o : contract.objects) {
    if (object.empty() ? contract.objects.size() == 1 : o.name == object) {
      found = &o;
    }
  }
  if (found == nullptr) {
    return absl::NotFoundError(
        object.empty() ? absl::StrCat("contract ", contract.id, " has ",
                                      contract.objects.size(),
                                      " schema objects; name the one to check")
                       : absl::StrCat("contract ", contract.id,
                                      " has no schema object ", object));
  }
  AttachedContract a;
  a.object = found->name;
  for (const ContractProperty& p : found->properties) {
    std::optional<int> at = schema.FieldIndex(p.name);
    if (!at) {
      return absl::FailedPreconditionError(
          absl::StrCat("contract ", contract.id, ": ", p.where, ": property '",
                       p.name, "' is not a column of the product"));
    }
    const ValueType type = schema.fields()[*at].type;
    if (!Fits(p.logical_type, type)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "contract ", contract.id, ": ", p.where, ": property '", p.name,
          "' is ", p.logical_type, " but the column is ", ValueTypeName(type)));
    }
  }
  // Only the rules of the object checked.
  a.contract = contract;
  a.contract.rules.clear();
  for (const QualityRule& r : contract.rules) {
    if (r.object != found->name) continue;
    int column = -1;
    if (!r.property.empty()) column = *schema.FieldIndex(r.property);
    std::vector<int> keys;
    if (r.metric == RuleMetric::kDuplicateValues) {
      if (column >= 0) keys.push_back(column);
      for (const std::string& name : r.properties) {
        std::optional<int> at = schema.FieldIndex(name);
        if (!at) {
          return absl::FailedPreconditionError(
              absl::StrCat("contract ", contract.id, ": ", r.where, ": '", name,
                           "' is not a column of the product"));
        }
        keys.push_back(*at);
      }
    }
    a.contract.rules.push_back(r);
    a.column.push_back(column);
    a.key_columns.push_back(std::move(keys));
  }
  return a;
}

const Schema& VerdictSchema() {
  static const Schema* schema = new Schema({
      {"check", ValueType::kString, /*nullable=*/false},
      {"property", ValueType::kString},
      {"metric", ValueType::kString, /*nullable=*/false},
      {"severity", ValueType::kString, /*nullable=*/false},
      {"passed", ValueType::kBool, /*nullable=*/false},
      {"observed", ValueType::kDouble, /*nullable=*/false},
      {"expected", ValueType::kString, /*nullable=*/false},
      {"since", ValueType::kInt64, /*nullable=*/false},
  });
  return *schema;
}

absl::StatusOr<Table> Checks(const Table& product,
                             const AttachedContract& contract) {
  if (product.rows().graph() == nullptr) {
    return absl::InvalidArgumentError("Checks: an empty Table");
  }
  if (product.rows().graph()->sealed()) {
    return absl::FailedPreconditionError(
        "Checks: the dataflow has already run; check a product before the "
        "mesh's first Advance, or Mesh::Use(id) after it");
  }
  const auto& rules = contract.contract.rules;
  std::vector<RowRule> row_rules;
  std::vector<std::pair<int64_t, std::vector<int>>> key_rules;
  for (size_t i = 0; i < rules.size(); ++i) {
    const QualityRule& r = rules[i];
    if (!r.enforced) continue;
    const int64_t index = static_cast<int64_t>(i);
    switch (r.metric) {
      case RuleMetric::kNullValues:
      case RuleMetric::kMissingValues:
      case RuleMetric::kInvalidValues:
        row_rules.emplace_back(
            index, r, contract.column[i],
            product.schema().fields()[contract.column[i]].type);
        break;
      case RuleMetric::kDuplicateValues:
        key_rules.emplace_back(index, contract.key_columns[i]);
        break;
      case RuleMetric::kRowCount:
        break;  // the rows' count
    }
  }
  const RowCollection& rows = product.rows();
  // Each row: the row counter and every per-row rule it counts for.
  RowCollection counted = internal::Unary<Row, int64_t>(
      rows, "checks.rows", [row_rules](Updates&& in, Updates* out) {
        for (const auto& u : in) {
          out->push_back({RuleKey(kRows), u.time, u.diff});
          for (const RowRule& r : row_rules) {
            if (r.Counts(u.data))
              out->push_back({RuleKey(r.index()), u.time, u.diff});
          }
        }
      });
  std::vector<RowCollection> parts = {counted};
  if (!key_rules.empty()) {
    // Each row's key for every duplicates rule (none with a null in it);
    // a key held c times counts c - 1.
    RowCollection keys = internal::Unary<Row, int64_t>(
        rows, "checks.keys", [key_rules](Updates&& in, Updates* out) {
          for (const auto& u : in) {
            for (const auto& [rule, columns] : key_rules) {
              Row key = RuleKey(rule);
              bool has_null = false;
              for (int c : columns) {
                const Datum d = u.data[c];
                has_null = has_null || d.is_null();
                key.push_back(d);
              }
              if (!has_null) out->push_back({std::move(key), u.time, u.diff});
            }
          }
        });
    auto held = CountTotal(keys);
    parts.push_back(internal::Unary<Row, int64_t>(
        held, "checks.duplicates",
        [](std::vector<Update<std::pair<Row, int64_t>, uint64_t, int64_t>>&& in,
           Updates* out) {
          for (const auto& u : in) {
            const int64_t extra = u.data.second - 1;
            if (extra != 0) {
              out->push_back({RuleKey(u.data.first[0].as_int64()), u.time,
                              u.diff * extra});
            }
          }
        }));
  }
  auto outcome =
      std::make_shared<std::map<size_t, std::pair<bool, uint64_t>>>();
  RowCollection verdicts =
      CountedRows(CountTotal(ConcatMany(parts)), "checks.verdicts",
                  [rules, outcome](uint64_t t, const CountsByName& counts) {
                    return Verdicts(rules, t, counts, outcome.get());
                  });
  return Table::Computed(product, verdicts, VerdictSchema(),
                         TransformKind::kAggregate);
}

}  // namespace diffmesh
