// retail_mesh: a small data mesh of three domains (sales, crm, finance),
// declared in C++ over CSV and JSON files, with the catalog, the column
// lineage and the impact of a change computed live by the engine.
//
//   build/examples/retail_mesh [--data-dir DIR] [--workers N]
//   bash scripts/mpirun.sh -np 2 build/examples/retail_mesh --workers 2
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
// On several workers (and under mpirun, across processes) every worker runs
// the same program and worker 0 prints: the output is the same. The store
// belongs to process 0, which reads the files too.
//
// State is kept in a RocksDB store, ./diffmesh-data by default. Running the
// program again restores the mesh from it first (the catalog, the lineage
// and the sources' logged rows); the fresh files then arrive as their
// difference from what was stored.
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "catalog/mesh.h"
#include "engine/graph.h"
#include "engine/runtime.h"
#include "engine/status_macros.h"
#include "storage/rocks_mesh_store.h"

namespace {

using namespace diffmesh;  // an example: every name below is the project's

// Every worker runs the program; worker 0 prints.
thread_local bool printing = true;

void Print(const char* format, ...) __attribute__((format(printf, 1, 2)));
void Print(const char* format, ...) {
  if (!printing) return;
  va_list args;
  va_start(args, format);
  std::vprintf(format, args);
  va_end(args);
}

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
  Print("\n== catalog ==\n");
  for (const ProductDescriptor& d : mesh.Catalog()) {
    std::vector<std::string> columns;
    for (const Field& f : d.schema.fields()) {
      columns.push_back(absl::StrCat(f.name, ":", ValueTypeName(f.type)));
    }
    Print("  %-34s %-13s owner=%s\n", d.VersionedId().c_str(), TierName(d.tier),
          d.owner.c_str());
    Print("      \"%s\"%s\n", d.description.c_str(),
          d.tags.empty()
              ? ""
              : absl::StrCat(" tags: ", absl::StrJoin(d.tags, ", ")).c_str());
    Print("      columns: %s\n", absl::StrJoin(columns, ", ").c_str());
    if (!d.upstream.empty()) {
      Print("      from: %s\n", absl::StrJoin(d.upstream, ", ").c_str());
    }
  }
}

void PrintLineage(const Mesh& mesh) {
  Print("\n== column lineage ==\n");
  for (const LineageEdge& e : mesh.Lineage()) {
    if (!e.from.is_product()) Print("  %s\n", e.ToString().c_str());
  }
}

void PrintImpact(const Mesh& mesh, const ColumnRef& column) {
  Print("\n== what changing %s affects ==\n", column.ToString().c_str());
  for (const ColumnRef& c : mesh.Downstream(column)) {
    Print("  %s\n", c.ToString().c_str());
  }
  Print("  products: ");
  std::vector<std::string> products;
  for (const ColumnRef& p : mesh.Downstream({column.product, ""})) {
    products.push_back(p.product);
  }
  Print("%s\n", absl::StrJoin(products, ", ").c_str());
}

absl::Status PrintRows(const Mesh& mesh, const std::string& id) {
  DM_ASSIGN_OR_RETURN(std::vector<Row> rows, mesh.Read(id));
  Print("\n== %s ==\n", id.c_str());
  for (const Row& row : rows) Print("  %s\n", RowDebugString(row).c_str());
  return absl::OkStatus();
}

void PrintQuarantine(const Mesh& mesh, const std::string& id) {
  Print("\n== quarantine of %s: %lld row(s) ==\n", id.c_str(),
        static_cast<long long>(mesh.QuarantineCount(id)));
  for (const Row& q : mesh.Quarantine(id)) {
    std::string file =
        std::filesystem::path(std::string(q[0].as_string())).filename();
    Print("  %s:%s: %s\n", file.c_str(),
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
        Print("  %s\n", stream.c_str());
      }
      Print("    %+lld %s\n", static_cast<long long>(e.diff), text.c_str());
    }
  }
}

// What the first start leaves for the restart to compare with.
struct BeforeRestart {
  std::vector<Row> enriched;
  std::vector<Row> by_status;
  std::vector<ProductDescriptor> catalog;
  std::vector<LineageEdge> lineage;
};

// The first start, on one worker: declare, run, edit, reshape, add.
absl::Status FirstStart(Worker& worker, MeshGroup* group, MeshStore* store,
                        const std::string& files, BeforeRestart* before) {
  DM_ASSIGN_OR_RETURN(auto mesh, Mesh::Open(worker, {.store = store,
                                                     .group = group,
                                                     .record_changes = false}));
  if (!mesh->Catalog().empty() || mesh->time() > 0) {
    Print("restoring the mesh stored at time %llu\n",
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

  Print(
      "\n== edit orders.csv: order 3 changes, 5 is cancelled, 6 is fixed, "
      "7 arrives ==\n");
  // Worker 0 reads the files: it edits them too.
  if (worker.index() == 0) {
    std::ofstream(files + "/orders.csv", std::ios::binary) << kOrdersEdited;
  }
  DM_ASSIGN_OR_RETURN(RefreshReport report, mesh->Refresh());
  Print(
      "  %lld row(s) retracted, %lld inserted, %lld quarantine "
      "change(s), at time %llu\n",
      static_cast<long long>(report.rows_retracted),
      static_cast<long long>(report.rows_inserted),
      static_cast<long long>(report.quarantine_changes),
      static_cast<unsigned long long>(report.time));
  DM_RETURN_IF_ERROR(PrintChanges(*changes, files));

  Print(
      "\n== describe crm.customers anew; retire "
      "finance.revenue_by_country ==\n");
  DM_RETURN_IF_ERROR(Reshape(*mesh));
  DM_RETURN_IF_ERROR(mesh->Advance());
  DM_RETURN_IF_ERROR(PrintChanges(*changes, files));
  PrintImpact(*mesh, {"sales.orders_raw", "amount"});

  Print("\n== add sales.orders_by_status to the running mesh ==\n");
  DM_RETURN_IF_ERROR(AddOrdersByStatus(*mesh));
  DM_RETURN_IF_ERROR(mesh->Advance());
  DM_RETURN_IF_ERROR(PrintChanges(*changes, files));

  DM_ASSIGN_OR_RETURN(before->by_status, mesh->Read("sales.orders_by_status"));
  DM_ASSIGN_OR_RETURN(before->enriched, mesh->Read("sales.orders_enriched"));
  before->catalog = mesh->Catalog();
  before->lineage = mesh->Lineage();
  return absl::OkStatus();
}

// The restart from the store, on one worker: the same declarations and
// changes make the mesh what it was.
absl::Status Restart(Worker& worker, MeshGroup* group, MeshStore* store,
                     const std::string& files, const BeforeRestart& before) {
  DM_ASSIGN_OR_RETURN(auto mesh, Mesh::Open(worker, {.store = store,
                                                     .group = group,
                                                     .record_changes = false}));
  Print("  the store says: time %llu\n",
        static_cast<unsigned long long>(mesh->time()));
  DM_RETURN_IF_ERROR(Declare(*mesh, files));
  // The declarations publish the product descriptions of the first start;
  // the same changes as before make the mesh what it was.
  DM_RETURN_IF_ERROR(Reshape(*mesh));
  DM_RETURN_IF_ERROR(mesh->Advance());
  // And the product added while it ran, added again the same way.
  DM_RETURN_IF_ERROR(AddOrdersByStatus(*mesh));
  DM_RETURN_IF_ERROR(mesh->Advance());
  Print("  %zu product(s) in the catalog, %zu lineage edge(s)\n",
        mesh->Catalog().size(), mesh->Lineage().size());
  DM_ASSIGN_OR_RETURN(std::vector<Row> enriched,
                      mesh->Read("sales.orders_enriched"));
  Print("  sales.orders_enriched identical: %s\n",
        enriched == before.enriched ? "yes" : "NO");
  DM_ASSIGN_OR_RETURN(std::vector<Row> by_status,
                      mesh->Read("sales.orders_by_status"));
  Print("  sales.orders_by_status identical: %s\n",
        by_status == before.by_status ? "yes" : "NO");
  Print("  catalog identical: %s\n",
        mesh->Catalog() == before.catalog ? "yes" : "NO");
  Print("  lineage identical: %s\n",
        mesh->Lineage() == before.lineage ? "yes" : "NO");
  return absl::OkStatus();
}

// Runs `start` on `workers` workers (per process, under mpirun) with one
// group per process; the store is process 0's.
absl::Status OnWorkers(
    int workers, const std::string& data_dir,
    const std::function<absl::Status(Worker&, MeshGroup*, MeshStore*)>& start) {
  std::unique_ptr<RocksMeshStore> store;
  if (Runtime::ProcessIndex() == 0) {
    DM_ASSIGN_OR_RETURN(store, RocksMeshStore::Open(data_dir));
  }
  MeshGroup group;
  return Runtime::Execute(workers, [&](Worker& worker) {
    printing = worker.index() == 0;
    return start(worker, &group, store.get());
  });
}

absl::Status Run(const std::string& data_dir, int workers) {
  char pattern[] = "/tmp/retail_mesh.XXXXXX";
  if (::mkdtemp(pattern) == nullptr) {
    return absl::InternalError("cannot create a temporary directory");
  }
  const std::string files = pattern;
  // Worker 0 reads the files; under mpirun it is in process 0.
  if (Runtime::ProcessIndex() == 0) {
    std::ofstream(files + "/orders.csv", std::ios::binary) << kOrders;
    std::ofstream(files + "/customers.json", std::ios::binary) << kCustomers;
    // Where things are goes to stderr, so stdout is the same on every run.
    std::fprintf(stderr, "source files in %s, store in %s\n", files.c_str(),
                 data_dir.c_str());
  }
  BeforeRestart before;
  absl::Status status =
      OnWorkers(workers, data_dir,
                [&](Worker& worker, MeshGroup* group, MeshStore* store) {
                  return FirstStart(worker, group, store, files, &before);
                });
  if (status.ok()) {
    printing = Runtime::ProcessIndex() == 0;
    Print("\n== restart from the store ==\n");
    std::fflush(stdout);
    status = OnWorkers(workers, data_dir,
                       [&](Worker& worker, MeshGroup* group, MeshStore* store) {
                         return Restart(worker, group, store, files, before);
                       });
  }
  std::filesystem::remove_all(files);
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  std::string data_dir = kDefaultMeshDataDir;
  int workers = 1;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--data-dir" && i + 1 < argc) {
      data_dir = argv[++i];
    } else if ((arg == "--workers" || arg == "-w") && i + 1 < argc &&
               absl::SimpleAtoi(argv[i + 1], &workers) && workers >= 1 &&
               workers <= Runtime::kMaxWorkers) {
      ++i;
    } else {
      std::fprintf(stderr, "usage: %s [--data-dir DIR] [--workers N]\n",
                   argv[0]);
      return 2;
    }
  }
  absl::Status status = Run(data_dir, workers);
  if (!status.ok()) {
    std::fprintf(stderr, "retail_mesh: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
