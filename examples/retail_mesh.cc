// retail_mesh: a small data mesh of three domains (sales, crm, finance),
// declared in C++ over CSV and JSON files, with the catalog, the column
// lineage and the impact of a change computed live by the engine.
//
//   build/examples/retail_mesh [--data-dir DIR]
//
// The program writes its source files into a fresh temporary directory,
// declares raw -> curated -> authoritative products (a filter, a masked
// email column, a join and an aggregate), and prints the catalog, the column
// lineage and the downstream impact of one column. Then it edits a source
// file and prints the exact differences of the products; updates one
// product's description and retires another and prints the differences of
// the catalog and the lineage; and finally restarts from its store and
// checks that everything came back.
//
// State is kept in a RocksDB store, ./diffmesh-data by default. Running the
// program again restores the mesh from it first (the catalog, the lineage
// and the sources' logged rows); the fresh files then arrive as their
// difference from what was stored.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "catalog/mesh.h"
#include "engine/graph.h"
#include "engine/status_macros.h"
#include "storage/rocks_mesh_store.h"

namespace {

using namespace diffmesh;  // an example: every name below is the project's

const char kCustomers[] = R"([
  {"customer_id": 1, "name": "Ada Lovelace", "email": "ada@example.org", "country": "UK"},
  {"customer_id": 2, "name": "Björn Borg", "email": "bjorn@example.se", "country": "SE"},
  {"customer_id": 3, "name": "Chiara Rossi", "email": "chiara@example.it", "country": "IT"},
  {"customer_id": 4, "name": "Dmitri Ivanov", "email": "dmitri@example.org", "country": "UK"}
]
)";

const char kOrders[] =
    "order_id,customer_id,amount,status\n"
    "1,1,120.5,paid\n"
    "2,2,80,paid\n"
    "3,1,15.25,paid\n"
    "4,3,60,cancelled\n"
    "5,4,42,paid\n"
    "6,2,n/a,paid\n";

// Order 3 changes its amount, order 5 is cancelled, order 7 arrives; the
// bad amount of order 6 is fixed.
const char kOrdersEdited[] =
    "order_id,customer_id,amount,status\n"
    "1,1,120.5,paid\n"
    "2,2,80,paid\n"
    "3,1,19.75,paid\n"
    "4,3,60,cancelled\n"
    "5,4,42,cancelled\n"
    "6,2,10,paid\n"
    "7,3,200,paid\n";

ProductDescriptor Describe(std::string id, Tier tier, std::string owner,
                           std::string description,
                           std::vector<std::string> tags = {}) {
  ProductDescriptor d;
  d.id = std::move(id);
  d.tier = tier;
  d.owner = std::move(owner);
  d.description = std::move(description);
  d.tags = std::move(tags);
  return d;
}

// ada@example.org -> a***@example.org
Value MaskEmail(const Value& email) {
  if (email.is_null()) return email;
  const std::string& s = email.as_string();
  size_t at = s.find('@');
  if (at == std::string::npos || at == 0) return Value("***");
  return Value(s.substr(0, 1) + "***" + s.substr(at));
}

// The mesh, as the program declares it on every start.
absl::Status Declare(Mesh& mesh, const std::string& files) {
  // The orders' schema is declared (a bad amount is then quarantined);
  // the customers' is inferred from the JSON.
  ProductDescriptor orders_raw_descriptor =
      Describe("sales.orders_raw", Tier::kRaw, "sales-team",
               "Orders as exported by the web shop");
  orders_raw_descriptor.schema =
      Schema({{"order_id", ValueType::kInt64, false, "order number"},
              {"customer_id", ValueType::kInt64, false, "who ordered"},
              {"amount", ValueType::kDouble, false, "total in EUR"},
              {"status", ValueType::kString, false, "paid or cancelled"}});
  DM_ASSIGN_OR_RETURN(
      Table orders_raw,
      mesh.Source(orders_raw_descriptor, {.path = files + "/orders.csv"}));
  DM_ASSIGN_OR_RETURN(
      Table customers_raw,
      mesh.Source(Describe("crm.customers_raw", Tier::kRaw, "crm-team",
                           "Customer master data from the CRM", {"pii"}),
                  {.path = files + "/customers.json"}));

  DM_ASSIGN_OR_RETURN(Table paid,
                      orders_raw.Filter({"status"}, [](const Row& in) {
                        return in[0] == Value("paid");
                      }));
  DM_ASSIGN_OR_RETURN(paid, paid.Select({"order_id", "customer_id", "amount"}));
  DM_ASSIGN_OR_RETURN(
      Table orders, mesh.Publish(paid, Describe("sales.orders", Tier::kCurated,
                                                "sales-team", "Paid orders")));

  DM_ASSIGN_OR_RETURN(Table masked, customers_raw.Mask("email", MaskEmail));
  DM_ASSIGN_OR_RETURN(masked,
                      masked.Select({"customer_id", "email", "country"}));
  DM_ASSIGN_OR_RETURN(
      Table customers,
      mesh.Publish(masked, Describe("crm.customers", Tier::kCurated, "crm-team",
                                    "Customers with masked email addresses")));

  DM_ASSIGN_OR_RETURN(Table joined, orders.Join(customers, {"customer_id"}));
  DM_ASSIGN_OR_RETURN(
      Table enriched,
      mesh.Publish(
          joined, Describe("sales.orders_enriched", Tier::kCurated,
                           "sales-team", "Paid orders with customer country")));

  DM_ASSIGN_OR_RETURN(Table revenue,
                      enriched.GroupBy({"country"})
                          .Aggregate({Count("orders"), Sum("amount", "revenue"),
                                      Max("amount", "largest_order")}));
  DM_RETURN_IF_ERROR(
      mesh.Publish(revenue,
                   Describe("finance.revenue_by_country", Tier::kAuthoritative,
                            "finance-team", "Revenue per country", {"kpi"}))
          .status());
  return absl::OkStatus();
}

// Changes made to the running mesh: metadata and a retirement.
absl::Status Reshape(Mesh& mesh) {
  DM_ASSIGN_OR_RETURN(ProductDescriptor d, mesh.Descriptor("crm.customers"));
  d.description = "Customers; emails masked as a***@domain";
  d.tags = {"masked"};
  DM_RETURN_IF_ERROR(mesh.UpdateDescriptor(d));
  return mesh.Retire("finance.revenue_by_country");
}

// A product added to the running mesh: orders per status, built on the
// raw orders' current rows and kept up to date from then on.
absl::Status AddOrdersByStatus(Mesh& mesh) {
  DM_ASSIGN_OR_RETURN(Table orders, mesh.Use("sales.orders_raw"));
  DM_ASSIGN_OR_RETURN(
      Table by_status,
      orders.GroupBy({"status"})
          .Aggregate({Count("orders"), Sum("amount", "amount")}));
  return mesh
      .Publish(by_status,
               Describe("sales.orders_by_status", Tier::kCurated, "sales-team",
                        "Orders and their amount per status"))
      .status();
}

void PrintCatalog(const Mesh& mesh) {
  std::printf("\n== catalog ==\n");
  for (const ProductDescriptor& d : mesh.Catalog()) {
    std::vector<std::string> columns;
    for (const Field& f : d.schema.fields()) {
      columns.push_back(absl::StrCat(f.name, ":", ValueTypeName(f.type)));
    }
    std::printf("  %-34s %-13s owner=%s\n", d.VersionedId().c_str(),
                TierName(d.tier), d.owner.c_str());
    std::printf(
        "      \"%s\"%s\n", d.description.c_str(),
        d.tags.empty()
            ? ""
            : absl::StrCat(" tags: ", absl::StrJoin(d.tags, ", ")).c_str());
    std::printf("      columns: %s\n", absl::StrJoin(columns, ", ").c_str());
    if (!d.upstream.empty()) {
      std::printf("      from: %s\n", absl::StrJoin(d.upstream, ", ").c_str());
    }
  }
}

void PrintLineage(const Mesh& mesh) {
  std::printf("\n== column lineage ==\n");
  for (const LineageEdge& e : mesh.Lineage()) {
    if (!e.from.is_product()) std::printf("  %s\n", e.ToString().c_str());
  }
}

void PrintImpact(const Mesh& mesh, const ColumnRef& column) {
  std::printf("\n== what changing %s affects ==\n", column.ToString().c_str());
  for (const ColumnRef& c : mesh.Downstream(column)) {
    std::printf("  %s\n", c.ToString().c_str());
  }
  std::printf("  products: ");
  std::vector<std::string> products;
  for (const ColumnRef& p : mesh.Downstream({column.product, ""})) {
    products.push_back(p.product);
  }
  std::printf("%s\n", absl::StrJoin(products, ", ").c_str());
}

absl::Status PrintRows(const Mesh& mesh, const std::string& id) {
  DM_ASSIGN_OR_RETURN(std::vector<Row> rows, mesh.Read(id));
  std::printf("\n== %s ==\n", id.c_str());
  for (const Row& row : rows)
    std::printf("  %s\n", RowDebugString(row).c_str());
  return absl::OkStatus();
}

void PrintQuarantine(const Mesh& mesh, const std::string& id) {
  std::printf("\n== quarantine of %s: %lld row(s) ==\n", id.c_str(),
              static_cast<long long>(mesh.QuarantineCount(id)));
  for (const Row& q : mesh.Quarantine(id)) {
    std::string file =
        std::filesystem::path(std::string(q[0].as_string())).filename();
    std::printf("  %s:%s: %s\n", file.c_str(),
                q[1].is_null() ? "-" : std::to_string(q[1].as_int64()).c_str(),
                std::string(q[2].as_string()).c_str());
  }
}

// The changes a subscription has been given since the last call, with the
// source files' directory left out of the text.
absl::Status PrintChanges(Subscription& changes, const std::string& files) {
  for (;;) {
    absl::StatusOr<MeshEvents> next = changes.TryNext();
    if (absl::IsDeadlineExceeded(next.status())) return absl::OkStatus();
    DM_RETURN_IF_ERROR(next.status());
    std::string stream;
    for (const MeshEvent& e : next->events) {
      std::string text;
      switch (e.stream) {
        case MeshStream::kProductRows:
        case MeshStream::kQuarantine:
          text = RowDebugString(e.row());
          break;
        case MeshStream::kCatalog:
          text = DescribeDescriptor(e.descriptor());
          break;
        case MeshStream::kLineage:
          text = e.edge().ToString();
          break;
        case MeshStream::kSourceStatus:
          text = e.status().Describe();
          break;
      }
      for (size_t at; (at = text.find(files + "/")) != std::string::npos;) {
        text.erase(at, files.size() + 1);
      }
      const std::string heading = absl::StrCat(
          "time ", e.time, ", ", MeshStreamName(e.stream), " ", e.id);
      if (heading != stream) {
        stream = heading;
        std::printf("  %s\n", stream.c_str());
      }
      std::printf("    %+lld %s\n", static_cast<long long>(e.diff),
                  text.c_str());
    }
  }
}

absl::Status Run(const std::string& data_dir) {
  char pattern[] = "/tmp/retail_mesh.XXXXXX";
  if (::mkdtemp(pattern) == nullptr) {
    return absl::InternalError("cannot create a temporary directory");
  }
  const std::string files = pattern;
  auto write = [&](const std::string& name, const char* text) {
    std::ofstream(files + "/" + name, std::ios::binary) << text;
  };
  write("orders.csv", kOrders);
  write("customers.json", kCustomers);
  // Where things are goes to stderr, so stdout is the same on every run.
  std::fprintf(stderr, "source files in %s, store in %s\n", files.c_str(),
               data_dir.c_str());

  std::vector<Row> revenue_before_restart;
  std::vector<Row> by_status_before_restart;
  std::vector<ProductDescriptor> catalog_before_restart;
  std::vector<LineageEdge> lineage_before_restart;
  {
    DM_ASSIGN_OR_RETURN(auto store, RocksMeshStore::Open(data_dir));
    Worker worker;
    DM_ASSIGN_OR_RETURN(
        auto mesh,
        Mesh::Open(worker, {.store = store.get(), .record_changes = false}));
    if (!mesh->Catalog().empty() || mesh->time() > 0) {
      std::printf("restoring the mesh stored at time %llu\n",
                  static_cast<unsigned long long>(mesh->time()));
    }
    DM_RETURN_IF_ERROR(Declare(*mesh, files));
    DM_RETURN_IF_ERROR(mesh->Advance());
    // Typed changes from the next time on (any thread could take them).
    DM_ASSIGN_OR_RETURN(std::shared_ptr<Subscription> changes,
                        mesh->Subscribe({}));

    PrintCatalog(*mesh);
    PrintLineage(*mesh);
    PrintImpact(*mesh, {"sales.orders_raw", "amount"});
    PrintImpact(*mesh, {"crm.customers_raw", "email"});
    DM_RETURN_IF_ERROR(PrintRows(*mesh, "crm.customers"));
    DM_RETURN_IF_ERROR(PrintRows(*mesh, "finance.revenue_by_country"));
    PrintQuarantine(*mesh, "sales.orders_raw");

    std::printf(
        "\n== edit orders.csv: order 3 changes, 5 is cancelled, 6 is fixed, "
        "7 arrives ==\n");
    write("orders.csv", kOrdersEdited);
    DM_ASSIGN_OR_RETURN(RefreshReport report, mesh->Refresh());
    std::printf(
        "  %lld row(s) retracted, %lld inserted, %lld quarantine "
        "change(s), at time %llu\n",
        static_cast<long long>(report.rows_retracted),
        static_cast<long long>(report.rows_inserted),
        static_cast<long long>(report.quarantine_changes),
        static_cast<unsigned long long>(report.time));
    DM_RETURN_IF_ERROR(PrintChanges(*changes, files));

    std::printf(
        "\n== describe crm.customers anew; retire "
        "finance.revenue_by_country ==\n");
    DM_RETURN_IF_ERROR(Reshape(*mesh));
    DM_RETURN_IF_ERROR(mesh->Advance());
    DM_RETURN_IF_ERROR(PrintChanges(*changes, files));
    PrintImpact(*mesh, {"sales.orders_raw", "amount"});

    std::printf("\n== add sales.orders_by_status to the running mesh ==\n");
    DM_RETURN_IF_ERROR(AddOrdersByStatus(*mesh));
    DM_RETURN_IF_ERROR(mesh->Advance());
    DM_RETURN_IF_ERROR(PrintChanges(*changes, files));

    DM_ASSIGN_OR_RETURN(by_status_before_restart,
                        mesh->Read("sales.orders_by_status"));
    DM_ASSIGN_OR_RETURN(revenue_before_restart,
                        mesh->Read("sales.orders_enriched"));
    catalog_before_restart = mesh->Catalog();
    lineage_before_restart = mesh->Lineage();
  }

  std::printf("\n== restart from the store ==\n");
  DM_ASSIGN_OR_RETURN(auto store, RocksMeshStore::Open(data_dir));
  Worker worker;
  DM_ASSIGN_OR_RETURN(auto mesh, Mesh::Open(worker, {.store = store.get(),
                                                     .record_changes = false}));
  std::printf("  the store says: time %llu\n",
              static_cast<unsigned long long>(mesh->time()));
  DM_RETURN_IF_ERROR(Declare(*mesh, files));
  // The declarations publish the product descriptions of the first start;
  // the same changes as before make the mesh what it was.
  DM_RETURN_IF_ERROR(Reshape(*mesh));
  DM_RETURN_IF_ERROR(mesh->Advance());
  // And the product added while it ran, added again the same way.
  DM_RETURN_IF_ERROR(AddOrdersByStatus(*mesh));
  DM_RETURN_IF_ERROR(mesh->Advance());
  std::printf("  %zu product(s) in the catalog, %zu lineage edge(s)\n",
              mesh->Catalog().size(), mesh->Lineage().size());
  DM_ASSIGN_OR_RETURN(std::vector<Row> enriched,
                      mesh->Read("sales.orders_enriched"));
  std::printf("  sales.orders_enriched identical: %s\n",
              enriched == revenue_before_restart ? "yes" : "NO");
  DM_ASSIGN_OR_RETURN(std::vector<Row> by_status,
                      mesh->Read("sales.orders_by_status"));
  std::printf("  sales.orders_by_status identical: %s\n",
              by_status == by_status_before_restart ? "yes" : "NO");
  std::printf("  catalog identical: %s\n",
              mesh->Catalog() == catalog_before_restart ? "yes" : "NO");
  std::printf("  lineage identical: %s\n",
              mesh->Lineage() == lineage_before_restart ? "yes" : "NO");
  std::filesystem::remove_all(files);
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  std::string data_dir = kDefaultMeshDataDir;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--data-dir" && i + 1 < argc) {
      data_dir = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--data-dir DIR]\n", argv[0]);
      return 2;
    }
  }
  absl::Status status = Run(data_dir);
  if (!status.ok()) {
    std::fprintf(stderr, "retail_mesh: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
