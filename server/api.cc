#include "server/api.h"

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "server/governance_rows.h"

namespace diffmesh {

using Json = nlohmann::json;

Json DatumJson(const Datum& d) {
  if (d.is_null()) return nullptr;
  switch (d.type()) {
    case ValueType::kBool:
      return d.as_bool();
    case ValueType::kInt64:
      return d.as_int64();
    case ValueType::kDouble:
      return d.as_double();  // NaN and infinities dump as null
    case ValueType::kString:
      return std::string(d.as_string());
    case ValueType::kTimestamp:
      return FormatTimestamp(d.as_timestamp());
    default:
      return nullptr;
  }
}

Json GovernanceRows(const MeshSnapshot& s, const std::string& domain,
                    const std::string& name, const std::string& id) {
  Json out = Json::array();
  const std::string product = absl::StrCat(domain, ".", name);
  absl::StatusOr<ProductDescriptor> d = s.Descriptor(product);
  if (!d.ok()) return out;
  absl::StatusOr<std::vector<Row>> rows =
      id.empty() ? s.Read(product) : s.ReadPrefix(product, Row{Value(id)});
  if (!rows.ok()) return out;
  const std::vector<Field>& fields = d->schema.fields();
  for (const Row& row : *rows) {
    Json object = Json::object();
    size_t c = 0;
    for (const Datum v : row) {
      if (c < fields.size() && !(c == 0 && !id.empty())) {
        object[fields[c].name] = DatumJson(v);
      }
      ++c;
    }
    out.push_back(std::move(object));
  }
  return out;
}

namespace {

constexpr int kDefaultLimit = 100;
constexpr int kMaxLimit = 10000;
constexpr int kDefaultDepth = 20;

int HttpStatus(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kUnimplemented:
      return 405;
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

// Text from the data may hold bytes that are not UTF-8: replaced, never
// thrown on.
std::string Dump(const Json& body) {
  return body.dump(-1, ' ', false, Json::error_handler_t::replace);
}

ApiResponse Ok(const Json& body) { return {200, Dump(body)}; }

Json SchemaJson(const Schema& schema) {
  Json fields = Json::array();
  for (const Field& f : schema.fields()) {
    fields.push_back({{"name", f.name},
                      {"type", ValueTypeName(f.type)},
                      {"nullable", f.nullable},
                      {"description", f.description},
                      {"tags", f.tags}});
  }
  return fields;
}

Json DescriptorJson(const ProductDescriptor& d) {
  return {{"id", d.id},
          {"version", d.version.ToString()},
          {"domain", d.domain()},
          {"owner", d.owner},
          {"tier", TierName(d.tier)},
          {"description", d.description},
          {"tags", d.tags},
          {"upstream", d.upstream}};
}

// The rows of governance product `name` that start with `id`, with that
// first column left out, as objects named by the product's columns.

Json TierJson(const MeshSnapshot& s, const ApiOptions& options,
              const ProductDescriptor& d) {
  Json tier = {
      {"declared", TierName(d.tier)}, {"held", nullptr}, {"reason", nullptr}};
  Json rows = GovernanceRows(s, options.governance_domain, "tiers", d.id);
  if (!rows.empty()) {
    tier["held"] = rows[0].value("tier", Json());
    tier["reason"] = rows[0].value("reason", Json());
  }
  return tier;
}

absl::StatusOr<int> IntParam(const ApiRequest& r, const std::string& name,
                             int fallback, int least, int most) {
  auto it = r.params.find(name);
  if (it == r.params.end()) return fallback;
  int value = 0;
  if (!absl::SimpleAtoi(it->second, &value) || value < least || value > most) {
    return absl::InvalidArgumentError(
        absl::StrCat("parameter ", name, "='", it->second,
                     "' is not a whole number from ", least, " to ", most));
  }
  return value;
}

ApiResponse Products(const MeshSnapshot& s, const ApiRequest& r,
                     const ApiOptions& options) {
  std::vector<ProductDescriptor> found;
  auto q = r.params.find("q");
  if (q == r.params.end() || q->second.empty()) {
    found = s.Catalog();
  } else {
    for (const std::string& id : s.Search(q->second)) {
      if (absl::StatusOr<ProductDescriptor> d = s.Descriptor(id); d.ok()) {
        found.push_back(*std::move(d));
      }
    }
  }
  Json products = Json::array();
  for (const ProductDescriptor& d : found) {
    Json p = DescriptorJson(d);
    p["tier"] = TierJson(s, options, d);
    products.push_back(std::move(p));
  }
  return Ok({{"time", s.time()}, {"products", std::move(products)}});
}

ApiResponse Product(const MeshSnapshot& s, const std::string& id,
                    const ApiOptions& options) {
  absl::StatusOr<ProductDescriptor> d = s.Descriptor(id);
  if (!d.ok()) return ErrorResponse(d.status());
  Json p = DescriptorJson(*d);
  p["tier"] = TierJson(s, options, *d);
  p["schema"] = SchemaJson(d->schema);
  Json versions = Json::array();
  for (const DataVersion& v : s.DataVersions(id)) {
    versions.push_back({{"number", v.number}, {"time", v.time}});
  }
  p["versions"] = std::move(versions);
  p["checks"] = GovernanceRows(s, options.governance_domain, "checks", id);
  // {contract, version}, or null for a product under none.
  Json contract = GovernanceRows(s, options.governance_domain, "contracts", id);
  p["contract"] = contract.empty() ? Json() : contract[0];
  p["source"] = nullptr;  // not a source
  if (std::optional<SourceStatus> st = s.SourceStatusOf(id)) {
    p["source"] = {{"state", st->status.ok() ? "ok" : "failing"},
                   {"since", st->since},
                   {"failed_polls", st->failed_polls}};
    if (!st->status.ok()) {
      p["source"]["error"] = {
          {"code", absl::StatusCodeToString(st->status.code())},
          {"message", std::string(st->status.message())}};
    }
  }
  p["quarantined"] = s.Quarantine(id).size();
  p["time"] = s.time();
  return Ok(p);
}

ApiResponse Rows(const MeshSnapshot& s, const ApiRequest& r,
                 const std::string& id) {
  absl::StatusOr<int> limit = IntParam(r, "limit", kDefaultLimit, 0, kMaxLimit);
  if (!limit.ok()) return ErrorResponse(limit.status());
  absl::StatusOr<int> as_of = IntParam(r, "as_of", 0, 1, 1 << 30);
  if (!as_of.ok()) return ErrorResponse(as_of.status());
  absl::StatusOr<MeshSnapshot::VisibleRows> seen =
      s.ReadAs(r.principal, id, *as_of);
  if (!seen.ok()) return ErrorResponse(seen.status());
  Json columns = Json::array();
  for (const Field& f : seen->schema.fields()) columns.push_back(f.name);
  Json rows = Json::array();
  for (size_t i = 0; i < seen->rows.size() && i < static_cast<size_t>(*limit);
       ++i) {
    Json row = Json::array();
    for (const Datum v : seen->rows[i]) row.push_back(DatumJson(v));
    rows.push_back(std::move(row));
  }
  return Ok({{"id", id},
             {"time", s.time()},
             {"as_of", *as_of == 0 ? Json() : Json(*as_of)},
             {"columns", std::move(columns)},
             {"rows", std::move(rows)},
             {"total", seen->rows.size()},
             {"truncated", seen->rows.size() > static_cast<size_t>(*limit)}});
}

ApiResponse Quality(const MeshSnapshot& s, const std::string& id,
                    const ApiOptions& options) {
  if (absl::StatusOr<ProductDescriptor> d = s.Descriptor(id); !d.ok()) {
    return ErrorResponse(d.status());
  }
  return Ok(
      {{"id", id},
       {"time", s.time()},
       {"metrics", GovernanceRows(s, options.governance_domain, "metrics", id)},
       {"checks", GovernanceRows(s, options.governance_domain, "checks", id)}});
}

// "ops.flights" or "ops.flights.delay" (a product id has one dot).
ColumnRef ParseNode(const std::string& node) {
  const size_t first = node.find('.');
  const size_t second =
      first == std::string::npos ? first : node.find('.', first + 1);
  if (second == std::string::npos) return {node, ""};
  return {node.substr(0, second), node.substr(second + 1)};
}

std::string NodeId(const ColumnRef& c) {
  return c.is_product()
             ? absl::StrCat("dataset:", c.product)
             : absl::StrCat("datasetField:", c.product, ":", c.column);
}

ApiResponse Lineage(const MeshSnapshot& s, const ApiRequest& r,
                    const ApiOptions& options) {
  auto node = r.params.find("node");
  if (node == r.params.end() || node->second.empty()) {
    return ErrorResponse(absl::InvalidArgumentError(
        "parameter node is required: a product id or product.column"));
  }
  const ColumnRef start = ParseNode(node->second);
  absl::StatusOr<ProductDescriptor> d = s.Descriptor(start.product);
  if (!d.ok()) return ErrorResponse(d.status());
  if (!start.is_product() && !d->schema.FieldIndex(start.column)) {
    return ErrorResponse(absl::NotFoundError(absl::StrCat(
        "product ", start.product, " has no column '", start.column, "'")));
  }
  bool up = true, down = true;
  if (auto dir = r.params.find("direction"); dir != r.params.end()) {
    if (dir->second == "upstream") {
      down = false;
    } else if (dir->second == "downstream") {
      up = false;
    } else if (dir->second != "both") {
      return ErrorResponse(absl::InvalidArgumentError(
          absl::StrCat("parameter direction='", dir->second,
                       "' is not upstream, downstream or both")));
    }
  }
  absl::StatusOr<int> depth = IntParam(r, "depth", kDefaultDepth, 0, 1000);
  if (!depth.ok()) return ErrorResponse(depth.status());
  bool columns = !start.is_product();
  if (auto c = r.params.find("columns"); c != r.params.end()) {
    if (c->second != "true" && c->second != "false") {
      return ErrorResponse(absl::InvalidArgumentError(absl::StrCat(
          "parameter columns='", c->second, "' is not true or false")));
    }
    columns = columns || c->second == "true";
  }

  // The edges of the chosen level, both ways.
  std::map<ColumnRef, std::vector<const LineageEdge*>> out_of, into;
  const std::vector<LineageEdge> edges = s.Lineage();
  for (const LineageEdge& e : edges) {
    if (e.from.is_product() != e.to.is_product()) continue;
    if (!e.from.is_product() && !columns) continue;
    out_of[e.from].push_back(&e);
    into[e.to].push_back(&e);
  }
  // Breadth first from the start, and from its product's columns when the
  // start is a product and columns are asked for.
  std::map<ColumnRef, int> reached;
  std::deque<ColumnRef> todo;
  auto reach = [&](const ColumnRef& c, int at) {
    if (reached.emplace(c, at).second) todo.push_back(c);
  };
  reach(start, 0);
  if (start.is_product() && columns) {
    for (const Field& f : d->schema.fields()) reach({start.product, f.name}, 0);
  }
  std::set<const LineageEdge*> kept;
  while (!todo.empty()) {
    const ColumnRef c = todo.front();
    todo.pop_front();
    const int at = reached[c];
    if (at >= *depth) continue;
    if (down) {
      for (const LineageEdge* e : out_of[c]) {
        kept.insert(e);
        reach(e->to, at + 1);
      }
    }
    if (up) {
      for (const LineageEdge* e : into[c]) {
        kept.insert(e);
        reach(e->from, at + 1);
      }
    }
  }
  Json graph = Json::array();
  for (const auto& [c, at] : reached) {
    Json data = {{"product", c.product}};
    if (c.is_product()) {
      if (absl::StatusOr<ProductDescriptor> p = s.Descriptor(c.product);
          p.ok()) {
        data["owner"] = p->owner;
        data["tier"] = TierJson(s, options, *p);
        data["violations"] = GovernanceRows(s, options.governance_domain,
                                            "violations", c.product)
                                 .size();
      }
    } else {
      data["column"] = c.column;
    }
    Json in = Json::array(), out = Json::array();
    for (const LineageEdge* e : kept) {
      Json edge = {{"origin", NodeId(e->from)},
                   {"destination", NodeId(e->to)},
                   {"transformation", TransformKindName(e->kind)}};
      if (e->to == c) in.push_back(edge);
      if (e->from == c) out.push_back(std::move(edge));
    }
    graph.push_back({{"id", NodeId(c)},
                     {"type", c.is_product() ? "DATASET" : "DATASET_FIELD"},
                     {"data", std::move(data)},
                     {"inEdges", std::move(in)},
                     {"outEdges", std::move(out)}});
  }
  return Ok({{"time", s.time()}, {"graph", std::move(graph)}});
}

}  // namespace

ApiResponse ErrorResponse(const absl::Status& status) {
  Json body = {{"error",
                {{"code", absl::StatusCodeToString(status.code())},
                 {"message", std::string(status.message())}}}};
  return {HttpStatus(status.code()), Dump(body)};
}

ApiResponse HandleApi(const MeshSnapshot& snapshot, const ApiRequest& request,
                      const ApiOptions& options) {
  if (request.method != "GET") {
    return ErrorResponse(absl::UnimplementedError(absl::StrCat(
        request.method, " ", request.path, ": the API is read-only (GET)")));
  }
  std::vector<std::string> parts = absl::StrSplit(request.path, '/');
  // "/api/products/x" -> "", "api", "products", "x"
  if (parts.size() < 3 || !parts[0].empty() || parts[1] != "api") {
    return ErrorResponse(
        absl::NotFoundError(absl::StrCat("no endpoint ", request.path)));
  }
  if (snapshot.empty()) {
    return ErrorResponse(absl::FailedPreconditionError(
        "the mesh has not closed a time yet; try again shortly"));
  }
  const std::string& what = parts[2];
  if (what == "products" && parts.size() == 3) {
    return Products(snapshot, request, options);
  }
  if (what == "products" && parts.size() == 4 && !parts[3].empty()) {
    return Product(snapshot, parts[3], options);
  }
  if (what == "products" && parts.size() == 5 && !parts[3].empty()) {
    if (parts[4] == "rows") return Rows(snapshot, request, parts[3]);
    if (parts[4] == "quality") return Quality(snapshot, parts[3], options);
  }
  if (what == "violations" && parts.size() == 3) {
    return Ok(
        {{"time", snapshot.time()},
         {"violations", GovernanceRows(snapshot, options.governance_domain,
                                       "violations", "")}});
  }
  if (what == "lineage" && parts.size() == 3) {
    return Lineage(snapshot, request, options);
  }
  return ErrorResponse(
      absl::NotFoundError(absl::StrCat("no endpoint ", request.path)));
}

namespace {

// A Prometheus label value: backslash, double quote and line feed escaped.
std::string Label(absl::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Family(std::string* out, const char* name, const char* type,
            const char* help) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type,
                  "\n");
}

}  // namespace

std::string MetricsText(const MeshSnapshot& s, const ServingStats& serving,
                        const ApiOptions& options) {
  std::string out;
  Family(&out, "diffmesh_mesh_time", "gauge",
         "The engine time of the last closed snapshot.");
  absl::StrAppend(&out, "diffmesh_mesh_time ", s.empty() ? 0 : s.time(), "\n");
  const std::vector<ProductDescriptor> catalog =
      s.empty() ? std::vector<ProductDescriptor>() : s.Catalog();
  Family(&out, "diffmesh_products", "gauge", "Active products in the catalog.");
  absl::StrAppend(&out, "diffmesh_products ", catalog.size(), "\n");
  std::string rows, quarantined;
  for (const ProductDescriptor& d : catalog) {
    absl::StatusOr<std::pair<int64_t, int64_t>> n = s.RowCounts(d.id);
    if (!n.ok()) continue;
    absl::StrAppend(&rows, "diffmesh_product_rows{product=\"", Label(d.id),
                    "\"} ", n->first, "\n");
    absl::StrAppend(&quarantined,
                    "diffmesh_product_quarantined_rows{product=\"", Label(d.id),
                    "\"} ", n->second, "\n");
  }
  Family(&out, "diffmesh_product_rows", "gauge", "Rows of each product.");
  out += rows;
  Family(&out, "diffmesh_product_quarantined_rows", "gauge",
         "Rows of each product refused into its quarantine.");
  out += quarantined;
  // Failing checks, by product and severity, from the violations product.
  std::map<std::pair<std::string, std::string>, int64_t> failing;
  std::map<std::string, int64_t> by_severity = {{"error", 0}, {"warning", 0}};
  if (!s.empty()) {
    for (const Json& v : GovernanceRows(s, options.governance_domain,
                                        "violations", std::string())) {
      const std::string product = v.value("product", std::string());
      const std::string severity = v.value("severity", std::string());
      ++failing[{product, severity}];
      ++by_severity[severity];
    }
  }
  Family(&out, "diffmesh_check_failures", "gauge",
         "Checks failing now, by product and severity.");
  for (const auto& [key, n] : failing) {
    absl::StrAppend(&out, "diffmesh_check_failures{product=\"",
                    Label(key.first), "\",severity=\"", Label(key.second),
                    "\"} ", n, "\n");
  }
  Family(&out, "diffmesh_violations_open", "gauge",
         "Open violations (failing checks), by severity.");
  for (const auto& [severity, n] : by_severity) {
    absl::StrAppend(&out, "diffmesh_violations_open{severity=\"",
                    Label(severity), "\"} ", n, "\n");
  }
  const std::vector<SourceStatus> sources = s.SourceStatuses();
  Family(&out, "diffmesh_source_up", "gauge",
         "1 when a source's last poll read its files, 0 when it failed.");
  for (const SourceStatus& st : sources) {
    absl::StrAppend(&out, "diffmesh_source_up{source=\"", Label(st.id), "\"} ",
                    st.status.ok() ? 1 : 0, "\n");
  }
  Family(&out, "diffmesh_source_failed_polls", "gauge",
         "Polls of a source failed in a row (0 when it reads).");
  for (const SourceStatus& st : sources) {
    absl::StrAppend(&out, "diffmesh_source_failed_polls{source=\"",
                    Label(st.id), "\"} ", st.failed_polls, "\n");
  }
  const RoundStats& r = s.rounds();
  Family(&out, "diffmesh_round_duration_seconds", "histogram",
         "How long the mesh's rounds (Advance, from its start to the close "
         "of its time) took.");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < RoundStats::kBounds.size(); ++i) {
    cumulative += r.counts[i];
    absl::StrAppend(&out, "diffmesh_round_duration_seconds_bucket{le=\"",
                    RoundStats::kBounds[i], "\"} ", cumulative, "\n");
  }
  absl::StrAppend(&out, "diffmesh_round_duration_seconds_bucket{le=\"+Inf\"} ",
                  r.count, "\n");
  absl::StrAppend(&out, "diffmesh_round_duration_seconds_sum ", r.sum_seconds,
                  "\ndiffmesh_round_duration_seconds_count ", r.count, "\n");
  Family(&out, "diffmesh_sse_clients", "gauge",
         "Event streams (GET /api/events) open now.");
  absl::StrAppend(&out, "diffmesh_sse_clients ", serving.event_clients, "\n");
  return out;
}

namespace {

const char* kEventProducts[] = {"metrics", "checks", "violations", "tiers"};

}  // namespace

absl::StatusOr<EventCursor> ParseEventId(absl::string_view text) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, ':');
  EventCursor c;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &c.time) ||
      !absl::SimpleAtoi(parts[1], &c.seq) || c.seq < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "event id '", text, "' is not TIME:SEQ (two whole numbers)"));
  }
  return c;
}

SubscribeOptions EventSubscription(const ApiOptions& options,
                                   std::optional<EventCursor> resume) {
  SubscribeOptions s;
  s.streams = {MeshStream::kCatalog, MeshStream::kLineage,
               MeshStream::kProductRows};
  for (const char* name : kEventProducts) {
    s.rows_of.push_back(absl::StrCat(options.governance_domain, ".", name));
  }
  if (resume) s.from = resume->time;
  return s;
}

std::string EventStreamText(const MeshEvents& events, const ApiOptions& options,
                            std::optional<EventCursor> after) {
  std::string out;
  const std::string prefix = absl::StrCat(options.governance_domain, ".");
  int64_t seq = 0;
  for (const MeshEvent& e : events.events) {
    const int64_t at = seq++;
    if (after && after->time == events.time && at <= after->seq) continue;
    std::string kind;
    Json record;
    switch (e.stream) {
      case MeshStream::kCatalog:
        kind = "catalog";
        record = DescriptorJson(e.descriptor());
        record["schema"] = SchemaJson(e.descriptor().schema);
        break;
      case MeshStream::kLineage:
        kind = "lineage";
        record = {{"from", NodeId(e.edge().from)},
                  {"to", NodeId(e.edge().to)},
                  {"transformation", TransformKindName(e.edge().kind)}};
        break;
      case MeshStream::kProductRows: {
        kind = absl::StartsWith(e.id, prefix) ? e.id.substr(prefix.size())
                                              : std::string("rows");
        record = Json::array();
        for (const Datum v : e.row()) record.push_back(DatumJson(v));
        break;
      }
      default:
        continue;
    }
    Json data = {{"time", e.time},
                 {"diff", e.diff},
                 {"product", e.id},
                 {"record", std::move(record)}};
    absl::StrAppend(&out, "id: ", events.time, ":", at, "\nevent: ", kind,
                    "\ndata: ", Dump(data), "\n\n");
  }
  return out;
}

}  // namespace diffmesh
