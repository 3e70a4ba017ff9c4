// The README's data-product example as a program of its own, built against
// the installed package: a durable mesh over a CSV file, a count per
// customer of paid orders, then an appended order and a Refresh.
//   consumer DIR   (writes DIR/orders.csv and the store DIR/store)
#include <cstdio>
#include <fstream>
#include <string>

#include "catalog/mesh.h"
#include "engine/graph.h"
#include "engine/status_macros.h"
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
  DM_RETURN_IF_ERROR(mesh->Advance());
  std::ofstream(csv, std::ios::app) << "4,8,paid,20\n";
  DM_ASSIGN_OR_RETURN(RefreshReport report, mesh->Refresh());
  DM_ASSIGN_OR_RETURN(std::vector<Row> rows, mesh->Read("finance.revenue"));
  for (const Row& row : rows) std::printf("%s\n", RowDebugString(row).c_str());
  std::printf("inserted %lld\n", static_cast<long long>(report.rows_inserted));
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
