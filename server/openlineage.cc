#include "server/openlineage.h"

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "catalog/csv_writer.h"
#include "engine/stable_hash.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "server/governance_rows.h"

namespace diffmesh {
namespace {

using Json = nlohmann::json;

Json Facet(const OpenLineageOptions& o, const char* schema_url) {
  return {{"_producer", o.producer}, {"_schemaURL", schema_url}};
}

// A UUID (version 8, RFC 9562's custom layout) from the product and the
// version: the same event has the same run id every time.
std::string RunId(const std::string& id, int version) {
  uint64_t hi = StableHash(std::pair<std::string, int64_t>(id, version));
  uint64_t lo = StableHash(std::pair<int64_t, std::string>(version, id));
  hi = (hi & ~uint64_t{0xF000}) | uint64_t{0x8000};            // version 8
  lo = (lo & ~(uint64_t{0x3} << 62)) | (uint64_t{0x2} << 62);  // variant 10
  return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", hi >> 32,
                         (hi >> 16) & 0xFFFF, hi & 0xFFFF, lo >> 48,
                         lo & 0xFFFFFFFFFFFFULL);
}

// dataQualityMetrics of product `id` from the governance metrics; null when
// it is not profiled.
Json QualityMetrics(const MeshSnapshot& s, const OpenLineageOptions& o,
                    const std::string& id) {
  Json rows = GovernanceRows(s, o.governance_domain, "metrics", id);
  if (rows.empty()) return nullptr;
  Json facet = Facet(o, kOpenLineageQualityMetricsFacet);
  Json columns = Json::object();
  for (const Json& r : rows) {
    const std::string column = r.value("column", std::string());
    const std::string metric = r.value("metric", std::string());
    const Json value = r.value("value", Json());
    if (!value.is_number()) continue;
    const double v = value.get<double>();
    if (column.empty()) {
      if (metric == "rows") facet["rowCount"] = static_cast<int64_t>(v);
      continue;
    }
    Json& c = columns[column];
    if (c.is_null()) c = Json::object();
    if (metric == "nulls") c["nullCount"] = static_cast<int64_t>(v);
    if (metric == "distinct") c["distinctCount"] = static_cast<int64_t>(v);
    if (metric == "sum") c["sum"] = v;
    if (metric == "min") c["min"] = v;
    if (metric == "max") c["max"] = v;
    if (metric == "p50") c["quantiles"]["0.5"] = v;
    if (metric == "p90") c["quantiles"]["0.9"] = v;
    if (metric == "p99") c["quantiles"]["0.99"] = v;
  }
  // count: the rows whose value is not null.
  if (facet.contains("rowCount")) {
    for (auto& [name, c] : columns.items()) {
      if (c.contains("nullCount")) {
        c["count"] =
            facet["rowCount"].get<int64_t>() - c["nullCount"].get<int64_t>();
      }
    }
  }
  facet["columnMetrics"] = std::move(columns);
  return facet;
}

// dataQualityAssertions of product `id`: its checks; null without any.
Json QualityAssertions(const MeshSnapshot& s, const OpenLineageOptions& o,
                       const std::string& id) {
  Json rows = GovernanceRows(s, o.governance_domain, "checks", id);
  if (rows.empty()) return nullptr;
  Json facet = Facet(o, kOpenLineageQualityAssertionsFacet);
  Json assertions = Json::array();
  for (const Json& r : rows) {
    Json a = {{"assertion", r.value("check", std::string())},
              {"success", r.value("passed", false)},
              {"severity", r.value("severity", std::string())}};
    const std::string property = r.value("property", std::string());
    if (!property.empty()) a["column"] = property;
    assertions.push_back(std::move(a));
  }
  facet["assertions"] = std::move(assertions);
  return facet;
}

Json Transformation(TransformKind kind) {
  switch (kind) {
    case TransformKind::kDirect:
      return {{"type", "DIRECT"}, {"subtype", "IDENTITY"}};
    case TransformKind::kDerived:
      return {{"type", "DIRECT"}, {"subtype", "TRANSFORMATION"}};
    case TransformKind::kAggregate:
      return {{"type", "DIRECT"}, {"subtype", "AGGREGATION"}};
    case TransformKind::kFilter:
      return {{"type", "INDIRECT"}, {"subtype", "FILTER"}};
    case TransformKind::kJoinKey:
      return {{"type", "INDIRECT"}, {"subtype", "JOIN"}};
    case TransformKind::kMasking:
      return {
          {"type", "DIRECT"}, {"subtype", "TRANSFORMATION"}, {"masking", true}};
  }
  return {{"type", "DIRECT"}, {"subtype", "TRANSFORMATION"}};
}

std::string Now() {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                          absl::UTCTimeZone());
}

}  // namespace

absl::StatusOr<std::vector<std::string>> RunEventsFor(
    const MeshSnapshot& s, const std::string& id, int after_version,
    const OpenLineageOptions& o) {
  absl::StatusOr<ProductDescriptor> d = s.Descriptor(id);
  if (!d.ok()) return d.status();
  std::vector<std::string> out;
  const std::vector<DataVersion> versions = s.DataVersions(id);
  bool any = false;
  for (const DataVersion& v : versions) any = any || v.number > after_version;
  if (!any) return out;

  Json schema = Facet(o, kOpenLineageSchemaFacet);
  schema["fields"] = Json::array();
  for (const Field& f : d->schema.fields()) {
    Json field = {{"name", f.name}, {"type", ValueTypeName(f.type)}};
    if (!f.description.empty()) field["description"] = f.description;
    schema["fields"].push_back(std::move(field));
  }
  Json lineage = Facet(o, kOpenLineageColumnLineageFacet);
  lineage["fields"] = Json::object();
  for (const LineageEdge& e : s.Lineage()) {
    if (e.to.product != id || e.to.is_product() || e.from.is_product()) {
      continue;
    }
    Json& field = lineage["fields"][e.to.column];
    if (field.is_null()) field = {{"inputFields", Json::array()}};
    field["inputFields"].push_back(
        {{"namespace", o.dataset_namespace},
         {"name", e.from.product},
         {"field", e.from.column},
         {"transformations", Json::array({Transformation(e.kind)})}});
  }
  Json output = {{"namespace", o.dataset_namespace},
                 {"name", id},
                 {"facets", {{"schema", std::move(schema)}}}};
  if (!lineage["fields"].empty()) {
    output["facets"]["columnLineage"] = std::move(lineage);
  }
  Json inputs = Json::array();
  for (const std::string& up : d->upstream) {
    Json input = {{"namespace", o.dataset_namespace},
                  {"name", up},
                  {"facets", Json::object()},
                  {"inputFacets", Json::object()}};
    Json metrics = QualityMetrics(s, o, up);
    if (!metrics.is_null())
      input["inputFacets"]["dataQualityMetrics"] = metrics;
    Json checks = QualityAssertions(s, o, up);
    if (!checks.is_null()) {
      input["inputFacets"]["dataQualityAssertions"] = checks;
    }
    inputs.push_back(std::move(input));
  }
  // The product's own checks and metrics, as an input of the run that
  // checks it: it reads its own rows.
  Json own_metrics = QualityMetrics(s, o, id);
  Json own_checks = QualityAssertions(s, o, id);
  if (!own_metrics.is_null() || !own_checks.is_null()) {
    Json self = {{"namespace", o.dataset_namespace},
                 {"name", id},
                 {"facets", Json::object()},
                 {"inputFacets", Json::object()}};
    if (!own_metrics.is_null()) {
      self["inputFacets"]["dataQualityMetrics"] = own_metrics;
    }
    if (!own_checks.is_null()) {
      self["inputFacets"]["dataQualityAssertions"] = own_checks;
    }
    inputs.push_back(std::move(self));
  }
  for (const DataVersion& v : versions) {
    if (v.number <= after_version) continue;
    Json event = {
        {"eventType", "COMPLETE"},
        {"eventTime", Now()},
        {"producer", o.producer},
        {"schemaURL", kOpenLineageRunEventSchema},
        {"run", {{"runId", RunId(id, v.number)}, {"facets", Json::object()}}},
        {"job",
         {{"namespace", o.job_namespace},
          {"name", id},
          {"facets", Json::object()}}},
        {"inputs", inputs},
        {"outputs", Json::array({output})}};
    out.push_back(event.dump());
  }
  return out;
}

struct OpenLineageEmitter::State {
  MeshReader reader;
  EmitterOptions options;
  std::optional<httplib::Client> client;
  std::string path;  // of the URL
  std::ofstream file;
  std::thread thread;
  mutable std::mutex mu;
  std::condition_variable stop_cv;
  bool stopping = false;
  EmitterStats stats;
  std::map<std::string, int> emitted;  // product -> last version emitted

  State(MeshReader r, EmitterOptions o)
      : reader(std::move(r)), options(std::move(o)) {}

  void Emit(const MeshSnapshot& s) {
    for (const ProductDescriptor& d : s.Catalog()) {
      const int after = emitted.count(d.id) ? emitted[d.id] : 0;
      absl::StatusOr<std::vector<std::string>> events =
          RunEventsFor(s, d.id, after, options.lineage);
      if (!events.ok() || events->empty()) continue;
      for (const std::string& e : *events) {
        if (file.is_open()) file << e << '\n';
        if (client) {
          httplib::Result r = client->Post(path, e, "application/json");
          std::lock_guard<std::mutex> lock(mu);
          if (!r || r->status / 100 != 2) {
            ++stats.post_errors;
            stats.last_error = r ? absl::StrCat("HTTP ", r->status)
                                 : httplib::to_string(r.error());
          }
        }
        std::lock_guard<std::mutex> lock(mu);
        ++stats.events;
      }
      if (file.is_open()) file.flush();
      emitted[d.id] = s.DataVersions(d.id).back().number;
    }
  }

  void Run() {
    uint64_t next = 0;
    for (;;) {
      absl::StatusOr<std::shared_ptr<const MeshSnapshot>> s =
          reader.WaitFor(next, absl::Milliseconds(100));
      if (s.ok() && !(*s)->empty()) {
        Emit(**s);
        next = (*s)->time() + 1;
      }
      std::lock_guard<std::mutex> lock(mu);
      if (stopping) return;
    }
  }
};

OpenLineageEmitter::OpenLineageEmitter(std::unique_ptr<State> state)
    : state_(std::move(state)) {}

OpenLineageEmitter::~OpenLineageEmitter() { Stop(); }

absl::StatusOr<std::unique_ptr<OpenLineageEmitter>> OpenLineageEmitter::Start(
    MeshReader reader, EmitterOptions options) {
  auto state = std::make_unique<State>(std::move(reader), std::move(options));
  const std::string& url = state->options.url;
  if (!url.empty()) {
    constexpr absl::string_view kHttp = "http://";
    const size_t slash = url.find('/', kHttp.size());
    if (!absl::StartsWith(url, kHttp) || slash == std::string::npos ||
        slash == kHttp.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "OpenLineage URL '", url, "': expected http://host[:port]/path"));
    }
    std::string host = url.substr(kHttp.size(), slash - kHttp.size());
    int port = 80;
    if (size_t colon = host.rfind(':'); colon != std::string::npos) {
      if (!absl::SimpleAtoi(host.substr(colon + 1), &port) || port <= 0 ||
          port > 65535) {
        return absl::InvalidArgumentError(
            absl::StrCat("OpenLineage URL '", url, "': bad port"));
      }
      host.resize(colon);
    }
    state->client.emplace(host, port);
    state->client->set_connection_timeout(2, 0);
    state->client->set_read_timeout(5, 0);
    state->path = url.substr(slash);
  }
  if (!state->options.file.empty()) {
    state->file.open(state->options.file, std::ios::app | std::ios::binary);
    if (!state->file) {
      return absl::UnavailableError(
          absl::StrCat(state->options.file,
                       ": cannot open for appending OpenLineage events"));
    }
  }
  State* s = state.get();
  s->thread = std::thread([s] { s->Run(); });
  return std::unique_ptr<OpenLineageEmitter>(
      new OpenLineageEmitter(std::move(state)));
}

void OpenLineageEmitter::Stop() {
  if (!state_ || !state_->thread.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->stopping = true;
  }
  state_->thread.join();
  // What the last snapshot holds, emitted before returning.
  std::shared_ptr<const MeshSnapshot> last = state_->reader.Latest();
  if (last && !last->empty()) state_->Emit(*last);
}

EmitterStats OpenLineageEmitter::stats() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->stats;
}

}  // namespace diffmesh
