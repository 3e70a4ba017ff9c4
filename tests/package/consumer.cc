// The README's data-product example as a program of its own, built against
// the installed package: a durable mesh over a CSV file, a count per
// customer of paid orders, then an appended order and a Refresh; with the
// orders' metrics and a data contract's check (governance) beside them.
//   consumer DIR   (writes DIR/orders.csv and the store DIR/store)
#include <cstdio>
#include <fstream>
#include <string>

#include "catalog/mesh.h"
#include "engine/graph.h"
#include "engine/status_macros.h"
#include "governance/checks.h"
#include "governance/profile.h"
#include "storage/rocks_mesh_store.h"

using namespace diffmesh;

absl::Status Run(const std::string& dir) {
  const std::string csv = dir + "/orders.csv";
  std::ofstream(csv) << "id,customer_id,status,amount\n"
                        "1,7,paid,30\n2,7,open,10\n3,8,paid,5\n";
  DM_ASSIGN_OR_RETURN(auto store, RocksMeshStore::Open(dir + "/store"));
  Worker worker;
  DM_ASSIGN_OR_RETURN(auto mesh, Mesh::Open(worker, {.store = store.get()}));
  ProductDescriptor raw;
  raw.id = "sales.orders";
  raw.owner = "sales";
  DM_ASSIGN_OR_RETURN(Table orders, mesh->Source(raw, {.path = csv}));
  DM_ASSIGN_OR_RETURN(Table paid, orders.Filter({"status"}, [](const Row& in) {
    return in[0] == Value("paid");
  }));
  DM_ASSIGN_OR_RETURN(
      Table by_customer,
      paid.GroupBy({"customer_id"})
          .Aggregate({Count("orders"), Sum("amount", "revenue")}));
  ProductDescriptor revenue;
  revenue.id = "finance.revenue";
  revenue.owner = "finance";
  revenue.tier = Tier::kCurated;
  DM_RETURN_IF_ERROR(mesh->Publish(by_customer, revenue).status());
  // Governance: the orders' metrics, and a contract's check on them.
  DM_ASSIGN_OR_RETURN(Table metrics, Profile(orders));
  ProductDescriptor quality;
  quality.id = "sales.orders_quality";
  quality.owner = "quality";
  DM_RETURN_IF_ERROR(mesh->Publish(metrics, quality).status());
  DM_ASSIGN_OR_RETURN(DataContract contract, ParseContract(R"(
apiVersion: v3.1.0
kind: DataContract
id: orders
version: 1.0.0
status: active
schema:
  - name: orders
    properties:
      - name: status
        logicalType: string
        quality:
          - metric: invalidValues
            arguments:
              pattern: '^(paid|open)$'
            mustBe: 0
)",
                                                           "orders.yaml"));
  DM_ASSIGN_OR_RETURN(AttachedContract attached,
                      Attach(contract, orders.schema()));
  DM_ASSIGN_OR_RETURN(Table verdicts, Checks(orders, attached));
  ProductDescriptor checks;
  checks.id = "sales.orders_checks";
  checks.owner = "quality";
  DM_RETURN_IF_ERROR(mesh->Publish(verdicts, checks).status());
  DM_RETURN_IF_ERROR(mesh->Advance());
  std::ofstream(csv, std::ios::app) << "4,8,paid,20\n";
  DM_ASSIGN_OR_RETURN(RefreshReport report, mesh->Refresh());
  DM_ASSIGN_OR_RETURN(std::vector<Row> rows, mesh->Read("finance.revenue"));
  for (const Row& row : rows) std::printf("%s\n", RowDebugString(row).c_str());
  std::printf("inserted %lld\n", static_cast<long long>(report.rows_inserted));
  DM_ASSIGN_OR_RETURN(std::vector<Row> measured,
                      mesh->Read("sales.orders_quality"));
  for (const Row& m : measured) {
    if (m[1] == Value("rows") ||
        (m[0] == Value("amount") && m[1] == Value("max")))
      std::printf("%s\n", RowDebugString(m).c_str());
  }
  DM_ASSIGN_OR_RETURN(std::vector<Row> verdict,
                      mesh->Read("sales.orders_checks"));
  for (const Row& v : verdict) {
    std::printf("%s passed %s\n", std::string(v[0].as_string()).c_str(),
                v[4].as_bool() ? "yes" : "no");
  }
  return absl::OkStatus();
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer DIR\n");
    return 2;
  }
  absl::Status status = Run(argv[1]);
  if (!status.ok()) {
    std::fprintf(stderr, "consumer: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
