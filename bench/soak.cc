// Soak: many small rounds with retractions, and the memory they leave.
//
//   build/bench/soak bfs ROUNDS       # bfs over 1,000 nodes and a sliding
//                                     # window of 4,000 edges: each round
//                                     # adds one edge and removes the oldest
//   build/bench/soak mesh ROUNDS      # a mesh over a 200-row orders file:
//                                     # each round edits, deletes or
//                                     # re-adds a row and refreshes; every
//                                     # 1,000 rounds a descriptor changes
//
// Every ROUNDS/20 rounds it prints the round, the elapsed time, the
// process's resident memory, its live heap (allocated and not freed) and
// the bytes the worker's operators hold (traces with what their readers
// pin, batchers; Worker::HeldBytes). At the end it prints the first and
// last samples and compares rounds ROUNDS/10..ROUNDS/2 with the second half
// (peak resident memory, mean live heap and held bytes): the run fails
// (exit 1) if any grew by more than a tenth (plus 4 MiB, or 64 KiB for held
// bytes). History is bounded by
// compaction (the engine's traces) and by the retained data versions, whose
// runs merge geometrically (the mesh, catalog/counted_runs.h), so memory
// should not grow with the number of rounds.
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bench/isaac64.h"
#include "catalog/mesh.h"
#include "engine/check.h"
#include "engine/graph.h"
#include "engine/input.h"
#include "engine/probe.h"
#include "examples/graph_algorithms.h"
#include "operators/consolidate.h"
#include "operators/map.h"

namespace diffmesh {
namespace {

using Clock = std::chrono::steady_clock;

size_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(::sysconf(_SC_PAGESIZE));
}

// Bytes the program has allocated and not freed (glibc's count), which
// unlike resident memory does not include what the allocator keeps for
// reuse.
size_t LiveHeapBytes() {
  const struct mallinfo2 info = ::mallinfo2();
  return info.uordblks + info.hblkhd;
}

// Samples memory 200 times over the run, prints every tenth sample, and
// judges growth: history is folded in steps (the engine's merges, the
// mesh's settling of old versions), so memory is a saw whose teeth must not
// grow.
class MemoryLog {
 public:
  MemoryLog(const Worker& worker, uint64_t rounds)
      : worker_(worker),
        rounds_(rounds),
        every_(std::max<uint64_t>(1, rounds / 200)) {}

  void After(uint64_t round) {
    if ((round + 1) % every_ != 0) return;
    Sample s{round + 1, ResidentBytes(), LiveHeapBytes(), worker_.HeldBytes()};
    samples_.push_back(s);
    if (samples_.size() % 10 != 1) return;
    std::printf(
        "round %10llu  %8.1f s  rss %8.1f MiB  live heap %8.1f MiB  held "
        "%10.1f KiB\n",
        static_cast<unsigned long long>(s.round),
        std::chrono::duration<double>(Clock::now() - start_).count(),
        s.rss / 1048576.0, s.live / 1048576.0, s.held / 1024.0);
    std::fflush(stdout);
  }

  // Prints the first and last samples and compares the two parts of the
  // run after its first tenth (where the working size is reached), rounds
  // ROUNDS/10..ROUNDS/2 and the second half: resident memory by its peak
  // (it hardly ever shrinks), the live heap and the held bytes by their
  // mean (they rise and fall with the merges). Whether the second half
  // stays within the first.
  bool Flat() const {
    if (samples_.size() < 4) return true;
    const Sample& first = samples_.front();
    const Sample& last = samples_.back();
    struct Part {
      size_t rss = 0;
      double live = 0, held = 0;
      int n = 0;
    } early, late;
    for (const Sample& s : samples_) {
      if (s.round <= rounds_ / 10) continue;
      Part& part = s.round <= rounds_ / 2 ? early : late;
      part.rss = std::max(part.rss, s.rss);
      part.live += s.live;
      part.held += s.held;
      ++part.n;
    }
    for (Part* part : {&early, &late}) {
      part->live /= std::max(part->n, 1);
      part->held /= std::max(part->n, 1);
    }
    constexpr double kMiB = 1048576.0;
    std::printf(
        "soak: first sample (round %llu) rss %.1f MiB, live heap %.1f MiB, "
        "held %.1f KiB; last (round %llu) rss %.1f MiB, live heap %.1f MiB, "
        "held %.1f KiB\n",
        static_cast<unsigned long long>(first.round), first.rss / kMiB,
        first.live / kMiB, first.held / 1024.0,
        static_cast<unsigned long long>(last.round), last.rss / kMiB,
        last.live / kMiB, last.held / 1024.0);
    std::printf(
        "soak: rounds %llu-%llu vs the second half: peak rss %.1f / %.1f MiB, "
        "mean live heap %.1f / %.1f MiB, mean held %.1f / %.1f KiB\n",
        static_cast<unsigned long long>(rounds_ / 10),
        static_cast<unsigned long long>(rounds_ / 2), early.rss / kMiB,
        late.rss / kMiB, early.live / kMiB, late.live / kMiB,
        early.held / 1024.0, late.held / 1024.0);
    // A tenth more, plus a little for the allocator's granularity.
    auto within = [](double later, double earlier, double slack) {
      return later <= earlier * 1.1 + slack;
    };
    bool flat = true;
    if (!within(late.rss, early.rss, 4 * kMiB)) {
      std::printf("soak: resident memory grew\n");
      flat = false;
    }
    if (!within(late.live, early.live, 4 * kMiB)) {
      std::printf("soak: live heap grew\n");
      flat = false;
    }
    if (!within(late.held, early.held, 64 * 1024)) {
      std::printf("soak: the operators' held bytes grew\n");
      flat = false;
    }
    return flat;
  }

 private:
  struct Sample {
    uint64_t round = 0;
    size_t rss = 0, live = 0, held = 0;
  };
  const Worker& worker_;
  const uint64_t rounds_;
  const uint64_t every_;
  const Clock::time_point start_ = Clock::now();
  std::vector<Sample> samples_;
};

bool SoakBfs(uint64_t rounds) {
  using graphs::Edge;
  constexpr uint32_t kNodes = 1000;
  constexpr uint64_t kEdges = 4000;
  Worker worker;
  Graph& graph = worker.NewDataflow("bfs");
  auto [roots, roots_coll] = NewInput<graphs::Node>(graph);
  auto [edges, edges_coll] = NewInput<Edge>(graph);
  auto histogram = Consolidate(Map(
      graphs::Bfs(roots_coll, edges_coll),
      [](const std::pair<graphs::Node, uint32_t>& nd) { return nd.second; }));
  Probe<uint64_t> probe = ProbeStream(histogram.stream);
  bench::Isaac64 adds({1, 2, 3, 4}), removes({1, 2, 3, 4});
  auto next = [](bench::Isaac64& rng) {
    return Edge(rng.Below(kNodes), rng.Below(kNodes));
  };
  roots.Insert(0);
  roots.Close();
  for (uint64_t i = 0; i < kEdges; ++i) edges.Insert(next(adds));
  edges.AdvanceTo(1);
  DM_CHECK(worker.StepWhile([&] { return probe.LessThan(1); }));
  std::printf("soak: bfs, %u nodes, %llu edges, %llu rounds\n", kNodes,
              static_cast<unsigned long long>(kEdges),
              static_cast<unsigned long long>(rounds));
  MemoryLog log(worker, rounds);
  for (uint64_t round = 0; round < rounds; ++round) {
    edges.Insert(next(adds));
    edges.Remove(next(removes));
    edges.AdvanceTo(round + 2);
    DM_CHECK(worker.StepWhile([&] { return probe.LessThan(round + 2); }));
    log.After(round);
  }
  return log.Flat();
}

template <class T>
T Must(absl::StatusOr<T> v) {
  DM_CHECK_MSG(v.ok(), v.status().ToString().c_str());
  return *std::move(v);
}

ProductDescriptor Describe(const std::string& id, const std::string& about) {
  ProductDescriptor d;
  d.id = id;
  d.owner = "soak";
  d.description = about;
  return d;
}

bool SoakMesh(uint64_t rounds) {
  constexpr int kRows = 200;
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("diffmesh_soak_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string orders = (dir / "orders.csv").string();
  // Row i's amount and whether it is present, edited round by round.
  std::vector<int64_t> amount(kRows);
  std::vector<bool> present(kRows, true);
  for (int i = 0; i < kRows; ++i) amount[i] = i % 97;
  auto write = [&] {
    std::string text = "order_id,customer,amount,status\n";
    for (int i = 0; i < kRows; ++i) {
      if (!present[i]) continue;
      text += std::to_string(i) + "," + std::to_string(i % 20) + "," +
              std::to_string(amount[i]) + "," +
              (i % 7 == 0 ? "cancelled" : "paid") + "\n";
    }
    std::ofstream(orders, std::ios::binary | std::ios::trunc) << text;
  };
  write();

  Worker worker;
  auto mesh = Must(Mesh::Open(worker, {}));
  Table raw = Must(mesh->Source(Describe("sales.orders_raw", "raw orders"),
                                {.path = orders}));
  Table paid = Must(mesh->Publish(
      Must(raw.Filter({"status"},
                      [](const Row& in) { return in[0] == Value("paid"); })),
      Describe("sales.orders", "paid orders")));
  Must(mesh->Publish(
      Must(paid.GroupBy({"customer"})
               .Aggregate({Count("orders"), Sum("amount", "revenue")})),
      Describe("finance.revenue", "revenue per customer")));
  DM_CHECK(mesh->Advance().ok());
  std::printf("soak: mesh, %d rows, 3 products, %llu rounds\n", kRows,
              static_cast<unsigned long long>(rounds));

  MemoryLog log(worker, rounds);
  bench::Isaac64 rng({5, 6, 7, 8});
  for (uint64_t round = 0; round < rounds; ++round) {
    const int row = static_cast<int>(rng.Below(kRows));
    if (present[row] && rng.Below(4) == 0) {
      present[row] = false;  // a deletion
    } else {
      present[row] = true;  // an edit, or the row back
      amount[row] = static_cast<int64_t>(rng.Below(1000));
    }
    write();
    if (round % 1000 == 999) {
      DM_CHECK(mesh->UpdateDescriptor(
                       Describe("sales.orders", "paid orders, as of round " +
                                                    std::to_string(round)))
                   .ok());
    }
    Must(mesh->Refresh());
    mesh->TakeChanges();
    log.After(round);
  }
  std::filesystem::remove_all(dir);
  return log.Flat();
}

int Usage(const char* argv0) {
  std::fprintf(stderr, "usage: %s bfs|mesh ROUNDS\n", argv0);
  return 2;
}

}  // namespace
}  // namespace diffmesh

int main(int argc, char** argv) {
  if (argc != 3) return diffmesh::Usage(argv[0]);
  char* end = nullptr;
  const unsigned long long rounds = std::strtoull(argv[2], &end, 10);
  if (end == argv[2] || *end != '\0' || rounds == 0) {
    std::fprintf(stderr, "%s: ROUNDS must be a positive number, not '%s'\n",
                 argv[0], argv[2]);
    return 2;
  }
  const std::string mode = argv[1];
  if (mode == "bfs") return diffmesh::SoakBfs(rounds) ? 0 : 1;
  if (mode == "mesh") return diffmesh::SoakMesh(rounds) ? 0 : 1;
  return diffmesh::Usage(argv[0]);
}
