#include "tools/cli/profile_command.h"

#include <stdlib.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "catalog/mesh.h"
#include "engine/graph.h"
#include "engine/status_macros.h"
#include "governance/checks.h"
#include "governance/contract.h"
#include "governance/profile.h"
#include "nlohmann/json.hpp"

namespace diffmesh {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

constexpr char kData[] = "profile.data";
constexpr char kMetrics[] = "profile.metrics";
constexpr char kChecks[] = "profile.checks";
constexpr char kKeys[] = "profile.keys";

// A number as JSON: NaN and the infinities as strings.
Json Number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

bool IsCount(const std::string& metric) {
  return metric == "nulls" || metric == "distinct" || metric == "rows" ||
         metric == "rows_change";
}

// A metric row's value as JSON, given its column's type.
Json MetricValue(const Row& metric, ValueType type) {
  const std::string name(metric[1].as_string());
  const Datum value = metric[2], text = metric[3];
  if (IsCount(name)) return static_cast<int64_t>(value.as_double());
  if (name == "min" || name == "max") {
    switch (type) {
      case ValueType::kInt64:
        return std::stoll(std::string(text.as_string()));
      case ValueType::kDouble:
        return Number(value.as_double());
      case ValueType::kBool:
        return text.as_string() == "true";
      default:
        return std::string(text.as_string());
    }
  }
  return Number(value.as_double());
}

// The whole profile of one version, as JSON (without version and file).
Json Document(const Schema& schema, const std::vector<Row>& metrics,
              const std::vector<Row>& verdicts, int64_t quarantined,
              std::optional<int64_t> duplicates) {
  Json doc;
  doc["rows"] = 0;
  doc["quarantined"] = quarantined;
  if (duplicates) doc["duplicates"] = *duplicates;
  Json columns = Json::object();
  for (const Field& f : schema.fields()) {
    columns[f.name] = {{"type", ValueTypeName(f.type)}};
  }
  // Metrics in a fixed order per column, whatever the rows' order.
  const std::vector<std::string> order = {"nulls", "distinct", "min",    "max",
                                          "sum",   "mean",     "stddev", "p50",
                                          "p90",   "p99"};
  std::map<std::string, std::map<std::string, Json>> found;
  for (const Row& m : metrics) {
    const std::string column(m[0].as_string());
    const std::string name(m[1].as_string());
    if (column.empty()) {
      if (name == "rows" || name == "rows_change") {
        doc[name] = MetricValue(m, ValueType::kInt64);
      }
      continue;
    }
    std::optional<int> at = schema.FieldIndex(column);
    if (!at) continue;
    found[column][name] = MetricValue(m, schema.fields()[*at].type);
  }
  for (const auto& [column, values] : found) {
    for (const std::string& name : order) {
      if (auto it = values.find(name); it != values.end()) {
        columns[column][name] = it->second;
      }
    }
  }
  doc["columns"] = std::move(columns);
  // One entry per verdict (VerdictSchema), sorted by check id.
  std::map<std::string, Json> checks;
  for (const Row& v : verdicts) {
    const std::string id(v[0].as_string());
    checks[id] = {{"id", id},
                  {"passed", v[4].as_bool()},
                  {"observed", Number(v[5].as_double())},
                  {"expected", std::string(v[6].as_string())},
                  {"severity", std::string(v[3].as_string())},
                  // Each version is one engine time, from 0.
                  {"since_version", v[7].as_int64()}};
  }
  doc["checks"] = Json::array();
  for (auto& [id, check] : checks) doc["checks"].push_back(std::move(check));
  return doc;
}

// What changed from `was` to `now`: changed fields, null for removed ones.
Json Changes(const Json& was, const Json& now) {
  Json out = Json::object();
  for (const char* key : {"rows", "rows_change", "quarantined", "duplicates"}) {
    if (now.contains(key) && was[key] != now[key]) out[key] = now[key];
  }
  Json columns = Json::object();
  for (const auto& [column, fields] : now["columns"].items()) {
    const Json& before = was["columns"][column];
    Json changed = Json::object();
    for (const auto& [name, value] : fields.items()) {
      if (!before.contains(name) || before[name] != value)
        changed[name] = value;
    }
    for (const auto& [name, value] : before.items()) {
      if (!fields.contains(name)) changed[name] = nullptr;
    }
    if (!changed.empty()) columns[column] = std::move(changed);
  }
  if (!columns.empty()) out["columns"] = std::move(columns);
  // The checks whose verdict or observation changed.
  Json checks = Json::array();
  for (const Json& check : now["checks"]) {
    const bool same =
        std::any_of(was["checks"].begin(), was["checks"].end(),
                    [&](const Json& before) { return before == check; });
    if (!same) checks.push_back(check);
  }
  if (!checks.empty()) out["checks"] = std::move(checks);
  return out;
}

std::string Text(const Json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) {
    return absl::StrFormat("%.6g", v.get<double>());
  }
  return v.dump();
}

void PrintChecks(const Json& doc, std::ostream& out) {
  if (!doc.contains("checks") || doc["checks"].empty()) return;
  out << "  checks:\n";
  for (const Json& c : doc["checks"]) {
    if (c.contains("enforced")) {
      out << "    " << Text(c["id"]) << ": not enforced (" << Text(c["kind"])
          << ")\n";
      continue;
    }
    out << "    " << (c["passed"].get<bool>() ? "pass " : "FAIL ")
        << Text(c["id"]) << ": " << Text(c["observed"]) << ", expected "
        << Text(c["expected"]) << " (" << Text(c["severity"]) << ")\n";
  }
}

void PrintTable(const Json& doc, bool whole, std::ostream& out) {
  out << "version " << doc["version"].get<int>() << ": " << Text(doc["file"]);
  if (doc.contains("rows")) out << ", " << Text(doc["rows"]) << " rows";
  if (doc.contains("quarantined"))
    out << ", " << Text(doc["quarantined"]) << " quarantined";
  out << "\n";
  if (!doc.contains("columns")) {
    if (!whole && !doc.contains("checks")) out << "  (no metric changed)\n";
    PrintChecks(doc, out);
    return;
  }
  const std::vector<std::string> heads = {"type", "nulls", "distinct", "min",
                                          "max",  "mean",  "stddev",   "p50",
                                          "p90",  "p99"};
  out << absl::StrFormat("  %-20s", "column");
  for (const std::string& h : heads) out << absl::StrFormat(" %12s", h);
  out << "\n";
  for (const auto& [column, fields] : doc["columns"].items()) {
    out << absl::StrFormat("  %-20s", column.substr(0, 20));
    for (const std::string& h : heads) {
      std::string cell = fields.contains(h) ? Text(fields[h]) : "";
      if (cell.size() > 12) cell = cell.substr(0, 11) + "~";
      out << absl::StrFormat(" %12s", cell);
    }
    out << "\n";
  }
  PrintChecks(doc, out);
}

// A private directory for the profile's copy of the file, removed at the
// end.
class WorkDir {
 public:
  static absl::StatusOr<std::unique_ptr<WorkDir>> Make() {
    std::string pattern =
        (fs::temp_directory_path() / "diffmesh-profile-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      return absl::UnavailableError(
          absl::StrCat("cannot make a working directory ", pattern));
    }
    return std::unique_ptr<WorkDir>(new WorkDir(pattern));
  }
  ~WorkDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  explicit WorkDir(fs::path path) : path_(std::move(path)) {}
  fs::path path_;
};

// Whether `longer` extends `shorter`: it is at least as long, and its
// bytes at the places an append leaves alone and an edit most often
// touches -- the first 4 KiB and the last 1 MiB before `shorter`'s end,
// every byte of a file of up to 2 MiB -- are `shorter`'s. The rule the
// mesh's own sources take an append by (catalog/source.h), a little
// stricter; it reads about 2 MiB whatever the size.
bool Extends(const fs::path& longer, const fs::path& shorter) {
  constexpr uintmax_t kHead = 4 << 10;
  constexpr uintmax_t kTail = 1 << 20;
  std::error_code e1, e2;
  const uintmax_t a = fs::file_size(longer, e1), b = fs::file_size(shorter, e2);
  if (e1 || e2 || a < b) return false;
  std::ifstream x(longer, std::ios::binary), y(shorter, std::ios::binary);
  std::vector<char> p(1 << 20), q(1 << 20);
  // The same bytes from `from` for `size` in both files.
  auto same = [&](uintmax_t from, uintmax_t size) {
    x.seekg(static_cast<std::streamoff>(from));
    y.seekg(static_cast<std::streamoff>(from));
    for (uintmax_t left = size; left > 0;) {
      const size_t n = static_cast<size_t>(std::min<uintmax_t>(left, p.size()));
      if (!x.read(p.data(), n) || !y.read(q.data(), n)) return false;
      if (!std::equal(p.begin(), p.begin() + n, q.begin())) return false;
      left -= n;
    }
    return true;
  };
  if (b <= kHead + kTail) return same(0, b);
  return same(0, kHead) && same(b - kTail, kTail);
}

// Makes `copy` (now a copy of `previous`) a copy of `next`: the new bytes
// appended when `next` extends `previous`, otherwise replaced at once.
absl::Status Become(const fs::path& copy, const fs::path& previous,
                    const fs::path& next) {
  std::error_code error;
  if (Extends(next, previous)) {
    std::ifstream in(next, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(fs::file_size(previous)));
    std::ofstream out(copy, std::ios::binary | std::ios::app);
    out << in.rdbuf();
    if (!out.flush()) {
      return absl::UnavailableError(
          absl::StrCat("cannot append to ", copy.string()));
    }
    return absl::OkStatus();
  }
  const fs::path staged = copy.string() + ".next";
  fs::copy_file(next, staged, fs::copy_options::overwrite_existing, error);
  if (!error) fs::rename(staged, copy, error);
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("cannot copy ", next.string(), ": ", error.message()));
  }
  return absl::OkStatus();
}

// The extension the source reads the file by (".changes.csv" is not a
// profile input: it is a change log).
absl::StatusOr<std::string> Extension(const std::string& file) {
  const std::string ext = fs::path(file).extension().string();
  for (const char* known : {".csv", ".json", ".jsonl", ".ndjson"}) {
    if (ext == known) return ext;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      file,
      ": the type is taken from the extension: .csv, .json, .jsonl or "
      ".ndjson"));
}

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// The contract of `args`, read and matched to the product's schema; null
// without one.
absl::StatusOr<std::optional<AttachedContract>> ReadContract(
    const ProfileArgs& args, const Schema& schema) {
  if (args.contract.empty()) return std::optional<AttachedContract>();
  std::ifstream in(args.contract, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat(args.contract, ": cannot read the contract"));
  }
  std::stringstream text;
  text << in.rdbuf();
  DM_ASSIGN_OR_RETURN(
      DataContract contract,
      ParseContract(text.str(), args.contract,
                    {.allow_unenforced = args.allow_unenforced}));
  DM_ASSIGN_OR_RETURN(AttachedContract attached,
                      Attach(contract, schema, args.object));
  return std::optional<AttachedContract>(std::move(attached));
}

}  // namespace

absl::StatusOr<ProfileOutcome> RunProfile(const ProfileArgs& args,
                                          std::ostream& out,
                                          std::ostream& progress) {
  if (args.format != "json" && args.format != "table") {
    return absl::InvalidArgumentError(
        absl::StrCat("--format is json or table, got '", args.format, "'"));
  }
  std::vector<std::string> files = {args.file};
  files.insert(files.end(), args.then.begin(), args.then.end());
  DM_ASSIGN_OR_RETURN(const std::string ext, Extension(args.file));
  for (const std::string& f : files) {
    std::error_code error;
    if (!fs::is_regular_file(f, error)) {
      return absl::NotFoundError(absl::StrCat(f, ": no such file"));
    }
    DM_ASSIGN_OR_RETURN(const std::string other, Extension(f));
    if (other != ext) {
      return absl::InvalidArgumentError(
          absl::StrCat(f, ": a later version must be of the same type as ",
                       args.file, " (", ext, ")"));
    }
  }
  DM_ASSIGN_OR_RETURN(std::unique_ptr<WorkDir> dir, WorkDir::Make());
  const fs::path copy = dir->path() / ("data" + ext);
  std::error_code error;
  fs::copy_file(args.file, copy, error);
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("cannot copy ", args.file, ": ", error.message()));
  }

  Worker worker;
  DM_ASSIGN_OR_RETURN(std::unique_ptr<Mesh> mesh,
                      Mesh::Open(worker, {.record_changes = false}));
  ProductDescriptor data;
  data.id = kData;
  data.owner = "diffmesh-profile";
  data.description = args.file;
  absl::StatusOr<Table> table =
      mesh->Source(data, {.path = copy.string(), .keep_rows = false});
  if (!table.ok()) {
    // The source names the working copy; the user knows the file.
    std::string message(table.status().message());
    for (size_t at; (at = message.find(copy.string())) != std::string::npos;) {
      message.replace(at, copy.string().size(), args.file);
    }
    return absl::Status(table.status().code(), message);
  }
  DM_ASSIGN_OR_RETURN(Table metrics, Profile(*table));
  ProductDescriptor described;
  described.id = kMetrics;
  described.owner = "diffmesh-profile";
  DM_RETURN_IF_ERROR(mesh->Publish(metrics, described).status());
  const Schema schema = mesh->Descriptor(kData)->schema;
  DM_ASSIGN_OR_RETURN(std::optional<AttachedContract> contract,
                      ReadContract(args, schema));
  if (contract) {
    DM_ASSIGN_OR_RETURN(Table verdicts, Checks(*table, *contract));
    ProductDescriptor checks;
    checks.id = kChecks;
    checks.owner = "diffmesh-profile";
    DM_RETURN_IF_ERROR(mesh->Publish(verdicts, checks).status());
  }
  if (!args.keys.empty()) {
    // The duplicates over the key: a check of its own, read for its count.
    AttachedContract duplicates;
    QualityRule rule;
    rule.id = "duplicates";
    rule.metric = RuleMetric::kDuplicateValues;
    rule.properties = args.keys;
    std::vector<int> columns;
    for (const std::string& key : args.keys) {
      std::optional<int> at = schema.FieldIndex(key);
      if (!at) {
        std::vector<std::string> names;
        for (const Field& f : schema.fields()) names.push_back(f.name);
        return absl::InvalidArgumentError(
            absl::StrCat("--key ", key, ": no such column in ", args.file,
                         " (columns: ", absl::StrJoin(names, ", "), ")"));
      }
      columns.push_back(*at);
    }
    duplicates.contract.rules = {rule};
    duplicates.column = {-1};
    duplicates.key_columns = {columns};
    DM_ASSIGN_OR_RETURN(Table counted, Checks(*table, duplicates));
    ProductDescriptor keys;
    keys.id = kKeys;
    keys.owner = "diffmesh-profile";
    DM_RETURN_IF_ERROR(mesh->Publish(counted, keys).status());
  }

  const uintmax_t bytes = fs::file_size(copy);
  progress << "diffmesh profile: reading " << args.file << " ("
           << absl::StrFormat("%.1f", bytes / 1048576.0) << " MiB, "
           << schema.size() << " columns)" << std::endl;
  Clock::time_point start = Clock::now();
  DM_RETURN_IF_ERROR(mesh->Advance());
  auto read = [&]() -> absl::StatusOr<Json> {
    DM_ASSIGN_OR_RETURN(std::vector<Row> rows, mesh->Read(kMetrics));
    std::vector<Row> verdicts;
    if (contract) {
      DM_ASSIGN_OR_RETURN(verdicts, mesh->Read(kChecks));
    }
    std::optional<int64_t> duplicates;
    if (!args.keys.empty()) {
      DM_ASSIGN_OR_RETURN(std::vector<Row> counted, mesh->Read(kKeys));
      if (!counted.empty()) {
        duplicates = static_cast<int64_t>(counted[0][5].as_double());
      }
    }
    return Document(schema, rows, verdicts, mesh->QuarantineCount(kData),
                    duplicates);
  };
  DM_ASSIGN_OR_RETURN(Json now, read());
  {
    const double took = Seconds(Clock::now() - start);
    const int64_t n = now["rows"].get<int64_t>();
    progress << "diffmesh profile: " << n << " rows, "
             << now["quarantined"].get<int64_t>() << " quarantined, in "
             << absl::StrFormat("%.3f", took) << " s ("
             << absl::StrFormat("%.0f", took > 0 ? n / took : 0.0) << " rows/s)"
             << std::endl;
  }
  auto emit = [&](const Json& body, int version, const std::string& file,
                  bool whole) {
    Json doc;
    doc["version"] = version;
    doc["file"] = file;
    doc.update(body);
    if (args.format == "json") {
      out << doc.dump() << "\n";
    } else {
      PrintTable(doc, whole, out);
    }
    out.flush();
  };
  Json first = now;
  if (contract) {
    for (const QualityRule& r : contract->contract.rules) {
      if (r.enforced) continue;
      first["checks"].push_back(
          {{"id", r.id}, {"kind", r.kind}, {"enforced", false}});
    }
  }
  emit(first, 0, args.file, true);
  for (size_t v = 1; v < files.size(); ++v) {
    start = Clock::now();
    DM_RETURN_IF_ERROR(Become(copy, files[v - 1], files[v]));
    const Clock::time_point copied = Clock::now();
    DM_ASSIGN_OR_RETURN(RefreshReport report, mesh->Refresh());
    const Clock::time_point refreshed = Clock::now();
    if (!report.failing_sources.empty()) {
      return absl::Status(
          report.failing_sources[0].status.code(),
          absl::StrCat(files[v], ": ",
                       report.failing_sources[0].status.message()));
    }
    DM_ASSIGN_OR_RETURN(Json next, read());
    progress << "diffmesh profile: version " << v << " (" << files[v] << "): +"
             << report.rows_inserted << " -" << report.rows_retracted
             << " rows in "
             << absl::StrFormat("%.2f", Seconds(Clock::now() - start) * 1e3)
             << " ms (copying the version "
             << absl::StrFormat("%.2f", Seconds(copied - start) * 1e3)
             << " ms, the mesh's refresh "
             << absl::StrFormat("%.2f", Seconds(refreshed - copied) * 1e3)
             << " ms)" << std::endl;
    emit(Changes(now, next), static_cast<int>(v), files[v], false);
    now = std::move(next);
  }
  ProfileOutcome outcome;
  for (const Json& c : now["checks"]) {
    if (c["severity"] == "error" && !c["passed"].get<bool>()) {
      ++outcome.failing_error_checks;
    }
  }
  return outcome;
}

}  // namespace diffmesh
