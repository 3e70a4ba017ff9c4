// Fuzzes the read API (server/api.h) with any request: the bytes are the
// path (first line), the principal (second line) and query parameters
// ("key=value" lines), answered from a small snapshot with products,
// lineage, governance products and an access product. On every input:
// - the answer is JSON an object, with an "error" object exactly when the
//   status is not 200;
// - the status is one the API documents;
// - answering again gives the same bytes (a pure function).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "server/api.h"
#include "tools/fuzz/fuzz_check.h"

namespace diffmesh {
namespace {

template <class K>
CountedRuns<K> RunsOf(std::vector<std::pair<K, int64_t>> items) {
  std::sort(items.begin(), items.end());
  return CountedRuns<K>().With(
      std::make_shared<const typename CountedRuns<K>::Run>(std::move(items)));
}

Row Strings(std::vector<std::string> values) {
  Row row;
  for (const std::string& v : values) row.AppendString(v);
  return row;
}

const MeshSnapshot& Snapshot() {
  static const MeshSnapshot* snapshot = [] {
    auto describe = [](std::string id, Schema schema,
                       std::vector<std::string> upstream) {
      ProductDescriptor d;
      d.id = std::move(id);
      d.owner = "team";
      d.schema = std::move(schema);
      d.upstream = std::move(upstream);
      return d;
    };
    const Schema people({{"id", ValueType::kInt64},
                         {"email", ValueType::kString, true, "", {"pii"}},
                         {"seen", ValueType::kTimestamp},
                         {"score", ValueType::kDouble}});
    const Schema tiers({{"product", ValueType::kString},
                        {"declared", ValueType::kString},
                        {"tier", ValueType::kString},
                        {"reason", ValueType::kString}});
    const Schema access({{"principal", ValueType::kString},
                         {"product", ValueType::kString},
                         {"column", ValueType::kString},
                         {"decision", ValueType::kString},
                         {"reason", ValueType::kString}});
    MeshSnapshot::Parts parts;
    parts.time = 3;
    parts.empty = false;
    parts.access_product = "governance.access";
    parts.catalog = RunsOf<ProductDescriptor>(
        {{describe("crm.people", people, {}), 1},
         {describe("crm.copy", people, {"crm.people"}), 1},
         {describe("governance.tiers", tiers, {}), 1},
         {describe("governance.access", access, {}), 1}});
    parts.lineage = RunsOf<LineageEdge>(
        {{{{"crm.people", ""}, {"crm.copy", ""}, TransformKind::kDirect}, 1},
         {{{"crm.people", "email"},
           {"crm.copy", "email"},
           TransformKind::kMasking},
          1},
         {{{"crm.copy", "id"}, {"crm.people", "id"}, TransformKind::kFilter},
          1}});
    auto products = std::make_shared<MeshSnapshot::Products>();
    auto rows = std::make_shared<ProductRows>();
    rows->rows = RunsOf<Row>(
        {{Row{Value(int64_t{1}), Value(std::string("a@x.org\xff")),
              Value(TimestampMicros{5}), Value(0.5)},
          2},
         {Row{Value(int64_t{2}), Value(), Value(), Value(-1.0 / 0.0)}, 1}});
    rows->versions.push_back({DataVersion{1, 2}, rows->rows});
    (*products)["crm.people"] = rows;
    (*products)["crm.copy"] = rows;
    auto tier_rows = std::make_shared<ProductRows>();
    tier_rows->rows = RunsOf<Row>(
        {{Strings({"crm.people", "curated", "raw", "no data contract"}), 1}});
    (*products)["governance.tiers"] = tier_rows;
    auto access_rows = std::make_shared<ProductRows>();
    std::vector<std::pair<Row, int64_t>> decisions;
    for (const char* product : {"crm.people", "crm.copy"}) {
      decisions.push_back({Strings({"ana", product, "id", "allow", ""}), 1});
      decisions.push_back({Strings({"ana", product, "email", "mask", ""}), 1});
      decisions.push_back({Strings({"ana", product, "seen", "deny", ""}), 1});
      decisions.push_back({Strings({"ana", product, "score", "peek", ""}), 1});
    }
    access_rows->rows = RunsOf<Row>(std::move(decisions));
    (*products)["governance.access"] = access_rows;
    parts.products = std::move(products);
    return new MeshSnapshot(std::move(parts));
  }();
  return *snapshot;
}

void FuzzApi(absl::string_view bytes) {
  std::vector<std::string> lines = absl::StrSplit(bytes, '\n');
  ApiRequest request;
  request.path = lines[0];
  if (lines.size() > 1) request.principal = lines[1];
  for (size_t i = 2; i < lines.size(); ++i) {
    std::pair<std::string, std::string> kv =
        absl::StrSplit(lines[i], absl::MaxSplits('=', 1));
    request.params[kv.first] = kv.second;
  }
  const ApiResponse answer = HandleApi(Snapshot(), request);
  const int s = answer.status;
  FUZZ_CHECK(s == 200 || s == 400 || s == 403 || s == 404 || s == 405 ||
                 s == 409 || s == 500,
             "a status the API does not document");
  nlohmann::json body = nlohmann::json::parse(answer.body, nullptr, false);
  FUZZ_CHECK(!body.is_discarded() && body.is_object(),
             "the answer is not a JSON object");
  FUZZ_CHECK(
      (s != 200) == (body.contains("error") && body["error"].is_object()),
      "an error without an error body, or the reverse");
  FUZZ_CHECK(HandleApi(Snapshot(), request).body == answer.body,
             "the same request answered twice differently");
}

}  // namespace
}  // namespace diffmesh

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  diffmesh::FuzzApi(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
