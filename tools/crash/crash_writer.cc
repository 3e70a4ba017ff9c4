// crash_writer: drives a mesh kept in a RocksDB store from two CSV files
// through a seeded stream of edits, acknowledges every edit once the mesh
// has made it durable and visible, and, on every start, checks what it
// finds against an oracle that replays the acknowledged edits from scratch.
// tools/crash/crash_test.sh kills it (SIGKILL) at random moments and at
// injected points and starts it again, over and over.
//
//   crash_writer --dir DIR --seed N [--acks FILE] [--edits N]
//                [--kill store:N:before|store:N:after|file:N] [--check-only]
//
// Edits (a function of the seed and the edits before; edit k leads from
// world W(k-1) to W(k)): orders appended, changed, deleted; a bad record
// added or fixed; a customer added with an order (both files at once); a
// customer's region changed; a bulk of 3,000 orders added (a source
// batch of several records, written as an ingested table file: the writer
// opens the store with small records and a low ingest threshold) and
// removed a few edits later;
// crash.big_orders retired or published again; crash.totals' descriptor
// updated.
//
// Protocol, kill-safe: before edit k the program records "k" in DIR/progress
// (a rename); it then writes the files of W(k) (each a rename), applies the
// metadata change, calls Refresh, and prints "ack K TIME" (TIME: the engine
// time the edit is visible at) on stdout, flushed. A start re-applies edit
// `progress` (writing a file twice gives the same file), so the files always
// hold W(progress) when the mesh reads them.
//
// The check at every start, after the first Refresh (ACKS: the "ack" lines
// of all earlier runs; a = the last acknowledged edit, p = progress, p is a
// or a + 1):
//   - the descriptors the store restored are those of W(p), or of W(p-1)
//     when p was not acknowledged (an edit is wholly applied or not);
//   - every product's rows, the quarantine, the catalog and the lineage are
//     those of W(p), computed from scratch (rows directly from the world;
//     catalog and lineage by a fresh in-memory mesh);
//   - every retained data version: its rows are W(k)'s or W(k+1)'s, where k
//     is the last edit acknowledged at or before its time; two versions in a
//     row differ; and for every acknowledged edit at or after the oldest
//     retained version, the rows as of its time are exactly W(k)'s (so an
//     acknowledged edit is there once: not lost, not doubled, not torn).
// A mismatch prints a "# MISMATCH" line and exits 2.
//
// --kill: SIGKILL itself at the N-th write call into the store (before or
// after it runs), or at the N-th write, sync or close of a file RocksDB
// writes (the write-ahead log, table files, an ingested file, the
// manifest). Exit codes: 0 done (all --edits made, or the check passed with
// --check-only), 2 mismatch, 3 a restart is needed to publish a product
// again (a product's table joins the dataflow only at a start), 1 error.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "catalog/mesh.h"
#include "engine/graph.h"
#include "engine/status_macros.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "storage/rocks_mesh_store.h"

namespace diffmesh {
namespace {

constexpr char kOrders[] = "crash.orders";
constexpr char kCustomers[] = "crash.customers";
constexpr char kBig[] = "crash.big_orders";
constexpr char kTotals[] = "crash.totals";
constexpr char kByRegion[] = "crash.by_region";
constexpr int64_t kBulkRows = 3000;
// The store writes records of kSmallRecordRows rows and ingests appends from
// kLowIngestBytes on: a bulk is several records, ingested.
constexpr size_t kSmallRecordRows = 1000;
constexpr size_t kLowIngestBytes = 32 << 10;
constexpr int64_t kBulkFirst = int64_t{1} << 40;  // bulk order ids

// ---- The world: what the files and the metadata hold after k edits. ----

struct Order {
  int64_t customer = 0;
  int64_t halves = 0;  // amount * 2, so sums of amounts are exact
  bool paid = true;
};

struct World {
  std::map<int64_t, Order> orders;
  std::set<int64_t> bad;  // order ids whose line has a bad amount
  std::map<int64_t, std::string> customers;  // id -> region
  bool bulk = false;       // kBulkRows orders from kBulkFirst on
  bool big_active = true;  // crash.big_orders is published
  int totals_revision = 0;
  int64_t next_order = 1;
  int64_t next_customer = 1;
  std::string last_edit = "start";
};

Order BulkOrder(int64_t i) { return {1 + i % 3, 2 * (i % 97), i % 5 != 0}; }

const char* const kRegions[] = {"north", "south", "east", "west"};

// The edit that leads from `w` to the next world. `rng` is the stream of
// the whole run, so the k-th edit depends only on the seed.
void Edit(World& w, std::mt19937_64& rng) {
  auto pick = [&](uint64_t n) { return static_cast<int64_t>(rng() % n); };
  auto any_order = [&]() -> std::optional<int64_t> {
    if (w.orders.empty()) return std::nullopt;
    auto it = w.orders.begin();
    std::advance(it, pick(w.orders.size()));
    return it->first;
  };
  auto new_order = [&](int64_t customer) {
    w.orders[w.next_order++] = {customer, 1 + pick(400), pick(5) != 0};
  };
  if (w.customers.empty()) {
    w.customers[w.next_customer++] = kRegions[0];
    new_order(1);
    w.last_edit = "first customer and order";
    return;
  }
  auto any_customer = [&] {
    auto it = w.customers.begin();
    std::advance(it, pick(w.customers.size()));
    return it->first;
  };
  if (w.bulk && pick(4) == 0) {
    w.bulk = false;
    w.last_edit = "delete the bulk";
    return;
  }
  const int64_t roll = pick(100);
  // Past a few hundred orders, appends turn into deletes now and then, so
  // long runs stay small.
  const bool large = w.orders.size() > 400 && pick(2) == 0;
  if (roll < 25 && !large) {
    const int64_t n = 1 + pick(3);
    for (int64_t i = 0; i < n; ++i) new_order(any_customer());
    w.last_edit = absl::StrCat("append ", n, " orders");
  } else if (roll < 40 && !w.orders.empty()) {
    Order& o = w.orders[*any_order()];
    if (pick(2) == 0) {
      o.halves = 1 + pick(400);
    } else {
      o.paid = !o.paid;
    }
    w.last_edit = "change an order";
  } else if (roll < 52 && !w.orders.empty()) {
    w.orders.erase(*any_order());
    w.last_edit = "delete an order";
  } else if (roll < 60) {
    w.bad.insert(w.next_order++);
    w.last_edit = "add a bad record";
  } else if (roll < 65 && !w.bad.empty()) {
    auto it = w.bad.begin();
    std::advance(it, pick(w.bad.size()));
    w.orders[*it] = {any_customer(), 1 + pick(400), true};
    w.bad.erase(it);
    w.last_edit = "fix a bad record";
  } else if (roll < 73) {
    const int64_t c = w.next_customer++;
    w.customers[c] = kRegions[pick(4)];
    new_order(c);
    w.last_edit = "add a customer and an order (both files)";
  } else if (roll < 80) {
    w.customers[any_customer()] = kRegions[pick(4)];
    w.last_edit = "change a customer's region";
  } else if (roll < 88) {
    w.big_active = !w.big_active;
    w.last_edit = w.big_active ? "publish crash.big_orders again"
                               : "retire crash.big_orders";
  } else if (roll < 96) {
    ++w.totals_revision;
    w.last_edit = "update crash.totals' descriptor";
  } else if (roll < 98 && !w.bulk) {
    w.bulk = true;
    w.last_edit = "append a bulk of orders";
  } else {
    new_order(any_customer());
    w.last_edit = "append an order";
  }
}

// Worlds 0..k, keeping those in `keep`.
std::map<int64_t, World> Worlds(uint64_t seed, int64_t k,
                                const std::set<int64_t>& keep) {
  std::map<int64_t, World> out;
  std::mt19937_64 rng(seed);
  World w;
  for (int64_t i = 0;; ++i) {
    if (keep.count(i)) out[i] = w;
    if (i == k) break;
    Edit(w, rng);
  }
  return out;
}

std::string OrdersCsv(const World& w) {
  std::string out = "order_id,customer_id,amount,status\n";
  auto line = [&](int64_t id, const Order& o) {
    absl::StrAppend(&out, id, ",", o.customer, ",", o.halves / 2,
                    o.halves % 2 ? ".5" : "", ",",
                    o.paid ? "paid" : "cancelled", "\n");
  };
  // Lines in id order; bad ones among them.
  auto bad = w.bad.begin();
  for (const auto& [id, o] : w.orders) {
    for (; bad != w.bad.end() && *bad < id; ++bad) {
      absl::StrAppend(&out, *bad, ",1,n/a,paid\n");
    }
    line(id, o);
  }
  for (; bad != w.bad.end(); ++bad) {
    absl::StrAppend(&out, *bad, ",1,n/a,paid\n");
  }
  if (w.bulk) {
    for (int64_t i = 0; i < kBulkRows; ++i) line(kBulkFirst + i, BulkOrder(i));
  }
  return out;
}

std::string CustomersCsv(const World& w) {
  std::string out = "customer_id,region\n";
  for (const auto& [id, region] : w.customers) {
    absl::StrAppend(&out, id, ",", region, "\n");
  }
  return out;
}

// ---- What the products hold in a world, computed directly. ----

using Rows = std::vector<Row>;

std::map<std::string, Rows> Expected(const World& w) {
  std::map<std::string, Rows> out;
  std::map<int64_t, std::pair<int64_t, int64_t>> totals;  // paid: n, halves
  std::map<std::string, std::pair<int64_t, int64_t>> regions;
  auto visit = [&](int64_t id, const Order& o) {
    const double amount = static_cast<double>(o.halves) / 2;
    out[kOrders].push_back(Row{Value(id), Value(o.customer), Value(amount),
                               Value(o.paid ? "paid" : "cancelled")});
    if (amount >= 50) {
      out[kBig].push_back(Row{Value(id), Value(o.customer), Value(amount)});
    }
    if (o.paid) {
      auto& t = totals[o.customer];
      ++t.first;
      t.second += o.halves;
    }
    if (auto c = w.customers.find(o.customer); c != w.customers.end()) {
      auto& r = regions[c->second];
      ++r.first;
      r.second += o.halves;
    }
  };
  for (const auto& [id, o] : w.orders) visit(id, o);
  if (w.bulk) {
    for (int64_t i = 0; i < kBulkRows; ++i) visit(kBulkFirst + i, BulkOrder(i));
  }
  for (const auto& [id, region] : w.customers) {
    out[kCustomers].push_back(Row{Value(id), Value(region)});
  }
  for (const auto& [c, t] : totals) {
    out[kTotals].push_back(Row{Value(c), Value(t.first),
                               Value(static_cast<double>(t.second) / 2)});
  }
  for (const auto& [region, t] : regions) {
    out[kByRegion].push_back(Row{Value(region), Value(t.first),
                                 Value(static_cast<double>(t.second) / 2)});
  }
  for (auto& [id, rows] : out) std::sort(rows.begin(), rows.end());
  for (const char* id : {kOrders, kCustomers, kBig, kTotals, kByRegion}) {
    out[id];  // present, maybe empty
  }
  return out;
}

// ---- The mesh, as the program declares it on every start. ----

ProductDescriptor Describe(std::string id, Tier tier, std::string owner,
                           std::string description) {
  ProductDescriptor d;
  d.id = std::move(id);
  d.tier = tier;
  d.owner = std::move(owner);
  d.description = std::move(description);
  return d;
}

ProductDescriptor TotalsDescriptor(const World& w) {
  return Describe(
      kTotals, Tier::kAuthoritative,
      absl::StrCat("team-", w.totals_revision % 3),
      absl::StrCat("Paid orders per customer, revision ", w.totals_revision));
}

ProductDescriptor BigDescriptor() {
  return Describe(kBig, Tier::kCurated, "ops", "Orders of 50 or more");
}

struct Declared {
  Table big;  // published only when the world says so
};

absl::StatusOr<Declared> Declare(Mesh& mesh, const std::string& dir,
                                 const World& w) {
  ProductDescriptor orders = Describe(kOrders, Tier::kRaw, "shop", "Orders");
  orders.schema = Schema({{"order_id", ValueType::kInt64, false, ""},
                          {"customer_id", ValueType::kInt64, false, ""},
                          {"amount", ValueType::kDouble, false, ""},
                          {"status", ValueType::kString, false, ""}});
  DM_ASSIGN_OR_RETURN(Table o,
                      mesh.Source(orders, {.path = dir + "/orders.csv"}));
  ProductDescriptor customers =
      Describe(kCustomers, Tier::kRaw, "crm", "Customers");
  customers.schema = Schema({{"customer_id", ValueType::kInt64, false, ""},
                             {"region", ValueType::kString, false, ""}});
  DM_ASSIGN_OR_RETURN(Table c,
                      mesh.Source(customers, {.path = dir + "/customers.csv"}));
  Declared d;
  DM_ASSIGN_OR_RETURN(d.big, o.Filter({"amount"}, [](const Row& in) {
    return in[0].as_double() >= 50;
  }));
  DM_ASSIGN_OR_RETURN(d.big,
                      d.big.Select({"order_id", "customer_id", "amount"}));
  DM_ASSIGN_OR_RETURN(Table paid, o.Filter({"status"}, [](const Row& in) {
    return in[0] == Value("paid");
  }));
  DM_ASSIGN_OR_RETURN(Table totals, paid.GroupBy({"customer_id"})
                                        .Aggregate({Count("orders"),
                                                    Sum("amount", "revenue")}));
  DM_RETURN_IF_ERROR(mesh.Publish(totals, TotalsDescriptor(w)).status());
  DM_ASSIGN_OR_RETURN(Table joined, o.Join(c, {"customer_id"}));
  DM_ASSIGN_OR_RETURN(
      Table regions,
      joined.GroupBy({"region"})
          .Aggregate({Count("orders"), Sum("amount", "revenue")}));
  DM_RETURN_IF_ERROR(
      mesh.Publish(regions, Describe(kByRegion, Tier::kCurated, "ops",
                                     "Orders per customer region"))
          .status());
  if (w.big_active) {
    DM_RETURN_IF_ERROR(mesh.Publish(d.big, BigDescriptor()).status());
  } else if (mesh.Descriptor(kBig).ok()) {
    DM_RETURN_IF_ERROR(mesh.Retire(kBig));
  }
  return d;
}

// ---- Killing at injected points. ----

[[noreturn]] void Die() {
  raise(SIGKILL);
  _exit(137);  // not reached
}

// A store that dies at its n-th write call, before or after it runs.
class KillingStore : public MeshStore {
 public:
  KillingStore(MeshStore* inner, int64_t n, bool after)
      : inner_(inner), n_(n), after_(after) {}
  absl::Status AppendSourceBatches(
      const std::vector<SourceAppend>& appends) override {
    return Write([&] { return inner_->AppendSourceBatches(appends); });
  }
  absl::StatusOr<std::vector<SourceBatch>> ReadSourceBatches(
      const std::string& source) override {
    return inner_->ReadSourceBatches(source);
  }
  absl::Status CheckpointSource(const std::string& source,
                                uint64_t upto) override {
    return Write([&] { return inner_->CheckpointSource(source, upto); });
  }
  absl::Status PutProducts(
      const std::vector<StoredProduct>& products) override {
    return Write([&] { return inner_->PutProducts(products); });
  }
  absl::StatusOr<std::vector<StoredProduct>> ReadProducts() override {
    return inner_->ReadProducts();
  }
  absl::Status PutNextTime(uint64_t time) override {
    return Write([&] { return inner_->PutNextTime(time); });
  }
  absl::StatusOr<uint64_t> ReadNextTime() override {
    return inner_->ReadNextTime();
  }

 private:
  template <class F>
  absl::Status Write(F write) {
    const bool here = ++calls_ == n_;
    if (here && !after_) Die();
    absl::Status s = write();
    if (here) Die();
    return s;
  }
  MeshStore* inner_;
  int64_t n_;
  bool after_;
  int64_t calls_ = 0;
};

// Dies at the n-th append, sync or close of any file RocksDB writes.
std::atomic<int64_t> file_ops{0};
int64_t kill_file_op = 0;

void CountFileOp() {
  if (++file_ops == kill_file_op) Die();
}

class KillingFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  using FSWritableFileOwnerWrapper::FSWritableFileOwnerWrapper;
  rocksdb::IOStatus Append(const rocksdb::Slice& data,
                           const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    CountFileOp();
    return target()->Append(data, options, dbg);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data,
                           const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* dbg) override {
    CountFileOp();
    return target()->Append(data, options, info, dbg);
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options,
                         rocksdb::IODebugContext* dbg) override {
    CountFileOp();
    return target()->Sync(options, dbg);
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    CountFileOp();
    return target()->Fsync(options, dbg);
  }
  rocksdb::IOStatus Close(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    CountFileOp();
    return target()->Close(options, dbg);
  }
};

class KillingFileSystem : public rocksdb::FileSystemWrapper {
 public:
  using FileSystemWrapper::FileSystemWrapper;
  const char* Name() const override { return "KillingFileSystem"; }
  rocksdb::IOStatus NewWritableFile(
      const std::string& name, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override {
    std::unique_ptr<rocksdb::FSWritableFile> file;
    rocksdb::IOStatus s = target()->NewWritableFile(name, options, &file, dbg);
    if (s.ok()) *result = std::make_unique<KillingFile>(std::move(file));
    return s;
  }
};

// ---- Files, kill-safe. ----

absl::Status WriteFileAtomically(const std::string& path,
                                 const std::string& text) {
  {
    std::ifstream in(path, std::ios::binary);
    if (in) {
      std::stringstream now;
      now << in.rdbuf();
      if (now.str() == text) return absl::OkStatus();
    }
  }
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) {
      return absl::UnavailableError(absl::StrCat("cannot write ", tmp));
    }
  }
  std::error_code error;
  std::filesystem::rename(tmp, path, error);
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("cannot rename ", tmp, ": ", error.message()));
  }
  return absl::OkStatus();
}

absl::Status WriteWorldFiles(const std::string& dir, const World& w) {
  DM_RETURN_IF_ERROR(WriteFileAtomically(dir + "/orders.csv", OrdersCsv(w)));
  return WriteFileAtomically(dir + "/customers.csv", CustomersCsv(w));
}

// ---- The check. ----

struct Ack {
  int64_t edit = 0;
  uint64_t time = 0;
};

absl::StatusOr<std::vector<Ack>> ReadAcks(const std::string& path) {
  std::vector<Ack> acks;
  std::ifstream in(path);
  std::string line;
  int64_t previous = 0;
  while (std::getline(in, line)) {
    std::vector<std::string> parts = absl::StrSplit(line, ' ');
    if (parts.size() < 3 || parts[0] != "ack") continue;
    Ack a;
    if (!absl::SimpleAtoi(parts[1], &a.edit) ||
        !absl::SimpleAtoi(parts[2], &a.time)) {
      return absl::DataLossError(
          absl::StrCat(path, ": malformed acknowledgement '", line, "'"));
    }
    if (a.edit != previous + 1) {
      return absl::DataLossError(
          absl::StrCat(path, ": acknowledgement of edit ", a.edit,
                       " follows edit ", previous));
    }
    previous = a.edit;
    acks.push_back(a);
  }
  return acks;
}

int64_t ReadProgress(const std::string& dir) {
  std::ifstream in(dir + "/progress");
  int64_t p = 0;
  in >> p;
  return p;
}

absl::Status WriteProgress(const std::string& dir, int64_t k) {
  return WriteFileAtomically(dir + "/progress", absl::StrCat(k, "\n"));
}

std::string Show(const Rows& rows) {
  std::string out;
  for (size_t i = 0; i < rows.size() && i < 6; ++i) {
    absl::StrAppend(&out, i ? " " : "", RowDebugString(rows[i]));
  }
  if (rows.size() > 6) absl::StrAppend(&out, " ... (", rows.size(), " rows)");
  return out.empty() ? "(none)" : out;
}

struct Checker {
  int mismatches = 0;
  int64_t checked_acks = 0;
  int64_t checked_versions = 0;
  int64_t checked_times = 0;
  void Fail(const std::string& what) {
    ++mismatches;
    std::printf("# MISMATCH %s\n", what.c_str());
    std::fflush(stdout);
  }
};

// Descriptors as the catalog holds them, comparable.
std::vector<std::string> CatalogText(const std::vector<ProductDescriptor>& c) {
  std::vector<std::string> out;
  for (const ProductDescriptor& d : c) {
    std::string upstream;
    for (const std::string& u : d.upstream) absl::StrAppend(&upstream, u, ",");
    out.push_back(absl::StrCat(d.VersionedId(), " owner=", d.owner, " \"",
                               d.description, "\" columns=", d.schema.size(),
                               " from=", upstream));
  }
  return out;
}

std::vector<std::string> LineageText(const std::vector<LineageEdge>& edges) {
  std::vector<std::string> out;
  for (const LineageEdge& e : edges) out.push_back(e.ToString());
  return out;
}

// The catalog and lineage a fresh in-memory mesh computes for world `w`.
absl::Status ExpectedMetadata(const std::string& dir, const World& w,
                              std::vector<std::string>* catalog,
                              std::vector<std::string>* lineage) {
  Worker worker;
  DM_ASSIGN_OR_RETURN(auto mesh, Mesh::Open(worker, {.record_changes = false}));
  DM_RETURN_IF_ERROR(Declare(*mesh, dir, w).status());
  DM_RETURN_IF_ERROR(mesh->Advance());
  *catalog = CatalogText(mesh->Catalog());
  *lineage = LineageText(mesh->Lineage());
  return absl::OkStatus();
}

// The largest acknowledged edit at or before `time` (0: none).
int64_t AckedAt(const std::vector<Ack>& acks, uint64_t time) {
  int64_t k = 0;
  for (const Ack& a : acks) {
    if (a.time <= time) k = a.edit;
  }
  return k;
}

absl::Status Check(const std::string& dir, uint64_t seed,
                   const std::vector<Ack>& acks, int64_t progress,
                   const Mesh& mesh, Checker* check) {
  // Which worlds the retained versions and the acknowledgements need.
  std::vector<std::string> products = {kOrders, kCustomers, kTotals, kByRegion};
  if (mesh.Descriptor(kBig).ok()) products.push_back(kBig);
  std::set<int64_t> keep = {progress};
  if (progress > 0) keep.insert(progress - 1);
  std::map<std::string, std::vector<DataVersion>> versions;
  for (const std::string& id : products) {
    versions[id] = mesh.DataVersions(id);
    for (const DataVersion& v : versions[id]) {
      const int64_t k = AckedAt(acks, v.time);
      keep.insert(k);
      if (k + 1 <= progress) keep.insert(k + 1);
    }
    for (const Ack& a : acks) {
      if (!versions[id].empty() && a.time >= versions[id].front().time) {
        keep.insert(a.edit);
      }
    }
  }
  const std::map<int64_t, World> worlds = Worlds(seed, progress, keep);
  std::map<int64_t, std::map<std::string, Rows>> expected;
  auto rows_of = [&](int64_t k) -> const std::map<std::string, Rows>& {
    auto it = expected.find(k);
    if (it == expected.end()) {
      it = expected.emplace(k, Expected(worlds.at(k))).first;
    }
    return it->second;
  };
  const World& now = worlds.at(progress);

  // Now: rows, quarantine, catalog, lineage.
  for (const std::string& id : products) {
    absl::StatusOr<Rows> rows = mesh.Read(id);
    if (!rows.ok()) return rows.status();
    if (*rows != rows_of(progress).at(id)) {
      check->Fail(absl::StrCat(id, " now holds ", Show(*rows), "; edit ",
                               progress, " gives ",
                               Show(rows_of(progress).at(id))));
    }
  }
  const int64_t quarantined = mesh.QuarantineCount(kOrders);
  if (quarantined != static_cast<int64_t>(now.bad.size())) {
    check->Fail(absl::StrCat(kOrders, " quarantines ", quarantined,
                             " records; edit ", progress, " has ",
                             now.bad.size(), " bad ones"));
  }
  std::vector<std::string> catalog, lineage;
  DM_RETURN_IF_ERROR(ExpectedMetadata(dir, now, &catalog, &lineage));
  if (CatalogText(mesh.Catalog()) != catalog) {
    check->Fail(absl::StrCat("the catalog differs from a fresh mesh's at edit ",
                             progress));
    for (const std::string& s : CatalogText(mesh.Catalog())) {
      std::printf("#   have %s\n", s.c_str());
    }
    for (const std::string& s : catalog)
      std::printf("#   want %s\n", s.c_str());
  }
  if (LineageText(mesh.Lineage()) != lineage) {
    check->Fail(absl::StrCat("the lineage differs from a fresh mesh's at edit ",
                             progress));
  }

  // History.
  std::map<std::string, std::vector<Rows>> as_of_all;
  for (const std::string& id : products) {
    const std::vector<DataVersion>& vs = versions[id];
    if (vs.empty()) continue;
    std::vector<Rows>& as_of = as_of_all[id];
    for (size_t i = 0; i < vs.size(); ++i) {
      absl::StatusOr<Rows> rows = mesh.ReadAsOf(id, vs[i].number);
      if (!rows.ok()) return rows.status();
      as_of.push_back(*std::move(rows));
      ++check->checked_versions;
      if (i > 0 && (vs[i].number != vs[i - 1].number + 1 ||
                    vs[i].time <= vs[i - 1].time)) {
        check->Fail(absl::StrCat(id, ": version ", vs[i].number, " at time ",
                                 vs[i].time, " follows version ",
                                 vs[i - 1].number, " at time ",
                                 vs[i - 1].time));
      }
      if (i > 0 && as_of[i] == as_of[i - 1]) {
        check->Fail(
            absl::StrCat(id, ": version ", vs[i].number, " changes nothing"));
      }
      const int64_t k = AckedAt(acks, vs[i].time);
      const bool is_k = as_of[i] == rows_of(k).at(id);
      const bool is_next =
          k + 1 <= progress && as_of[i] == rows_of(k + 1).at(id);
      if (!is_k && !is_next) {
        check->Fail(absl::StrCat(id, ": version ", vs[i].number, " (time ",
                                 vs[i].time, ") holds ", Show(as_of[i]),
                                 "; the last edit acknowledged by then is ", k,
                                 ", which gives ", Show(rows_of(k).at(id))));
      }
    }
    for (const Ack& a : acks) {
      if (a.time < vs.front().time) continue;
      size_t i = 0;
      while (i + 1 < vs.size() && vs[i + 1].time <= a.time) ++i;
      ++check->checked_acks;
      if (as_of[i] != rows_of(a.edit).at(id)) {
        check->Fail(absl::StrCat(id, ": as of time ", a.time, " (edit ", a.edit,
                                 " acknowledged) it holds ", Show(as_of[i]),
                                 "; edit ", a.edit, " gives ",
                                 Show(rows_of(a.edit).at(id))));
      }
    }
  }
  // Across products: as of any time, every product holds the same world's
  // rows (an edit whose changes reach several sources is not torn apart
  // between times).
  const auto& as_of = as_of_all;
  uint64_t from = 0;
  std::set<uint64_t> times;
  for (const std::string& id : products) {
    const std::vector<DataVersion>& vs = versions[id];
    if (vs.empty()) continue;
    from = std::max(from, vs.front().time);
    for (const DataVersion& v : vs) times.insert(v.time);
  }
  for (uint64_t t : times) {
    if (t < from) continue;
    const int64_t k = AckedAt(acks, t);
    std::vector<int64_t> fits;
    for (int64_t j = k; j <= std::min(k + 1, progress); ++j) {
      bool all = true;
      for (const std::string& id : products) {
        const std::vector<DataVersion>& vs = versions[id];
        const Rows& want = rows_of(j).at(id);
        if (vs.empty()) {
          all = all && want.empty();
          continue;
        }
        size_t i = 0;
        while (i + 1 < vs.size() && vs[i + 1].time <= t) ++i;
        all = all && as_of.at(id)[i] == want;
      }
      if (all) fits.push_back(j);
    }
    ++check->checked_times;
    if (fits.empty()) {
      check->Fail(absl::StrCat("as of time ", t,
                               " the products hold no one "
                               "world: neither edit ",
                               k, "'s nor edit ", k + 1,
                               "'s rows (an edit torn across times)"));
    }
  }
  return absl::OkStatus();
}

// ---- The program. ----

struct Flags {
  std::string dir;
  uint64_t seed = 1;
  std::string acks;
  int64_t edits = 1000000;
  std::string kill;
  bool check_only = false;
};

absl::StatusOr<Flags> ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> absl::StatusOr<std::string> {
      if (i + 1 >= argc) {
        return absl::InvalidArgumentError(absl::StrCat(arg, " needs a value"));
      }
      return std::string(argv[++i]);
    };
    if (arg == "--check-only") {
      f.check_only = true;
      continue;
    }
    DM_ASSIGN_OR_RETURN(std::string v, value());
    if (arg == "--dir") {
      f.dir = v;
    } else if (arg == "--acks") {
      f.acks = v;
    } else if (arg == "--kill") {
      f.kill = v;
    } else if (arg == "--seed") {
      if (!absl::SimpleAtoi(v, &f.seed)) {
        return absl::InvalidArgumentError("--seed takes a number");
      }
    } else if (arg == "--edits") {
      if (!absl::SimpleAtoi(v, &f.edits) || f.edits < 1) {
        return absl::InvalidArgumentError("--edits takes a positive number");
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag ", arg));
    }
  }
  if (f.dir.empty()) return absl::InvalidArgumentError("--dir is required");
  if (f.acks.empty()) f.acks = f.dir + "/acks.log";
  return f;
}

absl::Status Run(const Flags& flags, int* exit_code) {
  const std::string files = flags.dir + "/files";
  std::filesystem::create_directories(files);
  DM_ASSIGN_OR_RETURN(std::vector<Ack> acks, ReadAcks(flags.acks));
  const int64_t acked = acks.empty() ? 0 : acks.back().edit;
  const int64_t progress = ReadProgress(flags.dir);
  if (progress != acked && progress != acked + 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("progress ", progress, " with ", acked,
                     " edits acknowledged: the run directory is not one "
                     "crash_writer keeps"));
  }
  World world = Worlds(flags.seed, progress, {progress}).at(progress);
  std::optional<World> before;
  if (progress == acked + 1 && progress > 0) {
    before = Worlds(flags.seed, progress - 1, {progress - 1}).at(progress - 1);
  }
  DM_RETURN_IF_ERROR(WriteWorldFiles(files, world));

  // Kill points.
  std::shared_ptr<rocksdb::FileSystem> fs;
  std::unique_ptr<rocksdb::Env> env;
  int64_t store_kill = 0;
  bool store_kill_after = false;
  if (!flags.kill.empty()) {
    std::vector<std::string> parts = absl::StrSplit(flags.kill, ':');
    int64_t n = 0;
    if (parts.size() >= 2 && absl::SimpleAtoi(parts[1], &n) && n > 0) {
      if (parts[0] == "file" && parts.size() == 2) {
        kill_file_op = n;
      } else if (parts[0] == "store" && parts.size() == 3 &&
                 (parts[2] == "before" || parts[2] == "after")) {
        store_kill = n;
        store_kill_after = parts[2] == "after";
      } else {
        n = 0;
      }
    }
    if (n == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--kill ", flags.kill,
                       ": want store:N:before, store:N:after or file:N"));
    }
  }
  RocksMeshStoreOptions store_options{.record_rows = kSmallRecordRows,
                                      .ingest_bytes = kLowIngestBytes};
  if (kill_file_op > 0) {
    fs = std::make_shared<KillingFileSystem>(rocksdb::FileSystem::Default());
    env = rocksdb::NewCompositeEnv(fs);
    store_options.env = env.get();
  }
  DM_ASSIGN_OR_RETURN(
      auto rocks, RocksMeshStore::Open(flags.dir + "/store", store_options));
  KillingStore killing(rocks.get(), store_kill, store_kill_after);
  MeshStore* store = store_kill > 0 ? static_cast<MeshStore*>(&killing)
                                    : static_cast<MeshStore*>(rocks.get());

  Worker worker;
  DM_ASSIGN_OR_RETURN(
      auto mesh, Mesh::Open(worker, {.store = store, .record_changes = false}));
  Checker check;
  // What the store restored: W(progress)'s metadata, or W(progress-1)'s.
  if (progress > 0) {
    auto restored = [&](const World& w) {
      absl::StatusOr<ProductDescriptor> totals = mesh->Descriptor(kTotals);
      return mesh->Descriptor(kBig).ok() == w.big_active && totals.ok() &&
             totals->owner == TotalsDescriptor(w).owner &&
             totals->description == TotalsDescriptor(w).description;
    };
    if (!restored(world) && !(before && restored(*before))) {
      check.Fail(absl::StrCat("the restored descriptors are neither edit ",
                              progress, "'s nor the one's before"));
    }
  }
  DM_ASSIGN_OR_RETURN(Declared declared, Declare(*mesh, files, world));
  DM_ASSIGN_OR_RETURN(RefreshReport first, mesh->Refresh());
  DM_RETURN_IF_ERROR(Check(files, flags.seed, acks, progress, *mesh, &check));
  std::printf("# check %s: acknowledged %" PRId64 ", progress %" PRId64
              ", time %" PRIu64 ", %" PRId64 " versions, %" PRId64
              " acknowledgements and %" PRId64
              " times checked, %d mismatches\n",
              check.mismatches ? "FAILED" : "ok", acked, progress, first.time,
              check.checked_versions, check.checked_acks, check.checked_times,
              check.mismatches);
  std::fflush(stdout);
  if (check.mismatches) {
    *exit_code = 2;
    return absl::OkStatus();
  }
  if (flags.check_only) return absl::OkStatus();
  if (progress == acked + 1) {
    std::printf("ack %" PRId64 " %" PRIu64 " %s (at restart)\n", progress,
                first.time, world.last_edit.c_str());
    std::fflush(stdout);
  }

  std::mt19937_64 rng(flags.seed);
  {
    World skip;
    for (int64_t i = 0; i < progress; ++i) Edit(skip, rng);
  }
  bool big_captured = world.big_active;
  for (int64_t k = progress + 1; k <= flags.edits; ++k) {
    World next = world;
    Edit(next, rng);
    DM_RETURN_IF_ERROR(WriteProgress(flags.dir, k));
    if (next.big_active && !world.big_active && !big_captured) {
      std::printf("# edit %" PRId64 " publishes %s again: restart\n", k, kBig);
      std::fflush(stdout);
      *exit_code = 3;
      return absl::OkStatus();
    }
    DM_RETURN_IF_ERROR(WriteWorldFiles(files, next));
    if (next.big_active != world.big_active) {
      if (next.big_active) {
        DM_RETURN_IF_ERROR(
            mesh->Publish(declared.big, BigDescriptor()).status());
      } else {
        DM_RETURN_IF_ERROR(mesh->Retire(kBig));
      }
    }
    if (next.totals_revision != world.totals_revision) {
      ProductDescriptor d = TotalsDescriptor(next);
      DM_ASSIGN_OR_RETURN(ProductDescriptor now, mesh->Descriptor(kTotals));
      now.owner = d.owner;
      now.description = d.description;
      DM_RETURN_IF_ERROR(mesh->UpdateDescriptor(now));
    }
    DM_ASSIGN_OR_RETURN(RefreshReport r, mesh->Refresh());
    world = std::move(next);
    std::printf("ack %" PRId64 " %" PRIu64 " %s\n", k, r.time,
                world.last_edit.c_str());
    std::fflush(stdout);
  }
  std::printf("# done: %" PRId64 " edits\n", flags.edits);
  return absl::OkStatus();
}

}  // namespace
}  // namespace diffmesh

int main(int argc, char** argv) {
  absl::StatusOr<diffmesh::Flags> flags = diffmesh::ParseFlags(argc, argv);
  if (!flags.ok()) {
    std::fprintf(stderr,
                 "crash_writer: %s\nusage: crash_writer --dir DIR --seed N "
                 "[--acks FILE] [--edits N] [--kill store:N:before|"
                 "store:N:after|file:N] [--check-only]\n",
                 std::string(flags.status().message()).c_str());
    return 1;
  }
  int exit_code = 0;
  absl::Status s = diffmesh::Run(*flags, &exit_code);
  if (!s.ok()) {
    std::fprintf(stderr, "crash_writer: %s\n", s.ToString().c_str());
    return 1;
  }
  return exit_code;
}
