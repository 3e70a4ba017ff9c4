#include "tools/demo/demo_mesh.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "engine/status_macros.h"
#include "operators/arrange.h"
#include "operators/concat.h"
#include "operators/distinct.h"
#include "operators/filter.h"
#include "operators/iterate.h"
#include "operators/join.h"
#include "operators/map.h"
#include "operators/reduce.h"

namespace diffmesh::demo {
namespace {

constexpr char kHub[] = "ORD";

// Checks that fail on vega's movies (missing ratings and running times,
// ratings outside the MPAA's list), so violations show from the start.
constexpr char kMoviesContract[] = R"(apiVersion: v3.1.0
kind: DataContract
id: entertainment-movies
version: 1.0.0
status: active
domain: entertainment
schema:
  - name: movies_raw
    properties:
      - name: Title
        logicalType: string
        required: true
      - name: IMDB Rating
        logicalType: number
        quality:
          - id: imdb_rating_known
            metric: nullValues
            mustBe: 0
      - name: MPAA Rating
        logicalType: string
        quality:
          - id: mpaa_rating_valid
            metric: invalidValues
            arguments:
              validValues: [G, PG, PG-13, R, NC-17]
            mustBe: 0
            severity: warning
      - name: Running Time min
        logicalType: integer
        quality:
          - id: running_time_mostly_known
            metric: nullValues
            mustBeLessThan: 10
            unit: percent
roles:
  - role: analyst
    access: read
)";

constexpr char kFlightsContract[] = R"(apiVersion: v3.1.0
kind: DataContract
id: operations-flights
version: 1.0.0
status: active
domain: operations
schema:
  - name: flights_raw
    properties:
      - name: origin
        logicalType: string
        required: true
      - name: delay
        logicalType: integer
        quality:
          - id: delay_mostly_known
            metric: nullValues
            mustBeLessThan: 5
            unit: percent
      - name: distance
        logicalType: integer
        required: true
)";

// The flights contract as tightened at step kTightenStep: delays must be
// known for 99% of the flights (not 95%), and fewer than 1% of the flights
// may be more than 99 minutes late.
constexpr char kTightenedFlightsContract[] = R"(apiVersion: v3.1.0
kind: DataContract
id: operations-flights
version: 1.1.0
status: active
domain: operations
schema:
  - name: flights_raw
    properties:
      - name: origin
        logicalType: string
        required: true
      - name: delay
        logicalType: integer
        quality:
          - id: delay_mostly_known
            metric: nullValues
            mustBeLessThan: 1
            unit: percent
          - id: long_delays_rare
            description: at most 99 minutes late, for 99% of the flights
            metric: invalidValues
            arguments:
              pattern: '^-?[0-9]{1,2}$'
            mustBeLessThan: 1
            unit: percent
      - name: distance
        logicalType: integer
        required: true
)";

constexpr char kCuratedFlightsContract[] = R"(apiVersion: v3.1.0
kind: DataContract
id: operations-flights-curated
version: 1.0.0
status: active
domain: operations
schema:
  - name: flights
    properties:
      - name: delay
        logicalType: integer
        required: true
      - name: on_time
        logicalType: integer
        required: true
        quality:
          - id: on_time_is_a_flag
            metric: invalidValues
            arguments:
              validValues: [0, 1]
            mustBe: 0
)";

constexpr char kOnTimeContract[] = R"(apiVersion: v3.1.0
kind: DataContract
id: operations-on-time
version: 1.0.0
status: active
domain: operations
schema:
  - name: on_time
    properties:
      - name: origin
        logicalType: string
        primaryKey: true
      - name: flights
        logicalType: integer
        required: true
)";

absl::StatusOr<DataContract> FlightsContract(bool tightened) {
  return tightened ? ParseContract(kTightenedFlightsContract,
                                   "flights.odcs.yaml (1.1.0)")
                   : ParseContract(kFlightsContract, "flights.odcs.yaml");
}

// An airport code of up to four ASCII characters as a node id (0: none).
uint32_t Node(absl::string_view code) {
  if (code.empty() || code.size() > 4) return 0;
  uint32_t n = 0;
  for (char c : code) n = (n << 8) | static_cast<unsigned char>(c);
  return n;
}
std::string Code(uint32_t node) {
  std::string s;
  for (; node != 0; node >>= 8) s.insert(s.begin(), static_cast<char>(node));
  return s;
}

// (airport, hops): every airport reachable from `hub` along the routes,
// with the fewest hops; the hub has 0.
RowCollection Reachable(const RowCollection& routes, uint32_t hub) {
  using Edge = std::pair<uint32_t, uint32_t>;
  auto edges =
      Filter(Map(routes,
                 [](const Row& r) {
                   return Edge(Node(r[0].as_string()), Node(r[1].as_string()));
                 }),
             [](const Edge& e) { return e.first && e.second; });
  auto start = Distinct(
      Map(Filter(edges, [hub](const Edge& e) { return e.first == hub; }),
          [hub](const Edge&) { return Edge(hub, 0); }));
  auto by_source = ArrangeByKey(edges);
  auto hops = Iterate(start, [&](const auto& dists) {
    auto stepped =
        JoinCore(ArrangeByKey(dists), EnterArranged(by_source),
                 [](const uint32_t&, const uint32_t& d, const uint32_t& dst) {
                   return Edge(dst, d + 1);
                 });
    return Reduce<uint32_t>(Concat(stepped, Enter(start)),
                            [](const uint32_t&, const auto& input, auto* out) {
                              out->emplace_back(input.front().first, 1);
                            });
  });
  return Map(hops, [](const Edge& e) {
    return Row{Value(Code(e.first)), Value(static_cast<int64_t>(e.second))};
  });
}

absl::Status WriteText(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) {
      return absl::UnavailableError(absl::StrCat(tmp, ": cannot write"));
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat(path, ": cannot replace: ", ec.message()));
  }
  return absl::OkStatus();
}

// Customers with a home airport and an email address (pii).
std::string CustomersCsv(const Sample& sample) {
  std::vector<std::string> airports;
  std::istringstream in(sample.airports_csv);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line) && airports.size() < 400) {
    const std::string code = line.substr(0, line.find(','));
    if (!code.empty()) airports.push_back(code);
  }
  static const char* kFirst[] = {"ada",  "bo",    "chiara", "dmitri", "eun",
                                 "femi", "grace", "hiro",   "ines",   "jon"};
  std::string csv = "customer_id,name,email,home_airport\n";
  for (int i = 1; i <= 200; ++i) {
    const char* first = kFirst[i % 10];
    absl::StrAppend(
        &csv, i, ",", first, " ", i, ",", first, ".", i, "@example.org,",
        airports.empty() ? "" : airports[(i * 7) % airports.size()], "\n");
  }
  return csv;
}

}  // namespace

const std::map<std::string, std::string>& DemoTokens() {
  static const std::map<std::string, std::string> tokens = {
      {"analyst-token", "ana"}, {"steward-token", "sam"}};
  return tokens;
}

DemoMesh::~DemoMesh() = default;

absl::StatusOr<std::unique_ptr<DemoMesh>> DemoMesh::Open(
    const std::string& data_dir, Sample sample) {
  std::unique_ptr<DemoMesh> demo(new DemoMesh());
  demo->live_ = data_dir + "/live";
  demo->flights_log_ = demo->live_ + "/flights.changes.csv";
  demo->sample_ = std::move(sample);
  demo->steps_ = Replay(demo->sample_.flights);
  std::error_code ec;
  std::filesystem::create_directories(demo->live_, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat(
        demo->live_, ": cannot create the directory: ", ec.message()));
  }
  DM_RETURN_IF_ERROR(demo->WriteFiles());
  DM_ASSIGN_OR_RETURN(demo->store_, RocksMeshStore::Open(data_dir + "/store"));
  DM_ASSIGN_OR_RETURN(demo->mesh_,
                      Mesh::Open(demo->worker_, {.store = demo->store_.get(),
                                                 .record_changes = false}));
  demo->restored_ = demo->mesh_->time() > 0;
  DM_ASSIGN_OR_RETURN(
      demo->gov_,
      MeshGovernance::Open(
          *demo->mesh_,
          // pii is hidden from whoever is not cleared for it.
          {.access = {.uncleared = {{"pii", AccessDecision::kDeny}}}}));
  DM_RETURN_IF_ERROR(demo->Declare());
  const auto start = std::chrono::steady_clock::now();
  DM_ASSIGN_OR_RETURN(RefreshReport load, demo->mesh_->Refresh());
  demo->load_seconds_ =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  demo->loaded_rows_ = load.rows_inserted;
  if (demo->done_ >= kArrivalsStep) {
    DM_RETURN_IF_ERROR(demo->AddArrivals());
    DM_RETURN_IF_ERROR(demo->mesh_->Advance());
  }
  return demo;
}

// The source files: written anew from the sample (the same text gives no
// change), except the flights log, which is kept and continued.
absl::Status DemoMesh::WriteFiles() {
  DM_RETURN_IF_ERROR(WriteText(live_ + "/airports.csv", sample_.airports_csv));
  DM_RETURN_IF_ERROR(WriteText(live_ + "/routes.csv", sample_.routes_csv));
  DM_RETURN_IF_ERROR(WriteText(live_ + "/movies.json", sample_.movies_json));
  DM_RETURN_IF_ERROR(
      WriteText(live_ + "/customers.csv", CustomersCsv(sample_)));
  std::string log;
  {
    std::ifstream in(flights_log_, std::ios::binary);
    if (in) {
      std::ostringstream text;
      text << in.rdbuf();
      log = text.str();
    }
  }
  // The log holds the header and the records of steps 0..done_-1; a step
  // cut off halfway (the program stopped while writing) is cut off.
  std::string expected = kFlightsLogHeader;
  size_t whole = 0;
  if (!log.empty()) {
    if (log.compare(0, expected.size(), expected) != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          flights_log_, ": not a flights log of the demo (unexpected header)"));
    }
    while (whole < steps_.size() &&
           log.size() >= expected.size() + steps_[whole].records.size() &&
           log.compare(expected.size(), steps_[whole].records.size(),
                       steps_[whole].records) == 0) {
      expected += steps_[whole].records;
      ++whole;
    }
    if (log.size() > expected.size()) {
      // What follows must be the start of the next step, cut off.
      const std::string rest = log.substr(expected.size());
      if (whole == steps_.size() ||
          steps_[whole].records.compare(0, rest.size(), rest) != 0) {
        return absl::FailedPreconditionError(absl::StrCat(
            flights_log_,
            ": written from another sample than this one (generated data "
            "then the real one, or the reverse); remove the data directory "
            "to start over"));
      }
    }
  }
  done_ = whole;
  if (log != expected) return WriteText(flights_log_, expected);
  return absl::OkStatus();
}

absl::Status DemoMesh::Declare() {
  Mesh& mesh = *mesh_;
  MeshGovernance& gov = *gov_;
  // aviation
  ProductDescriptor airports_d = ProductDescriptor{
      .id = "aviation.airports_raw",
      .owner = "aviation-team",
      .tier = Tier::kRaw,
      .description = "Airports of the FAA's list, as published"};
  airports_d.schema = Schema({{"iata", ValueType::kString, false, "code"},
                              {"name", ValueType::kString},
                              {"city", ValueType::kString},
                              {"state", ValueType::kString},
                              {"country", ValueType::kString},
                              {"latitude", ValueType::kDouble},
                              {"longitude", ValueType::kDouble}});
  DM_ASSIGN_OR_RETURN(
      Table airports_raw,
      mesh.Source(airports_d, {.path = live_ + "/airports.csv"}));
  DM_ASSIGN_OR_RETURN(Table us,
                      airports_raw.Filter({"country"}, [](const Row& in) {
                        return in[0] == Value("USA");
                      }));
  DM_ASSIGN_OR_RETURN(us, us.Select({"iata", "name", "city", "state"}));
  DM_ASSIGN_OR_RETURN(
      Table airports,
      mesh.Publish(us,
                   ProductDescriptor{.id = "aviation.airports",
                                     .owner = "aviation-team",
                                     .tier = Tier::kCurated,
                                     .description = "Airports in the USA"}));
  DM_RETURN_IF_ERROR(gov.Profile("aviation.airports"));

  // network
  ProductDescriptor routes_d = ProductDescriptor{
      .id = "network.routes_raw",
      .owner = "network-team",
      .tier = Tier::kRaw,
      .description = "Routes flown in 2008 with their number of flights"};
  routes_d.schema = Schema({{"origin", ValueType::kString, false},
                            {"destination", ValueType::kString, false},
                            {"count", ValueType::kInt64}});
  DM_ASSIGN_OR_RETURN(Table routes,
                      mesh.Source(routes_d, {.path = live_ + "/routes.csv"}));
  DM_ASSIGN_OR_RETURN(
      Table reach,
      Table::Computed(routes, Reachable(routes.rows(), Node(kHub)),
                      Schema({{"airport", ValueType::kString, false},
                              {"hops", ValueType::kInt64, false}}),
                      TransformKind::kDerived));
  DM_RETURN_IF_ERROR(
      mesh.Publish(
              reach,
              ProductDescriptor{
                  .id = "network.reachable",
                  .owner = "network-team",
                  .tier = Tier::kCurated,
                  .description = "Airports reachable from ORD, fewest hops"})
          .status());

  // operations
  ProductDescriptor flights_d = ProductDescriptor{
      .id = "operations.flights_raw",
      .owner = "operations-team",
      .tier = Tier::kRaw,
      .description = "Flights as reported, hour by hour, with corrections"};
  flights_d.schema = Schema(
      {{"date", ValueType::kTimestamp, false},
       {"delay", ValueType::kInt64, true, "minutes"},
       {"distance", ValueType::kInt64, true, "miles; the contract requires it"},
       {"origin", ValueType::kString, false},
       {"destination", ValueType::kString, false}});
  DM_ASSIGN_OR_RETURN(Table flights_raw,
                      mesh.Source(flights_d, {.path = flights_log_}));
  // A restored run past the tightening starts with the tightened contract.
  DM_ASSIGN_OR_RETURN(DataContract flights_contract,
                      FlightsContract(done_ >= kTightenStep));
  DM_RETURN_IF_ERROR(gov.Attach("operations.flights_raw", flights_contract));
  DM_RETURN_IF_ERROR(gov.Profile("operations.flights_raw"));
  DM_ASSIGN_OR_RETURN(Table known,
                      flights_raw.Filter({"delay"}, [](const Row& in) {
                        return !in[0].is_null();
                      }));
  DM_ASSIGN_OR_RETURN(
      known,
      known.Derive("on_time", ValueType::kInt64, {"delay"}, [](const Row& in) {
        return Value(static_cast<int64_t>(in[0].as_int64() <= 15));
      }));
  DM_ASSIGN_OR_RETURN(
      Table flights,
      mesh.Publish(
          known, ProductDescriptor{.id = "operations.flights",
                                   .owner = "operations-team",
                                   .tier = Tier::kCurated,
                                   .description =
                                       "Flights with a known delay; on_time is "
                                       "1 for at most 15 minutes late"}));
  DM_ASSIGN_OR_RETURN(
      DataContract curated_contract,
      ParseContract(kCuratedFlightsContract, "flights_curated.odcs.yaml"));
  DM_RETURN_IF_ERROR(gov.Attach("operations.flights", curated_contract));
  DM_ASSIGN_OR_RETURN(
      Table by_route,
      flights.GroupBy({"origin", "destination"})
          .Aggregate({Count("flights"), Mean("delay", "mean_delay"),
                      Max("delay", "max_delay")}));
  DM_RETURN_IF_ERROR(
      mesh.Publish(by_route,
                   ProductDescriptor{.id = "operations.route_delays",
                                     .owner = "operations-team",
                                     .tier = Tier::kCurated,
                                     .description = "Delays per route"})
          .status());
  DM_ASSIGN_OR_RETURN(
      Table by_origin,
      flights.GroupBy({"origin"})
          .Aggregate({Count("flights"), Sum("on_time", "on_time"),
                      Mean("delay", "mean_delay")}));
  DM_ASSIGN_OR_RETURN(DataContract on_time_contract,
                      ParseContract(kOnTimeContract, "on_time.odcs.yaml"));
  DM_RETURN_IF_ERROR(
      gov.PublishChecked(
             by_origin,
             ProductDescriptor{
                 .id = "operations.on_time",
                 .owner = "operations-team",
                 .tier = Tier::kAuthoritative,
                 .description = "On-time flights per origin airport"},
             on_time_contract)
          .status());

  // entertainment
  DM_ASSIGN_OR_RETURN(
      Table movies,
      mesh.Source(
          ProductDescriptor{
              .id = "entertainment.movies_raw",
              .owner = "entertainment-team",
              .tier = Tier::kRaw,
              .description = "Movies with grosses and ratings, as collected"},
          {.path = live_ + "/movies.json"}));
  DM_ASSIGN_OR_RETURN(DataContract movies_contract,
                      ParseContract(kMoviesContract, "movies.odcs.yaml"));
  DM_RETURN_IF_ERROR(gov.Attach("entertainment.movies_raw", movies_contract));
  DM_RETURN_IF_ERROR(gov.Profile("entertainment.movies_raw"));
  DM_ASSIGN_OR_RETURN(Table top,
                      movies.Filter({"IMDB Rating"}, [](const Row& in) {
                        return !in[0].is_null() && in[0].as_double() >= 8.0;
                      }));
  DM_ASSIGN_OR_RETURN(top, top.Select({"Title", "Director", "IMDB Rating"}));
  DM_RETURN_IF_ERROR(
      mesh.Publish(top, ProductDescriptor{.id = "entertainment.top_movies",
                                          .owner = "entertainment-team",
                                          .tier = Tier::kCurated,
                                          .description =
                                              "Movies rated 8 or more on IMDB"})
          .status());

  // crm
  ProductDescriptor customers_d = ProductDescriptor{
      .id = "crm.customers_raw",
      .owner = "crm-team",
      .tier = Tier::kRaw,
      .description = "Customers and their home airport (generated)"};
  customers_d.schema =
      Schema({{"customer_id", ValueType::kInt64, false},
              {"name", ValueType::kString},
              {"email", ValueType::kString, true, "contact address", {"pii"}},
              {"home_airport", ValueType::kString}});
  DM_ASSIGN_OR_RETURN(
      Table customers_raw,
      mesh.Source(customers_d, {.path = live_ + "/customers.csv"}));
  DM_ASSIGN_OR_RETURN(
      Table masked, customers_raw.Mask("email", [](const Value& v) {
        if (v.is_null()) return v;
        const std::string s(v.as_string());
        const size_t at = s.find('@');
        return Value(at == std::string::npos
                         ? std::string("***")
                         : s.substr(0, 1) + "***" + s.substr(at));
      }));
  DM_RETURN_IF_ERROR(
      mesh.Publish(masked,
                   ProductDescriptor{.id = "crm.customers",
                                     .owner = "crm-team",
                                     .tier = Tier::kCurated,
                                     .description = "Customers, email masked"})
          .status());

  // The policy.
  DM_RETURN_IF_ERROR(gov.AddRole("ana", "analyst"));
  DM_RETURN_IF_ERROR(gov.AddRole("sam", "steward"));
  DM_RETURN_IF_ERROR(gov.AddClearance("sam", "pii"));
  for (const char* pattern :
       {"aviation.*", "network.*", "entertainment.*", "governance.*"}) {
    DM_RETURN_IF_ERROR(gov.Grant("anyone", pattern));
  }
  DM_RETURN_IF_ERROR(gov.Grant("analyst", "*"));
  DM_RETURN_IF_ERROR(gov.Grant("steward", "*"));
  return gov.Publish();
}

// operations.arrivals: added to the running mesh, built on the current
// rows of operations.flights.
absl::Status DemoMesh::AddArrivals() {
  DM_ASSIGN_OR_RETURN(Table flights, mesh_->Use("operations.flights"));
  DM_ASSIGN_OR_RETURN(
      Table by_destination,
      flights.GroupBy({"destination"})
          .Aggregate({Count("arrivals"), Mean("delay", "mean_delay")}));
  return mesh_
      ->Publish(
          by_destination,
          ProductDescriptor{.id = "operations.arrivals",
                            .owner = "operations-team",
                            .tier = Tier::kCurated,
                            .description =
                                "Arrivals and their mean delay per destination "
                                "(added while the mesh ran)"})
      .status();
}

absl::StatusOr<StepReport> DemoMesh::Next() {
  if (done()) {
    return absl::OutOfRangeError(
        absl::StrCat("the replay is over (", steps_.size(), " steps)"));
  }
  const ReplayStep& step = steps_[done_];
  {
    std::ofstream out(flights_log_, std::ios::binary | std::ios::app);
    out << step.records;
    if (!out.flush()) {
      return absl::UnavailableError(
          absl::StrCat(flights_log_, ": cannot append step ", done_ + 1));
    }
  }
  StepReport report;
  report.step = ++done_;
  report.hour = step.hour;
  report.added = step.added;
  report.corrected = step.corrected;
  report.retracted = step.retracted;
  if (done_ == kTightenStep) {
    // In the same time as this hour's flights.
    DM_ASSIGN_OR_RETURN(DataContract tightened, FlightsContract(true));
    DM_RETURN_IF_ERROR(gov_->Replace("operations.flights_raw", tightened));
    report.contract_tightened = true;
  }
  const auto start = std::chrono::steady_clock::now();
  DM_RETURN_IF_ERROR(mesh_->Refresh().status());
  report.refresh_ms = std::chrono::duration<double, std::milli>(
                          std::chrono::steady_clock::now() - start)
                          .count();
  if (done_ == kArrivalsStep) {
    DM_RETURN_IF_ERROR(AddArrivals());
    DM_RETURN_IF_ERROR(mesh_->Advance());
    report.product_added = true;
  }
  report.time = mesh_->time();
  return report;
}

}  // namespace diffmesh::demo
