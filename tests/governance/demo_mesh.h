// A small mesh under governance for tests: flights with a contract and a
// checked, held product of delays per origin; customers with a pii email,
// a copy of it and a masked one; a policy with three principals.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "catalog/csv_writer.h"
#include "catalog/mesh.h"
#include "engine/check.h"
#include "engine/graph.h"
#include "governance/mesh_governance.h"
#include "tests/temp_dir.h"

namespace diffmesh {
namespace testing {

template <class T>
T Must(absl::StatusOr<T> v) {
  DM_CHECK_MSG(v.ok(), v.status().ToString().c_str());
  return *std::move(v);
}
inline void Must(absl::Status s) { DM_CHECK_MSG(s.ok(), s.ToString().c_str()); }

using Key = std::pair<std::string, std::string>;
inline Key K(const std::string& a, const std::string& b = "") { return {a, b}; }

inline ProductDescriptor Describe(const std::string& id,
                                  const std::string& owner, Tier tier) {
  ProductDescriptor d;
  d.id = id;
  d.owner = owner;
  d.tier = tier;
  return d;
}

constexpr char kFlightsContract[] = R"(apiVersion: v3.1.0
kind: DataContract
id: flights
version: 1.0.0
status: active
schema:
  - name: flights
    properties:
      - name: delay
        logicalType: integer
        quality:
          - id: delay_known
            metric: nullValues
            mustBe: 0
roles:
  - role: analyst
    access: read
)";

constexpr char kDelaysContract[] = R"(apiVersion: v3.1.0
kind: DataContract
id: delays
version: 1.0.0
status: active
schema:
  - name: delays
    properties:
      - name: origin
        logicalType: string
        quality:
          - id: known_airport
            metric: invalidValues
            arguments:
              validValues: [JFK, LAX, SFO]
            mustBe: 0
)";

inline DataContract Contract(const char* yaml) {
  return Must(ParseContract(yaml, "contract.yaml"));
}

// The demo's products and policy, declared on `mesh` and `gov`.
inline void Declare(Mesh* mesh, MeshGovernance* gov,
                    const std::string& flights_file,
                    const std::string& customers) {
  const Schema flights_schema({{"id", ValueType::kInt64},
                               {"origin", ValueType::kString},
                               {"delay", ValueType::kInt64}});
  Table flights =
      Must(mesh->Source(Describe("ops.flights", "ops-team", Tier::kCurated),
                        {.path = flights_file, .schema = flights_schema}));
  Must(gov->Attach("ops.flights", Contract(kFlightsContract)));
  Must(gov->Profile("ops.flights"));
  Table by_origin =
      Must(flights.GroupBy({"origin"})
               .Aggregate({Count("flights"), Mean("delay", "mean_delay")}));
  Must(gov->PublishChecked(
      by_origin, Describe("ops.delays", "ops-team", Tier::kAuthoritative),
      Contract(kDelaysContract)));
  ProductDescriptor customers_d =
      Describe("crm.customers", "crm-team", Tier::kRaw);
  customers_d.schema = Schema({{"id", ValueType::kInt64},
                               {"email", ValueType::kString, true, "", {"pii"}},
                               {"country", ValueType::kString}});
  Table people = Must(mesh->Source(customers_d, {.path = customers}));
  Table emails = Must(people.Select({"id", "email"}));
  Must(mesh->Publish(emails, Describe("crm.emails", "crm-team", Tier::kRaw)));
  Table masked = Must(people.Mask("email", [](const Value& v) {
    return v.is_null() ? v : Value(std::string("***"));
  }));
  Must(mesh->Publish(masked, Describe("crm.contacts", "crm-team", Tier::kRaw)));
  Must(gov->AddRole("ana", "analyst"));
  Must(gov->AddRole("bob", "analyst"));
  Must(gov->AddClearance("bob", "pii"));
  Must(gov->AddRole("cy", "guest"));
  Must(gov->Grant("analyst", "crm.*"));
  Must(gov->Publish());
}

struct Demo {
  TempDir dir;
  Worker worker;
  std::unique_ptr<Mesh> mesh;
  std::unique_ptr<MeshGovernance> gov;
  std::string flights_file;

  Demo() {
    flights_file = dir.Write("flights.csv",
                             "id,origin,delay\n1,JFK,10\n2,LAX,30\n3,JFK,20\n");
    const std::string customers = dir.Write(
        "customers.csv", "id,email,country\n1,a@x.org,NL\n2,b@y.org,DE\n");
    mesh = Must(Mesh::Open(worker, {}));
    gov = Must(MeshGovernance::Open(*mesh));
    Declare(mesh.get(), gov.get(), flights_file, customers);
  }

  // (first column, second column) -> the rest, as text.
  std::map<std::pair<std::string, std::string>, std::string> Rows(
      const std::string& name, int keys = 2) {
    std::map<std::pair<std::string, std::string>, std::string> out;
    for (const Row& r : Must(mesh->Read(gov->ProductId(name)))) {
      std::vector<std::string> parts;
      for (const Datum d : r)
        parts.push_back(d.is_null() ? "null" : ValueText(d));
      std::string rest;
      for (size_t i = keys; i < parts.size(); ++i) {
        rest += (rest.empty() ? "" : "|") + parts[i];
      }
      out[{parts[0], keys > 1 ? parts[1] : ""}] = rest;
    }
    return out;
  }
  std::string Access(const std::string& principal, const std::string& product,
                     const std::string& column) {
    for (const Row& r : Must(mesh->Read(gov->ProductId("access")))) {
      if (r[0].as_string() == principal && r[1].as_string() == product &&
          r[2].as_string() == column) {
        return std::string(r[3].as_string());
      }
    }
    return "none";
  }
};

}  // namespace testing
}  // namespace diffmesh
