#include "governance/contract.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "engine/status_macros.h"
#include "re2/re2.h"
#include "yaml-cpp/yaml.h"

namespace diffmesh {
namespace {

using Keys = std::vector<std::string>;

// The keys the standard lists at each place. Keys read and kept but not
// enforced count as known: a contract may hold any of the standard's.
const Keys kTopKeys = {"apiVersion",
                       "kind",
                       "id",
                       "version",
                       "status",
                       "domain",
                       "name",
                       "schema",
                       "slaProperties",
                       "roles",
                       "team",
                       "tenant",
                       "tags",
                       "servers",
                       "dataProduct",
                       "description",
                       "support",
                       "price",
                       "slaDefaultElement",
                       "authoritativeDefinitions",
                       "customProperties",
                       "contractCreatedTs"};
const Keys kObjectKeys = {"name",
                          "properties",
                          "quality",
                          "id",
                          "physicalName",
                          "physicalType",
                          "logicalType",
                          "description",
                          "businessName",
                          "dataGranularityDescription",
                          "tags",
                          "customProperties",
                          "authoritativeDefinitions",
                          "relationships"};
const Keys kPropertyKeys = {"name",
                            "logicalType",
                            "required",
                            "unique",
                            "primaryKey",
                            "primaryKeyPosition",
                            "classification",
                            "tags",
                            "criticalDataElement",
                            "quality",
                            "id",
                            "physicalType",
                            "physicalName",
                            "logicalTypeOptions",
                            "description",
                            "businessName",
                            "partitioned",
                            "partitionKeyPosition",
                            "encryptedName",
                            "transformSourceObjects",
                            "transformLogic",
                            "transformDescription",
                            "examples",
                            "customProperties",
                            "authoritativeDefinitions",
                            "items",
                            "properties",
                            "relationships"};
const Keys kOperators = {"mustBe",
                         "mustNotBe",
                         "mustBeGreaterThan",
                         "mustBeGreaterOrEqualTo",
                         "mustBeLessThan",
                         "mustBeLessOrEqualTo",
                         "mustBeBetween",
                         "mustNotBeBetween"};
// A rule's keys: these and the operators.
Keys RuleKeys() {
  Keys keys = {"id",
               "name",
               "description",
               "type",
               "metric",
               "rule",
               "arguments",
               "unit",
               "query",
               "engine",
               "implementation",
               "dimension",
               "method",
               "severity",
               "businessImpact",
               "customProperties",
               "tags",
               "authoritativeDefinitions",
               "scheduler",
               "schedule"};
  keys.insert(keys.end(), kOperators.begin(), kOperators.end());
  return keys;
}
const Keys kRuleKeys = RuleKeys();
const Keys kArgumentKeys = {"missingValues", "validValues", "pattern",
                            "properties"};
const Keys kSlaKeys = {"id",        "property", "value",  "valueExt",
                       "unit",      "element",  "driver", "description",
                       "scheduler", "schedule"};
const Keys kRoleKeys = {"role",
                        "description",
                        "access",
                        "firstLevelApprovers",
                        "secondLevelApprovers",
                        "customProperties"};
const Keys kLogicalTypes = {"string", "date",   "timestamp",
                            "time",   "number", "integer",
                            "object", "array",  "boolean"};
const Keys kMetrics = {"nullValues", "missingValues", "invalidValues",
                       "duplicateValues", "rowCount"};

size_t Distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      const bool same =
          absl::ascii_tolower(a[i - 1]) == absl::ascii_tolower(b[j - 1]);
      row[j] =
          std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// " (did you mean 'x'?)" for the nearest of `known`, when near enough.
std::string Suggest(const std::string& word, const Keys& known) {
  const std::string* best = nullptr;
  size_t best_distance = 0;
  for (const std::string& k : known) {
    const size_t d = Distance(word, k);
    if (best == nullptr || d < best_distance) {
      best = &k;
      best_distance = d;
    }
  }
  if (best == nullptr || best_distance > std::max<size_t>(2, word.size() / 3))
    return "";
  return absl::StrCat(" (did you mean '", *best, "'?)");
}

class Reader {
 public:
  Reader(absl::string_view source, ContractOptions options)
      : source_(source), options_(options) {}

  absl::Status Error(const std::string& path, const YAML::Node& at,
                     const std::string& message) const {
    return absl::InvalidArgumentError(
        absl::StrCat(source_, ": ", path.empty() ? "the contract" : path,
                     Line(at), ": ", message));
  }
  static std::string Line(const YAML::Node& at) {
    if (!at.IsDefined() || at.Mark().line < 0) return "";
    return absl::StrCat(" (line ", at.Mark().line + 1, ")");
  }
  static std::string Join(const std::string& path, const std::string& key) {
    return path.empty() ? key : absl::StrCat(path, ".", key);
  }

  absl::Status CheckMap(const YAML::Node& node, const std::string& path,
                        const Keys& known) const {
    if (!node.IsMap()) return Error(path, node, "expects a mapping");
    for (const auto& kv : node) {
      const std::string key = kv.first.Scalar();
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        return Error(
            path, kv.first,
            absl::StrCat("unknown key '", key, "'", Suggest(key, known)));
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> Text(const YAML::Node& node,
                                   const std::string& path) const {
    if (!node.IsScalar()) return Error(path, node, "expects a text value");
    return node.Scalar();
  }
  absl::StatusOr<std::string> OptionalText(const YAML::Node& parent,
                                           const std::string& key,
                                           const std::string& path) const {
    const YAML::Node node = parent[key];
    if (!node.IsDefined() || node.IsNull()) return std::string();
    return Text(node, Join(path, key));
  }
  absl::StatusOr<bool> Bool(const YAML::Node& parent, const std::string& key,
                            const std::string& path) const {
    const YAML::Node node = parent[key];
    if (!node.IsDefined() || node.IsNull()) return false;
    bool value = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
      return Error(Join(path, key), node, "expects true or false");
    }
    return value;
  }
  absl::StatusOr<double> Number(const YAML::Node& node,
                                const std::string& path) const {
    double value = 0;
    if (!node.IsScalar() || !YAML::convert<double>::decode(node, value) ||
        std::isnan(value)) {
      return Error(path, node, "expects a number");
    }
    return value;
  }
  absl::StatusOr<std::vector<std::string>> Texts(
      const YAML::Node& parent, const std::string& key,
      const std::string& path) const {
    std::vector<std::string> out;
    if (!parent.IsDefined() || !parent.IsMap()) return out;
    const YAML::Node node = parent[key];
    if (!node.IsDefined() || node.IsNull()) return out;
    if (!node.IsSequence()) {
      return Error(Join(path, key), node, "expects a list");
    }
    for (size_t i = 0; i < node.size(); ++i) {
      DM_ASSIGN_OR_RETURN(
          std::string t,
          Text(node[i], absl::StrCat(Join(path, key), "[", i, "]")));
      out.push_back(std::move(t));
    }
    return out;
  }
  absl::StatusOr<std::vector<ContractValue>> Values(
      const YAML::Node& node, const std::string& path) const {
    if (!node.IsSequence()) return Error(path, node, "expects a list");
    std::vector<ContractValue> out;
    for (size_t i = 0; i < node.size(); ++i) {
      const YAML::Node v = node[i];
      if (v.IsNull()) {
        out.push_back({.is_null = true});
      } else if (v.IsScalar()) {
        out.push_back({.text = v.Scalar()});
      } else {
        return Error(absl::StrCat(path, "[", i, "]"), v,
                     "expects a value (text, number or null)");
      }
    }
    return out;
  }

  absl::StatusOr<DataContract> Contract(const YAML::Node& root) {
    DataContract c;
    DM_RETURN_IF_ERROR(CheckMap(root, "", kTopKeys));
    DM_ASSIGN_OR_RETURN(c.api_version, OptionalText(root, "apiVersion", ""));
    if (c.api_version.empty()) {
      return Error("apiVersion", root, "is required (v3.0.0 to v3.1.0)");
    }
    const std::set<std::string> versions = {"v3.0.0", "v3.0.1", "v3.0.2",
                                            "v3.1.0"};
    if (versions.count(c.api_version) == 0) {
      return Error("apiVersion", root["apiVersion"],
                   absl::StrCat("'", c.api_version,
                                "' is not supported (v3.0.0 to v3.1.0)"));
    }
    DM_ASSIGN_OR_RETURN(std::string kind, OptionalText(root, "kind", ""));
    if (kind != "DataContract") {
      return Error("kind", root["kind"], "must be DataContract");
    }
    DM_ASSIGN_OR_RETURN(c.id, OptionalText(root, "id", ""));
    if (c.id.empty()) return Error("id", root, "is required");
    DM_ASSIGN_OR_RETURN(c.version, OptionalText(root, "version", ""));
    if (c.version.empty()) return Error("version", root, "is required");
    DM_ASSIGN_OR_RETURN(c.status, OptionalText(root, "status", ""));
    if (c.status.empty()) return Error("status", root, "is required");
    DM_ASSIGN_OR_RETURN(c.domain, OptionalText(root, "domain", ""));
    DM_ASSIGN_OR_RETURN(c.name, OptionalText(root, "name", ""));

    const YAML::Node schema = root["schema"];
    if (schema.IsDefined() && !schema.IsNull()) {
      if (!schema.IsSequence())
        return Error("schema", schema, "expects a list");
      for (size_t i = 0; i < schema.size(); ++i) {
        DM_RETURN_IF_ERROR(
            Object(schema[i], absl::StrCat("schema[", i, "]"), &c));
      }
    }
    const YAML::Node sla = root["slaProperties"];
    if (sla.IsDefined() && !sla.IsNull()) {
      if (!sla.IsSequence())
        return Error("slaProperties", sla, "expects a list");
      for (size_t i = 0; i < sla.size(); ++i) {
        const std::string path = absl::StrCat("slaProperties[", i, "]");
        DM_RETURN_IF_ERROR(CheckMap(sla[i], path, kSlaKeys));
        SlaProperty p;
        DM_ASSIGN_OR_RETURN(p.property, OptionalText(sla[i], "property", path));
        if (p.property.empty()) return Error(path, sla[i], "needs a property");
        DM_ASSIGN_OR_RETURN(p.value, OptionalText(sla[i], "value", path));
        DM_ASSIGN_OR_RETURN(p.unit, OptionalText(sla[i], "unit", path));
        DM_ASSIGN_OR_RETURN(p.element, OptionalText(sla[i], "element", path));
        p.where = absl::StrCat(path, Line(sla[i]));
        c.sla.push_back(std::move(p));
      }
    }
    const YAML::Node roles = root["roles"];
    if (roles.IsDefined() && !roles.IsNull()) {
      if (!roles.IsSequence()) return Error("roles", roles, "expects a list");
      for (size_t i = 0; i < roles.size(); ++i) {
        const std::string path = absl::StrCat("roles[", i, "]");
        DM_RETURN_IF_ERROR(CheckMap(roles[i], path, kRoleKeys));
        ContractRole r;
        DM_ASSIGN_OR_RETURN(r.role, OptionalText(roles[i], "role", path));
        if (r.role.empty()) return Error(path, roles[i], "needs a role");
        DM_ASSIGN_OR_RETURN(r.access, OptionalText(roles[i], "access", path));
        c.roles.push_back(std::move(r));
      }
    }
    // Rule ids are unique: a repeated one gets #2, #3, ...
    std::set<std::string> ids;
    for (QualityRule& r : c.rules) {
      std::string id = r.id;
      for (int n = 2; ids.count(id) > 0; ++n) id = absl::StrCat(r.id, "#", n);
      r.id = id;
      ids.insert(id);
    }
    return c;
  }

  absl::Status Object(const YAML::Node& node, const std::string& path,
                      DataContract* c) {
    DM_RETURN_IF_ERROR(CheckMap(node, path, kObjectKeys));
    ContractObject o;
    DM_ASSIGN_OR_RETURN(o.name, OptionalText(node, "name", path));
    if (o.name.empty()) return Error(path, node, "needs a name");
    o.where = absl::StrCat(path, Line(node));
    const YAML::Node props = node["properties"];
    if (props.IsDefined() && !props.IsNull()) {
      if (!props.IsSequence()) {
        return Error(Join(path, "properties"), props, "expects a list");
      }
      for (size_t i = 0; i < props.size(); ++i) {
        const std::string ppath = absl::StrCat(path, ".properties[", i, "]");
        DM_ASSIGN_OR_RETURN(ContractProperty p,
                            Property(props[i], ppath, o.name, c));
        o.properties.push_back(std::move(p));
      }
    }
    DM_RETURN_IF_ERROR(Rules(node["quality"], Join(path, "quality"), o.name, "",
                             o.properties, c));
    c->objects.push_back(std::move(o));
    return absl::OkStatus();
  }

  absl::StatusOr<ContractProperty> Property(const YAML::Node& node,
                                            const std::string& path,
                                            const std::string& object,
                                            DataContract* c) {
    DM_RETURN_IF_ERROR(CheckMap(node, path, kPropertyKeys));
    ContractProperty p;
    p.where = absl::StrCat(path, Line(node));
    DM_ASSIGN_OR_RETURN(p.name, OptionalText(node, "name", path));
    if (p.name.empty()) return Error(path, node, "needs a name");
    DM_ASSIGN_OR_RETURN(p.logical_type,
                        OptionalText(node, "logicalType", path));
    if (!p.logical_type.empty() &&
        std::find(kLogicalTypes.begin(), kLogicalTypes.end(), p.logical_type) ==
            kLogicalTypes.end()) {
      return Error(Join(path, "logicalType"), node["logicalType"],
                   absl::StrCat("unknown logical type '", p.logical_type, "'",
                                Suggest(p.logical_type, kLogicalTypes)));
    }
    DM_ASSIGN_OR_RETURN(p.required, Bool(node, "required", path));
    DM_ASSIGN_OR_RETURN(p.unique, Bool(node, "unique", path));
    DM_ASSIGN_OR_RETURN(p.primary_key, Bool(node, "primaryKey", path));
    DM_ASSIGN_OR_RETURN(p.critical_data_element,
                        Bool(node, "criticalDataElement", path));
    if (node["primaryKeyPosition"].IsDefined() &&
        !node["primaryKeyPosition"].IsNull()) {
      DM_ASSIGN_OR_RETURN(double at, Number(node["primaryKeyPosition"],
                                            Join(path, "primaryKeyPosition")));
      p.primary_key_position = static_cast<int>(at);
    }
    DM_ASSIGN_OR_RETURN(p.classification,
                        OptionalText(node, "classification", path));
    DM_ASSIGN_OR_RETURN(p.tags, Texts(node, "tags", path));
    // required / unique / primaryKey are checks too.
    auto implied = [&](const char* kind, RuleMetric metric) {
      QualityRule r;
      r.kind = kind;
      r.object = object;
      r.property = p.name;
      r.metric = metric;
      r.op = RuleOperator::kMustBe;
      r.id = absl::StrCat(object, ".", p.name, ".", kind);
      r.where = p.where;
      c->rules.push_back(std::move(r));
    };
    if (p.required || p.primary_key)
      implied("required", RuleMetric::kNullValues);
    if (p.unique || p.primary_key)
      implied("unique", RuleMetric::kDuplicateValues);
    DM_RETURN_IF_ERROR(
        Rules(node["quality"], Join(path, "quality"), object, p.name, {}, c));
    return p;
  }

  absl::Status Rules(const YAML::Node& node, const std::string& path,
                     const std::string& object, const std::string& property,
                     const std::vector<ContractProperty>& properties,
                     DataContract* c) {
    if (!node.IsDefined() || node.IsNull()) return absl::OkStatus();
    if (!node.IsSequence()) return Error(path, node, "expects a list");
    for (size_t i = 0; i < node.size(); ++i) {
      DM_RETURN_IF_ERROR(Rule(node[i], absl::StrCat(path, "[", i, "]"), object,
                              property, properties, c));
    }
    return absl::OkStatus();
  }

  absl::Status Rule(const YAML::Node& node, const std::string& path,
                    const std::string& object, const std::string& property,
                    const std::vector<ContractProperty>& properties,
                    DataContract* c) {
    DM_RETURN_IF_ERROR(CheckMap(node, path, kRuleKeys));
    QualityRule r;
    r.object = object;
    r.property = property;
    r.where = absl::StrCat(path, Line(node));
    DM_ASSIGN_OR_RETURN(std::string type, OptionalText(node, "type", path));
    DM_ASSIGN_OR_RETURN(std::string metric, OptionalText(node, "metric", path));
    if (metric.empty()) {
      // `rule` is the deprecated name of `metric`.
      DM_ASSIGN_OR_RETURN(metric, OptionalText(node, "rule", path));
    }
    DM_ASSIGN_OR_RETURN(r.id, OptionalText(node, "id", path));
    DM_ASSIGN_OR_RETURN(r.name, OptionalText(node, "name", path));
    DM_ASSIGN_OR_RETURN(r.description, OptionalText(node, "description", path));
    DM_ASSIGN_OR_RETURN(r.dimension, OptionalText(node, "dimension", path));
    DM_ASSIGN_OR_RETURN(std::string severity,
                        OptionalText(node, "severity", path));
    if (!severity.empty()) r.severity = severity;
    if (type.empty()) type = metric.empty() ? "" : "library";
    if (type == "text") {
      r.kind = "text";
      r.enforced = false;
      if (r.id.empty()) r.id = absl::StrCat(Scope(object, property), ".text");
      c->rules.push_back(std::move(r));
      return absl::OkStatus();
    }
    if (type == "sql" || type == "custom") {
      if (!options_.allow_unenforced) {
        return Error(path, node,
                     absl::StrCat("a ", type,
                                  " rule cannot be enforced here; allow "
                                  "unenforced rules to list it as not "
                                  "enforced"));
      }
      r.kind = type;
      r.enforced = false;
      if (r.id.empty()) r.id = absl::StrCat(Scope(object, property), ".", type);
      c->rules.push_back(std::move(r));
      return absl::OkStatus();
    }
    if (type != "library") {
      if (type.empty()) {
        return Error(path, node,
                     "a rule needs a metric (or a type: text, sql, custom)");
      }
      return Error(
          Join(path, "type"), node["type"],
          absl::StrCat("unknown type '", type, "'",
                       Suggest(type, {"library", "text", "sql", "custom"})));
    }
    const auto m = std::find(kMetrics.begin(), kMetrics.end(), metric);
    if (m == kMetrics.end()) {
      return Error(Join(path, "metric"),
                   node["metric"].IsDefined() ? node["metric"] : node["rule"],
                   metric.empty()
                       ? std::string("a library rule needs a metric")
                       : absl::StrCat("unknown metric '", metric, "'",
                                      Suggest(metric, kMetrics)));
    }
    r.metric = static_cast<RuleMetric>(m - kMetrics.begin());
    const bool schema_level = property.empty();
    if (r.metric == RuleMetric::kRowCount && !schema_level) {
      return Error(path, node, "rowCount is a schema-level metric");
    }
    if (schema_level && r.metric != RuleMetric::kRowCount &&
        r.metric != RuleMetric::kDuplicateValues) {
      return Error(path, node,
                   absl::StrCat(metric, " is a property-level metric"));
    }
    // The one operator.
    int operators = 0;
    for (size_t k = 0; k < kOperators.size(); ++k) {
      const YAML::Node v = node[kOperators[k]];
      if (!v.IsDefined()) continue;
      ++operators;
      r.op = static_cast<RuleOperator>(k);
      const std::string opath = Join(path, kOperators[k]);
      if (r.op == RuleOperator::kMustBeBetween ||
          r.op == RuleOperator::kMustNotBeBetween) {
        if (!v.IsSequence() || v.size() != 2) {
          return Error(opath, v, "expects two numbers: [low, high]");
        }
        DM_ASSIGN_OR_RETURN(r.bound, Number(v[0], opath + "[0]"));
        DM_ASSIGN_OR_RETURN(r.upper_bound, Number(v[1], opath + "[1]"));
        if (r.upper_bound < r.bound) {
          return Error(opath, v, "expects [low, high] with low <= high");
        }
      } else {
        DM_ASSIGN_OR_RETURN(r.bound, Number(v, opath));
      }
    }
    if (operators != 1) {
      return Error(path, node,
                   operators == 0
                       ? absl::StrCat("a rule needs one operator (",
                                      absl::StrJoin(kOperators, ", "), ")")
                       : "a rule takes exactly one operator");
    }
    DM_ASSIGN_OR_RETURN(std::string unit, OptionalText(node, "unit", path));
    if (unit == "percent") {
      r.percent = true;
    } else if (!unit.empty() && unit != "rows") {
      return Error(Join(path, "unit"), node["unit"],
                   absl::StrCat("unknown unit '", unit, "' (rows or percent)"));
    }
    const YAML::Node args = node["arguments"];
    const std::string apath = Join(path, "arguments");
    if (args.IsDefined() && !args.IsNull()) {
      DM_RETURN_IF_ERROR(CheckMap(args, apath, kArgumentKeys));
    }
    auto arg = [&](const char* key) {
      return args.IsDefined() && args.IsMap()
                 ? args[key]
                 : YAML::Node(YAML::NodeType::Undefined);
    };
    switch (r.metric) {
      case RuleMetric::kMissingValues: {
        if (!arg("missingValues").IsDefined()) {
          return Error(apath, node,
                       "missingValues needs arguments.missingValues");
        }
        DM_ASSIGN_OR_RETURN(
            r.missing_values,
            Values(arg("missingValues"), Join(apath, "missingValues")));
        break;
      }
      case RuleMetric::kInvalidValues: {
        if (arg("validValues").IsDefined()) {
          DM_ASSIGN_OR_RETURN(
              r.valid_values,
              Values(arg("validValues"), Join(apath, "validValues")));
        }
        if (arg("pattern").IsDefined()) {
          DM_ASSIGN_OR_RETURN(std::string pattern,
                              Text(arg("pattern"), Join(apath, "pattern")));
          RE2 re(pattern, RE2::Quiet);
          if (!re.ok()) {
            return Error(Join(apath, "pattern"), arg("pattern"),
                         absl::StrCat("bad pattern: ", re.error()));
          }
          r.pattern = std::move(pattern);
        }
        if (r.valid_values.empty() && !r.pattern) {
          return Error(apath, node,
                       "invalidValues needs arguments.validValues or "
                       "arguments.pattern");
        }
        break;
      }
      case RuleMetric::kDuplicateValues:
        if (schema_level) {
          DM_ASSIGN_OR_RETURN(r.properties, Texts(args, "properties", apath));
          if (r.properties.empty()) {
            return Error(apath, node,
                         "duplicateValues at schema level needs "
                         "arguments.properties");
          }
          for (const std::string& name : r.properties) {
            const bool known = std::any_of(
                properties.begin(), properties.end(),
                [&](const ContractProperty& p) { return p.name == name; });
            if (!known) {
              return Error(
                  Join(apath, "properties"), args["properties"],
                  absl::StrCat("'", name, "' is not a property of ", object));
            }
          }
        }
        break;
      default:
        break;
    }
    if (r.id.empty()) {
      r.id = absl::StrCat(Scope(object, property), ".", metric);
    }
    c->rules.push_back(std::move(r));
    return absl::OkStatus();
  }

  static std::string Scope(const std::string& object,
                           const std::string& property) {
    return property.empty() ? object : absl::StrCat(object, ".", property);
  }

 private:
  std::string source_;
  ContractOptions options_;
};

std::string Number(double v) { return absl::StrFormat("%g", v); }

}  // namespace

const char* RuleMetricName(RuleMetric metric) {
  return kMetrics[static_cast<size_t>(metric)].c_str();
}

const char* RuleOperatorName(RuleOperator op) {
  return kOperators[static_cast<size_t>(op)].c_str();
}

bool QualityRule::Passes(double observed) const {
  switch (op) {
    case RuleOperator::kMustBe:
      return observed == bound;
    case RuleOperator::kMustNotBe:
      return observed != bound;
    case RuleOperator::kMustBeGreaterThan:
      return observed > bound;
    case RuleOperator::kMustBeGreaterOrEqualTo:
      return observed >= bound;
    case RuleOperator::kMustBeLessThan:
      return observed < bound;
    case RuleOperator::kMustBeLessOrEqualTo:
      return observed <= bound;
    case RuleOperator::kMustBeBetween:
      return observed >= bound && observed <= upper_bound;
    case RuleOperator::kMustNotBeBetween:
      return observed < bound || observed > upper_bound;
  }
  return false;
}

std::string QualityRule::Expected() const {
  const char* unit = percent ? " %" : "";
  switch (op) {
    case RuleOperator::kMustBe:
      return absl::StrCat("= ", Number(bound), unit);
    case RuleOperator::kMustNotBe:
      return absl::StrCat("!= ", Number(bound), unit);
    case RuleOperator::kMustBeGreaterThan:
      return absl::StrCat("> ", Number(bound), unit);
    case RuleOperator::kMustBeGreaterOrEqualTo:
      return absl::StrCat(">= ", Number(bound), unit);
    case RuleOperator::kMustBeLessThan:
      return absl::StrCat("< ", Number(bound), unit);
    case RuleOperator::kMustBeLessOrEqualTo:
      return absl::StrCat("<= ", Number(bound), unit);
    case RuleOperator::kMustBeBetween:
      return absl::StrCat("between ", Number(bound), " and ",
                          Number(upper_bound), unit);
    case RuleOperator::kMustNotBeBetween:
      return absl::StrCat("not between ", Number(bound), " and ",
                          Number(upper_bound), unit);
  }
  return "";
}

absl::StatusOr<DataContract> ParseContract(absl::string_view yaml,
                                           absl::string_view source,
                                           ContractOptions options) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": not YAML (line ", e.mark.line + 1, "): ", e.msg));
  }
  Reader reader(source, options);
  try {
    return reader.Contract(root);
  } catch (const YAML::Exception& e) {
    // yaml-cpp throws on some malformed shapes (a key that is not a
    // scalar, say): still a clear error, never a crash.
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": malformed contract (line ", e.mark.line + 1, "): ", e.msg));
  }
}

}  // namespace diffmesh
