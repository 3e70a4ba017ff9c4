// The mesh as a live service: subscriptions and snapshots.
//
// Oracle: over random edits of a source file (inserts, deletions, bad
// lines) on 1-3 workers, at every time
//   - a subscriber that applies its events holds exactly what Read,
//     Quarantine, Catalog and Lineage return;
//   - a subscriber that drops away at random times and resumes after the
//     last time it saw ends up with the same, each change once;
//   - a subscriber with a tiny buffer falls behind, is told so, and starts
//     again from a snapshot plus a subscription after its time;
//   - a thread taking snapshots while the workers run sees, at every time
//     it catches, the rows the workers read at that time, and products
//     consistent with each other.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "catalog/mesh.h"
#include "catalog/subscription.h"
#include "engine/check.h"
#include "engine/graph.h"
#include "engine/runtime.h"
#include "engine/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/temp_dir.h"

namespace diffmesh {
namespace {

using ::diffmesh::testing::IsOk;
using ::diffmesh::testing::StatusIs;
using ::testing::HasSubstr;

template <class T>
T Must(absl::StatusOr<T> v) {
  DM_CHECK_MSG(v.ok(), v.status().ToString().c_str());
  return *std::move(v);
}
void Must(absl::Status s) { DM_CHECK_MSG(s.ok(), s.ToString().c_str()); }

ProductDescriptor Describe(const std::string& id, Tier tier) {
  ProductDescriptor d;
  d.id = id;
  d.owner = "owner";
  d.tier = tier;
  d.description = "the " + id + " product";
  return d;
}

Row R(int64_t id, const std::string& region, int64_t amount) {
  return Row{Value(id), Value(region), Value(amount)};
}

// ---- the hub on its own
// ------------------------------------------------------

std::shared_ptr<const MeshUpdate> Update(
    uint64_t time, const std::string& product,
    std::vector<std::pair<Row, int64_t>> rows) {
  auto u = std::make_shared<MeshUpdate>();
  u->time = time;
  u->products.push_back(
      {product, std::make_shared<const CountedRuns<Row>::Run>(std::move(rows)),
       nullptr});
  return u;
}

TEST(SubscriptionHub, FiltersWaitsAndCloses) {
  SubscriptionHub hub(1000);
  auto a = Must(hub.Subscribe({.id = "sales.a"}));
  auto all = Must(hub.Subscribe({}));
  auto catalog = Must(hub.Subscribe({.streams = {MeshStream::kCatalog}}));
  EXPECT_THAT(a->TryNext().status(),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  hub.Publish(Update(1, "sales.a", {{R(1, "n", 1), +1}}));
  hub.Publish(Update(2, "sales.b", {{R(2, "n", 1), +1}, {R(3, "s", 1), -1}}));
  MeshEvents got = Must(a->TryNext());
  EXPECT_EQ(got.time, 1u);
  ASSERT_EQ(got.events.size(), 1u);
  EXPECT_EQ(got.events[0].row(), R(1, "n", 1));
  EXPECT_EQ(got.events[0].diff, +1);
  EXPECT_EQ(got.events[0].stream, MeshStream::kProductRows);
  EXPECT_THAT(a->TryNext().status(),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_EQ(a->next_time(), 3u);  // told time 2 had nothing for it
  EXPECT_EQ(Must(all->TryNext()).time, 1u);
  MeshEvents second = Must(all->TryNext());
  EXPECT_EQ(second.time, 2u);
  EXPECT_EQ(second.events.size(), 2u);
  EXPECT_EQ(second.events[1].diff, -1);
  EXPECT_THAT(catalog->TryNext().status(),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  // A waiting consumer on another thread is woken by the next time.
  std::thread consumer([&] {
    MeshEvents e = Must(all->Next(absl::Seconds(30)));
    EXPECT_EQ(e.time, 3u);
  });
  hub.Publish(Update(3, "sales.a", {{R(4, "n", 1), +1}}));
  consumer.join();
  hub.Close();
  EXPECT_EQ(Must(a->TryNext()).time, 3u);  // what is left is still taken
  EXPECT_THAT(a->Next(absl::Seconds(5)).status(),
              StatusIs(absl::StatusCode::kCancelled));
  EXPECT_EQ(hub.subscribers(), 3u);
  a.reset();
  EXPECT_EQ(hub.subscribers(), 2u);
}

TEST(SubscriptionHub, ASlowSubscriberIsToldItFellBehind) {
  SubscriptionHub hub(1000);
  auto slow = Must(hub.Subscribe({.max_pending_events = 3}));
  auto fast = Must(hub.Subscribe({.max_pending_events = 3}));
  hub.Publish(Update(1, "p.a", {{R(1, "n", 1), +1}, {R(2, "n", 1), +1}}));
  EXPECT_EQ(Must(fast->TryNext()).time, 1u);
  hub.Publish(Update(2, "p.a", {{R(3, "n", 1), +1}, {R(4, "n", 1), +1}}));
  absl::StatusOr<MeshEvents> next = slow->TryNext();
  EXPECT_THAT(next.status(), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(std::string(next.status().message()),
              HasSubstr("fell behind at time 2"));
  // It stays behind; the other is unaffected.
  EXPECT_THAT(slow->TryNext().status(),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(Must(fast->TryNext()).time, 2u);
}

TEST(SubscriptionHub, ResumeGivesEveryLaterChangeOnceWhileHeld) {
  SubscriptionHub hub(/*log_events=*/4);
  for (uint64_t t = 1; t <= 6; ++t) {
    hub.Publish(Update(t, "p.a", {{R(static_cast<int64_t>(t), "n", 1), +1}}));
  }
  // Holds the last four times (3..6).
  auto resumed = Must(hub.Subscribe({.from = 4}));
  EXPECT_EQ(Must(resumed->TryNext()).time, 4u);
  EXPECT_EQ(Must(resumed->TryNext()).time, 5u);
  EXPECT_EQ(Must(resumed->TryNext()).time, 6u);
  EXPECT_THAT(resumed->TryNext().status(),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_EQ(Must(hub.Subscribe({.from = 3}))->TryNext()->time, 3u);
  EXPECT_THAT(hub.Subscribe({.from = 2}).status(),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(hub.Subscribe({.max_pending_events = 0}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  auto future = Must(hub.Subscribe({.from = 9}));
  hub.Publish(Update(7, "p.a", {{R(7, "n", 1), +1}}));
  EXPECT_THAT(future->TryNext().status(),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
}

// ---- the mesh oracle
// ----------------------------------------------------------

// What a subscriber builds from its events: every (stream, id, record) with
// its count.
struct Replica {
  std::map<std::string, int64_t> counts;

  static std::string Key(MeshStream stream, const std::string& id,
                         const std::string& record) {
    return absl::StrCat(MeshStreamName(stream), " ", id, " ", record);
  }
  static std::string Record(const MeshEvent& e) {
    switch (e.stream) {
      case MeshStream::kProductRows:
      case MeshStream::kQuarantine:
        return RowDebugString(e.row());
      case MeshStream::kCatalog:
        return e.descriptor().VersionedId() + " " +
               TierName(e.descriptor().tier);
      case MeshStream::kLineage:
        return e.edge().ToString();
      case MeshStream::kSourceStatus:
        return e.status().Describe();
    }
    return "";
  }
  void Apply(const MeshEvents& events) {
    for (const MeshEvent& e : events.events) {
      DM_CHECK(e.time == events.time);
      int64_t& n = counts[Key(e.stream, e.id, Record(e))];
      n += e.diff;
      if (n == 0) counts.erase(Key(e.stream, e.id, Record(e)));
    }
  }
  // Takes every event there is now; false if the subscription failed.
  absl::Status Drain(Subscription& sub) {
    for (;;) {
      absl::StatusOr<MeshEvents> next = sub.TryNext();
      if (absl::IsDeadlineExceeded(next.status())) return absl::OkStatus();
      if (!next.ok()) return next.status();
      Apply(*next);
    }
  }
  // What a snapshot shows, as a replica would hold it (no source statuses).
  static Replica Of(const MeshSnapshot& s,
                    const std::vector<std::string>& ids) {
    Replica r;
    for (const std::string& id : ids) {
      if (auto rows = s.Read(id); rows.ok()) {
        for (const Row& row : *rows)
          ++r.counts[Key(MeshStream::kProductRows, id, RowDebugString(row))];
      }
      for (const Row& row : s.Quarantine(id))
        ++r.counts[Key(MeshStream::kQuarantine, id, RowDebugString(row))];
    }
    for (const ProductDescriptor& d : s.Catalog()) {
      ++r.counts[Key(MeshStream::kCatalog, d.id,
                     d.VersionedId() + " " + TierName(d.tier))];
    }
    for (const LineageEdge& e : s.Lineage())
      ++r.counts[Key(MeshStream::kLineage, e.to.product, e.ToString())];
    return r;
  }
  Replica WithoutSources() const {
    Replica r;
    for (const auto& [k, n] : counts) {
      if (!k.starts_with("source ")) r.counts[k] = n;
    }
    return r;
  }
};

const std::vector<std::string> kIds = {"sales.orders", "sales.big",
                                       "finance.revenue"};

// The orders file the oracles edit: "id,region,amount" lines, some bad.
class OrdersFile {
 public:
  explicit OrdersFile(std::string first) : lines_{std::move(first)} { Write(); }
  // One to three random inserts, deletions or bad lines.
  static void Edit(std::mt19937_64& rng, std::vector<std::string>* lines) {
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const int what = static_cast<int>(rng() % 6);
      if (!lines->empty() && what < 2) {
        lines->erase(lines->begin() +
                     static_cast<ptrdiff_t>(rng() % lines->size()));
      } else if (what == 2) {
        lines->push_back(absl::StrCat(rng() % 5, ",north,oops"));  // bad
      } else {
        lines->push_back(absl::StrCat(
            rng() % 5, rng() % 2 ? ",north," : ",south,", rng() % 10));
      }
    }
  }
  void Write() {
    std::string text = "id,region,amount\n";
    for (const std::string& l : lines_) absl::StrAppend(&text, l, "\n");
    dir_.Write("orders.csv", text);
  }
  std::vector<std::string>& lines() { return lines_; }
  std::string path() const { return (dir_ / "orders.csv").string(); }

 private:
  ::diffmesh::testing::TempDir dir_;
  std::vector<std::string> lines_;
};

void RunOracle(int workers, uint64_t seed) {
  SCOPED_TRACE(absl::StrCat(workers, " workers, seed ", seed));
  std::mt19937_64 rng(seed);
  OrdersFile orders_file("1,north,10");
  const std::string file = orders_file.path();
  MeshGroup group;
  constexpr int kRounds = 30;
  // Rows read by worker 0 after each Advance, by time, for the snapshot
  // thread's check.
  std::mutex read_mu;
  std::map<uint64_t, std::vector<Row>> read_at;
  std::atomic<bool> done{false};
  std::atomic<int> snapshots_checked{0};
  std::unique_ptr<std::thread> watcher;
  std::vector<std::string> failures;
  absl::Status status =
      Runtime::Execute(workers, [&](Worker& worker) -> absl::Status {
        DM_ASSIGN_OR_RETURN(auto mesh,
                            Mesh::Open(worker, {.subscription_log_events = 256,
                                                .group = &group,
                                                .record_changes = false}));
        DM_ASSIGN_OR_RETURN(
            Table orders,
            mesh->Source(Describe("sales.orders", Tier::kRaw), {.path = file}));
        DM_ASSIGN_OR_RETURN(Table big,
                            orders.Filter({"amount"}, [](const Row& in) {
                              return in[0].as_int64() >= 5;
                            }));
        DM_RETURN_IF_ERROR(
            mesh->Publish(big, Describe("sales.big", Tier::kCurated)).status());
        DM_ASSIGN_OR_RETURN(
            Table grouped,
            orders.GroupBy({"region"})
                .Aggregate({Count("n"), Sum("amount", "revenue")}));
        DM_RETURN_IF_ERROR(
            mesh->Publish(grouped,
                          Describe("finance.revenue", Tier::kAuthoritative))
                .status());
        const bool zero = worker.index() == 0;
        std::shared_ptr<Subscription> all, resuming, slow;
        Replica all_state, resuming_state, slow_state;
        bool resuming_connected = true;
        uint64_t resume_from = 0;
        if (zero) {
          all = Must(mesh->Subscribe({}));  // from the first time, 0
          resuming = Must(mesh->Subscribe({.from = 0}));
          slow = Must(mesh->Subscribe({.max_pending_events = 4}));
          // Another thread: snapshots while the workers run.
          MeshReader reader = mesh->Reader();
          watcher = std::make_unique<std::thread>([&, reader] {
            while (!done.load()) {
              std::this_thread::sleep_for(std::chrono::microseconds(200));
              std::shared_ptr<const MeshSnapshot> s = reader.Latest();
              if (s->empty()) continue;
              auto orders_rows = s->Read("sales.orders");
              auto big_rows = s->Read("sales.big");
              if (!orders_rows.ok() || !big_rows.ok()) continue;
              std::vector<Row> filtered;
              for (const Row& r : *orders_rows) {
                if (r[2].as_int64() >= 5) filtered.push_back(r);
              }
              std::lock_guard<std::mutex> lock(read_mu);
              if (filtered != *big_rows) {
                failures.push_back(
                    absl::StrCat("snapshot at ", s->time(),
                                 ": sales.big is not its filter"));
              }
              auto it = read_at.find(s->time());
              if (it != read_at.end()) {
                if (it->second != *orders_rows) {
                  failures.push_back(
                      absl::StrCat("snapshot at ", s->time(),
                                   ": rows differ from the read"));
                }
                ++snapshots_checked;
              }
            }
          });
        }
        for (int round = 0; round < kRounds; ++round) {
          if (zero && round > 0) {
            OrdersFile::Edit(rng, &orders_file.lines());
            orders_file.Write();
          }
          DM_RETURN_IF_ERROR(mesh->Refresh().status());
          if (!zero) continue;
          const uint64_t t = mesh->time() - 1;
          std::shared_ptr<const MeshSnapshot> snap = mesh->Snapshot();
          DM_CHECK(snap->time() == t);
          {
            std::lock_guard<std::mutex> lock(read_mu);
            read_at[t] = Must(mesh->Read("sales.orders"));
          }
          const Replica expected = Replica::Of(*snap, kIds);
          // Reads through the mesh and through its snapshot agree.
          for (const std::string& id : kIds) {
            EXPECT_EQ(Must(mesh->Read(id)), Must(snap->Read(id))) << id;
          }
          Must(all_state.Drain(*all));
          EXPECT_EQ(all_state.WithoutSources().counts, expected.counts)
              << "round " << round;
          EXPECT_EQ(all->next_time(), t + 1);
          // The resuming subscriber leaves and comes back at random.
          if (resuming_connected && rng() % 3 == 0) {
            Must(resuming_state.Drain(*resuming));
            resume_from = resuming->next_time();
            resuming.reset();  // gone: the hub forgets it
            resuming_connected = false;
          } else if (!resuming_connected && rng() % 2 == 0) {
            resuming = Must(mesh->Subscribe({.from = resume_from}));
            resuming_connected = true;
          }
          if (resuming_connected) {
            Must(resuming_state.Drain(*resuming));
            EXPECT_EQ(resuming_state.counts, all_state.counts)
                << "round " << round;
          }
          // The slow one takes nothing for a while; then, told it fell behind,
          // it starts again from a snapshot.
          if (round % 7 == 6) {
            absl::Status drained = slow_state.Drain(*slow);
            if (absl::IsResourceExhausted(drained)) {
              slow_state = Replica::Of(*snap, kIds);
              slow = Must(mesh->Subscribe(
                  {.from = snap->time() + 1, .max_pending_events = 4}));
            } else {
              Must(drained);
            }
            EXPECT_EQ(slow_state.WithoutSources().counts, expected.counts)
                << "round " << round;
          }
        }
        if (zero) {
          done = true;
          watcher->join();
        }
        return absl::OkStatus();
      });
  ASSERT_THAT(status, IsOk());
  EXPECT_THAT(failures, ::testing::IsEmpty());
  // The watcher caught at least the last time.
  EXPECT_GE(snapshots_checked.load(), 1);
}

TEST(MeshLiveOracle, SubscriptionsAndSnapshotsOnOneToThreeWorkers) {
  for (int workers = 1; workers <= 3; ++workers) {
    for (uint64_t seed = 0; seed < 3; ++seed) RunOracle(workers, seed);
  }
}

// ---- products added while the mesh runs
// ----------------------------------------

// A product added at some time: a filter (amount >= k) of its parent (the
// source or an earlier filter), or the revenue per region of the source.
// Operators named `name` in the worker's dataflows whose name starts with
// `prefix`.
int CountOperators(const Worker& worker, const std::string& prefix,
                   const std::string& name) {
  int n = 0;
  for (size_t d = 0; d < worker.num_dataflows(); ++d) {
    const Graph& g = worker.dataflow(d);
    if (!absl::StartsWith(g.name(), prefix)) continue;
    for (size_t i = 0; i < g.num_operators(); ++i) {
      n += g.op(static_cast<int>(i)).name() == name ? 1 : 0;
    }
  }
  return n;
}

// Each order with the number of orders in its region.
absl::StatusOr<Table> WithRegionCount(const Table& orders,
                                      const Table& orders_again) {
  DM_ASSIGN_OR_RETURN(
      Table regions,
      orders_again.GroupBy({"region"}).Aggregate({Count("in_region")}));
  return orders.Join(regions, {"region"});
}

struct Added {
  std::string id;
  std::string parent;  // empty for the source
  bool group = false;
  bool join = false;  // each row with its region's row count
  int64_t k = 0;
  bool active = true;
  Table table;  // what Publish returned (to publish it again)
  ProductDescriptor descriptor;
};

// From scratch: the valid lines' rows, then each product's rows.
std::vector<Row> SourceRows(const std::vector<std::string>& lines) {
  std::vector<Row> rows;
  for (const std::string& l : lines) {
    std::vector<std::string> f = absl::StrSplit(l, ',');
    int64_t id, amount;
    if (!absl::SimpleAtoi(f[0], &id) || !absl::SimpleAtoi(f[2], &amount))
      continue;
    rows.push_back(R(id, f[1], amount));
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

std::vector<Row> Evaluate(const std::vector<Added>& added, const Added& a,
                          const std::vector<Row>& source) {
  std::vector<Row> in = source;
  if (!a.parent.empty() && a.parent != "sales.orders") {
    for (const Added& p : added) {
      if (p.id == a.parent) in = Evaluate(added, p, source);
    }
  }
  std::vector<Row> out;
  if (a.join) {
    std::map<std::string, int64_t> in_region;
    for (const Row& r : in) ++in_region[std::string(r[1].as_string())];
    for (const Row& r : in) {
      Row with = r;
      with.Extend(Row{Value(in_region[std::string(r[1].as_string())])});
      out.push_back(with);
    }
  } else if (a.group) {
    std::map<std::string, std::pair<int64_t, int64_t>> by_region;
    for (const Row& r : in) {
      auto& [n, sum] = by_region[std::string(r[1].as_string())];
      ++n;
      sum += r[2].as_int64();
    }
    for (const auto& [region, ns] : by_region) {
      out.push_back(Row{Value(region), Value(ns.first), Value(ns.second)});
    }
  } else {
    for (const Row& r : in) {
      if (r[2].as_int64() >= a.k) out.push_back(r);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

int rebuilt_total = 0;  // products rebuilt after their dataflow stopped
int imports_total = 0;  // imports seen running, over the rounds

void RunAddedOracle(int workers, uint64_t seed) {
  SCOPED_TRACE(absl::StrCat(workers, " workers, seed ", seed));
  OrdersFile orders_file("1,north,5");
  const std::string file = orders_file.path();
  MeshGroup group;
  std::mutex mu;
  int checked = 0;
  std::atomic<int> rebuilt_count{0};
  std::atomic<int> imports{0};
  absl::Status status =
      Runtime::Execute(workers, [&](Worker& worker) -> absl::Status {
        // Every worker draws the same choices; worker 0 alone edits the file.
        std::mt19937_64 rng(seed);
        DM_ASSIGN_OR_RETURN(
            auto mesh,
            Mesh::Open(worker, {.group = &group, .record_changes = false}));
        DM_ASSIGN_OR_RETURN(
            Table orders,
            mesh->Source(Describe("sales.orders", Tier::kRaw), {.path = file}));
        // A join of the products' dataflow that products added while
        // running (kind join, on the orders) import.
        DM_ASSIGN_OR_RETURN(Table counted, WithRegionCount(orders, orders));
        DM_RETURN_IF_ERROR(
            mesh->Publish(counted, Describe("sales.counted", Tier::kCurated))
                .status());
        // An aggregate that products added while running (kind group, on
        // the orders) import the input of.
        DM_ASSIGN_OR_RETURN(
            Table by_region,
            orders.GroupBy({"region"})
                .Aggregate({Count("n"), Sum("amount", "revenue")}));
        DM_RETURN_IF_ERROR(mesh->Publish(by_region, Describe("sales.by_region",
                                                             Tier::kCurated))
                               .status());
        std::vector<Added> added;
        std::vector<std::string> my_lines = orders_file.lines();
        for (int round = 0; round < 24; ++round) {
          if (round > 0) {
            // Every worker draws the same edits (to know the expected rows);
            // worker 0 writes them.
            OrdersFile::Edit(rng, &my_lines);
            if (worker.index() == 0) {
              orders_file.lines() = my_lines;
              orders_file.Write();
            }
          }
          // Products come and go between refreshes (the first ones before the
          // mesh starts).
          const int changes = static_cast<int>(rng() % 3);
          for (int c = 0; c < changes; ++c) {
            const int what = static_cast<int>(rng() % 6);
            // The product's table, built anew on its parent's rows.
            auto build = [&](const Added& a) -> absl::StatusOr<Table> {
              DM_ASSIGN_OR_RETURN(Table in, mesh->Use(a.parent));
              if (a.join) {
                DM_ASSIGN_OR_RETURN(Table again, mesh->Use(a.parent));
                return WithRegionCount(in, again);
              }
              if (a.group) {
                return in.GroupBy({"region"})
                    .Aggregate({Count("n"), Sum("amount", "revenue")});
              }
              const int64_t k = a.k;
              return in.Filter({"amount"}, [k](const Row& r) {
                return r[0].as_int64() >= k;
              });
            };
            if (what == 0 && !added.empty()) {
              Added& a = added[rng() % added.size()];
              if (a.active) {
                DM_RETURN_IF_ERROR(mesh->Retire(a.id));
                a.active = false;
                continue;
              }
              // Published again: its own table while its dataflow still runs
              // (something reads it); once stopped, built again on Use.
              absl::StatusOr<Table> again =
                  mesh->Publish(a.table, a.descriptor);
              if (absl::IsInvalidArgument(again.status())) {
                bool parent_active = a.parent == "sales.orders";
                for (const Added& p : added) {
                  if (p.id == a.parent && p.active) parent_active = true;
                }
                if (!parent_active) continue;
                DM_ASSIGN_OR_RETURN(Table rebuilt, build(a));
                again = mesh->Publish(rebuilt, a.descriptor);
                ++rebuilt_count;
              }
              DM_RETURN_IF_ERROR(again.status());
              a.table = *again;
              a.active = true;
              continue;
            }
            Added a;
            a.id = absl::StrCat("live.p", added.size());
            a.group = what == 1;
            a.join = what == 5;
            a.k = static_cast<int64_t>(rng() % 8);
            a.parent = "sales.orders";
            std::vector<std::string> filters;
            for (const Added& p : added) {
              if (!p.group && !p.join && p.active) filters.push_back(p.id);
            }
            if (!a.group && (what == 2 || (a.join && rng() % 2 == 0)) &&
                !filters.empty()) {
              a.parent = filters[rng() % filters.size()];
            }
            DM_ASSIGN_OR_RETURN(Table t, build(a));
            a.descriptor = Describe(a.id, Tier::kCurated);
            DM_ASSIGN_OR_RETURN(a.table, mesh->Publish(t, a.descriptor));
            added.push_back(std::move(a));
          }
          DM_RETURN_IF_ERROR(mesh->Refresh().status());
          imports += CountOperators(worker, "mesh.live", "import");
          const std::vector<Row> source = SourceRows(my_lines);
          for (const Added& a : added) {
            absl::StatusOr<std::vector<Row>> rows = mesh->Read(a.id);
            if (!a.active) {
              EXPECT_THAT(rows.status(), StatusIs(absl::StatusCode::kNotFound));
              continue;
            }
            EXPECT_THAT(rows.status(), IsOk());
            if (!rows.ok()) continue;
            EXPECT_EQ(*rows, Evaluate(added, a, source))
                << a.id << " (from " << a.parent << (a.group ? ", grouped" : "")
                << (a.join ? ", joined" : "") << ", k " << a.k << ") at round "
                << round << " on worker " << worker.index();
            std::lock_guard<std::mutex> lock(mu);
            ++checked;
          }
          // The catalog lists exactly the active ones.
          size_t active = 0;
          for (const Added& a : added) active += a.active ? 1 : 0;
          EXPECT_EQ(mesh->Catalog().size(), active + 3) << "round " << round;
        }
        return absl::OkStatus();
      });
  ASSERT_THAT(status, IsOk());
  EXPECT_GT(checked, 20);
  rebuilt_total += rebuilt_count.load();
  imports_total += imports.load();
}

TEST(MeshLiveOracle, ProductsAddedAndRetiredWhileTheMeshRuns) {
  rebuilt_total = 0;
  imports_total = 0;
  for (int workers = 1; workers <= 3; ++workers) {
    for (uint64_t seed = 0; seed < 6; ++seed) RunAddedOracle(workers, seed);
  }
  // Some retired products' dataflows stopped and were built again.
  EXPECT_GT(rebuilt_total, 0);
  // Some products added while running imported the running join's (or
  // aggregate's) arrangement of the orders.
  EXPECT_GT(imports_total, 0);
}

// n orders: id i, region north or south, amount i % modulo.
std::string ManyOrders(int n, int modulo) {
  std::string text = "id,region,amount\n";
  for (int i = 0; i < n; ++i) {
    absl::StrAppend(&text, i, i % 2 ? ",north," : ",south,", i % modulo, "\n");
  }
  return text;
}

// The amount per order id, built on the running mesh: its reduce holds
// every order.
Table SumById(Mesh& mesh) {
  return Must(Must(mesh.Use("sales.orders"))
                  .GroupBy({"id"})
                  .Aggregate({Sum("amount", "amount")}));
}

// A product added while running, retired: its dataflow stops and is freed.
TEST(Mesh, ARetiredProductAddedWhileRunningFreesItsDataflow) {
  ::diffmesh::testing::TempDir dir;
  const std::string file = dir.Write("orders.csv", ManyOrders(20000, 100));
  Worker worker;
  auto mesh = Must(Mesh::Open(worker, {}));
  Must(mesh->Source(Describe("sales.orders", Tier::kRaw), {.path = file}));
  Must(mesh->Advance());
  const size_t before = worker.HeldBytes();
  Table by_id = SumById(*mesh);
  Must(mesh->Publish(by_id, Describe("sales.by_id", Tier::kCurated)).status());
  Must(mesh->Advance());
  EXPECT_EQ(Must(mesh->Read("sales.by_id")).size(), 20000u);
  const size_t running = worker.HeldBytes();
  EXPECT_GT(running, before + 200000);
  Must(mesh->Retire("sales.by_id"));
  Must(mesh->Advance());
  Must(mesh->Advance());
  EXPECT_LT(worker.HeldBytes(), before + (running - before) / 10);
  // Its rows left with it; built again on Use, it starts afresh.
  Table again = SumById(*mesh);
  EXPECT_THAT(
      mesh->Publish(by_id, Describe("sales.by_id", Tier::kCurated)).status(),
      StatusIs(absl::StatusCode::kInvalidArgument));
  Must(mesh->Publish(again, Describe("sales.by_id", Tier::kCurated)).status());
  Must(mesh->Advance());
  EXPECT_EQ(Must(mesh->Read("sales.by_id")).size(), 20000u);
}

TEST(Mesh, UseNamesWhatItCannotGive) {
  ::diffmesh::testing::TempDir dir;
  const std::string file = dir.Write("orders.csv", "id,region,amount\n1,n,5\n");
  Worker worker;
  auto mesh = Must(Mesh::Open(worker, {}));
  Table orders =
      Must(mesh->Source(Describe("sales.orders", Tier::kRaw), {.path = file}));
  EXPECT_THAT(mesh->Use("sales.none").status(),
              StatusIs(absl::StatusCode::kNotFound));
  Must(mesh->Advance());
  Table used = Must(mesh->Use("sales.orders"));
  // The products' dataflow has run: nothing more joins it.
  EXPECT_THAT(orders.Select({"id"}).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  Must(mesh->Advance());
  // Nor does an earlier time's Use, once it ran.
  EXPECT_THAT(used.Select({"id"}).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(
      mesh->Publish(used, Describe("sales.copy", Tier::kCurated)).status(),
      StatusIs(absl::StatusCode::kInvalidArgument));
  Table ids = Must(Must(mesh->Use("sales.orders")).Select({"id"}));
  Must(mesh->Publish(ids, Describe("sales.ids", Tier::kCurated)).status());
  Must(mesh->Advance());
  EXPECT_EQ(Must(mesh->Read("sales.ids")),
            (std::vector<Row>{Row{Value(int64_t{1})}}));
}

// Retired in the very time it was added: it runs once, then stops; built
// again, it starts afresh (its first rows were not kept twice).
TEST(Mesh, AProductRetiredInTheTimeItWasAddedStopsToo) {
  ::diffmesh::testing::TempDir dir;
  const std::string file = dir.Write("orders.csv", ManyOrders(10000, 10));
  Worker worker;
  auto mesh = Must(Mesh::Open(worker, {}));
  Must(mesh->Source(Describe("sales.orders", Tier::kRaw), {.path = file}));
  Must(mesh->Advance());
  const size_t before = worker.HeldBytes();
  Must(mesh->Publish(SumById(*mesh), Describe("sales.by_id", Tier::kCurated))
           .status());
  Must(mesh->Retire("sales.by_id"));
  Must(mesh->Advance());  // it runs once
  const size_t running = worker.HeldBytes();
  EXPECT_GT(running, before + 100000);
  Must(mesh->Advance());  // stops and is freed
  EXPECT_THAT(mesh->Read("sales.by_id").status(),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_LT(worker.HeldBytes(), before + (running - before) / 10);
  Must(mesh->Publish(SumById(*mesh), Describe("sales.by_id", Tier::kCurated))
           .status());
  Must(mesh->Advance());
  const std::vector<Row> rows = Must(mesh->Read("sales.by_id"));
  ASSERT_EQ(rows.size(), 10000u);  // each order once: nothing kept twice
  EXPECT_EQ(rows[7], (Row{Value(int64_t{7}), Value(int64_t{7})}));
}

// A product added while running that joins or groups a product the way a
// running one does imports that arrangement (nothing arranged twice), gives the
// same rows at every time after, and lets go of it once retired.
TEST(Mesh, AProductAddedWhileRunningImportsTheRunningJoinArrangement) {
  for (int workers : {1, 2}) {
    SCOPED_TRACE(absl::StrCat(workers, " workers"));
    ::diffmesh::testing::TempDir dir;
    const std::string file = dir.Write("orders.csv", ManyOrders(3000, 50));
    MeshGroup group;
    absl::Status status =
        Runtime::Execute(workers, [&](Worker& worker) -> absl::Status {
          DM_ASSIGN_OR_RETURN(auto mesh, Mesh::Open(worker, {.group = &group}));
          DM_ASSIGN_OR_RETURN(Table orders,
                              mesh->Source(Describe("sales.orders", Tier::kRaw),
                                           {.path = file}));
          DM_ASSIGN_OR_RETURN(Table counted, WithRegionCount(orders, orders));
          DM_RETURN_IF_ERROR(
              mesh->Publish(counted, Describe("sales.counted", Tier::kCurated))
                  .status());
          DM_RETURN_IF_ERROR(mesh->Advance());
          // The join's two sides and the aggregate's input.
          EXPECT_EQ(CountOperators(worker, "mesh.products", "arrange_by_key"),
                    3);
          // Built again on Use: the orders side of the join and the
          // aggregate's input are imported; the regions side (the
          // aggregate's output, not a product's rows) is arranged here.
          DM_ASSIGN_OR_RETURN(Table used, mesh->Use("sales.orders"));
          DM_ASSIGN_OR_RETURN(Table used_again, mesh->Use("sales.orders"));
          DM_ASSIGN_OR_RETURN(Table again, WithRegionCount(used, used_again));
          DM_RETURN_IF_ERROR(
              mesh->Publish(again, Describe("live.counted", Tier::kCurated))
                  .status());
          EXPECT_EQ(CountOperators(worker, "mesh.live", "import"), 2);
          EXPECT_EQ(CountOperators(worker, "mesh.live", "arrange_by_key"), 1);
          DM_RETURN_IF_ERROR(mesh->Advance());
          for (int round = 0; round < 4; ++round) {
            if (round > 0) {
              // Orders move, come and go.
              if (worker.index() == 0) {
                std::string text = ManyOrders(3000 - 400 * round, 50);
                absl::StrAppend(&text, 90000 + round, ",east,", round, "\n");
                dir.Write("orders.csv", text);
              }
              DM_RETURN_IF_ERROR(mesh->Refresh().status());
            }
            DM_ASSIGN_OR_RETURN(std::vector<Row> want,
                                mesh->Read("sales.counted"));
            DM_ASSIGN_OR_RETURN(std::vector<Row> got,
                                mesh->Read("live.counted"));
            EXPECT_EQ(got, want) << "round " << round;
            EXPECT_EQ(got.size(), 3000u - 400 * round + (round > 0 ? 1 : 0));
          }
          // Retired: its dataflow stops, its import with it, and is freed.
          DM_RETURN_IF_ERROR(mesh->Retire("live.counted"));
          DM_RETURN_IF_ERROR(mesh->Advance());
          DM_RETURN_IF_ERROR(mesh->Advance());
          EXPECT_EQ(CountOperators(worker, "mesh.live", "import"), 0);
          if (worker.index() == 0) {
            dir.Write("orders.csv", ManyOrders(100, 50));
          }
          DM_RETURN_IF_ERROR(mesh->Refresh().status());
          DM_ASSIGN_OR_RETURN(std::vector<Row> left,
                              mesh->Read("sales.counted"));
          EXPECT_EQ(left.size(), 100u);
          return absl::OkStatus();
        });
    ASSERT_THAT(status, IsOk());
  }
}

// ---- reads ------------------------------------------------------------------

TEST(MeshSnapshot, SeeksCountsAndAReaderThatOutlivesTheMesh) {
  ::diffmesh::testing::TempDir dir;
  const std::string file = dir.Write("orders.csv",
                                     "id,region,amount\n1,north,10\n2,south,7\n"
                                     "3,north,1\n3,north,1\n");
  std::optional<MeshReader> reader;
  {
    Worker worker;
    auto mesh = Must(Mesh::Open(worker, {}));
    Table orders = Must(
        mesh->Source(Describe("sales.orders", Tier::kRaw), {.path = file}));
    Must(mesh->Publish(Must(orders.Select({"region", "amount"})),
                       Describe("sales.amounts", Tier::kCurated))
             .status());
    EXPECT_TRUE(mesh->Snapshot()->empty());
    Must(mesh->Advance());
    reader = mesh->Reader();
    auto s = mesh->Snapshot();
    EXPECT_EQ(s->time(), 0u);
    EXPECT_EQ(Must(s->Count("sales.orders", R(3, "north", 1))), 2);
    EXPECT_EQ(Must(s->Count("sales.orders", R(4, "north", 1))), 0);
    EXPECT_EQ(Must(s->ReadPrefix("sales.amounts", Row{Value("north")})),
              (std::vector<Row>{Row{Value("north"), Value(int64_t{1})},
                                Row{Value("north"), Value(int64_t{1})},
                                Row{Value("north"), Value(int64_t{10})}}));
    EXPECT_EQ(Must(s->Descriptor("sales.amounts")).tier, Tier::kCurated);
    EXPECT_THAT(s->Descriptor("sales.none").status(),
                StatusIs(absl::StatusCode::kNotFound));
    EXPECT_THAT(s->Read("sales.none").status(),
                StatusIs(absl::StatusCode::kNotFound));
    EXPECT_THAT(s->Downstream({"sales.orders", ""}),
                ::testing::ElementsAre(ColumnRef{"sales.amounts", ""}));
    EXPECT_THAT(s->Upstream({"sales.amounts", "amount"}),
                ::testing::ElementsAre(ColumnRef{"sales.orders", "amount"}));
    EXPECT_THAT(s->Search("amounts"), ::testing::ElementsAre("sales.amounts"));
    auto waited = reader->WaitFor(1, absl::Milliseconds(10));
    EXPECT_THAT(waited.status(), StatusIs(absl::StatusCode::kDeadlineExceeded));
  }
  // The mesh is gone; the reader still has its last snapshot.
  EXPECT_EQ(Must(reader->Latest()->Read("sales.orders")).size(), 4u);
  auto sub = Must(reader->Subscribe({}));
  EXPECT_THAT(sub->Next(absl::Seconds(5)).status(),
              StatusIs(absl::StatusCode::kCancelled));
}

}  // namespace
}  // namespace diffmesh
