// bfs: the scenario driver comparable with the reference engine's
// examples/bfs.rs. Isolates incremental maintenance of breadth-first
// distances on a random graph under a stream of single-edge changes.
//
//   build/bench/bfs NODES EDGES BATCH ROUNDS [inspect|recompute|bytes] [-w N]
//                   [--one-heap] [--every-worker-feeds]
//
// `-w N` (or `--workers N`) runs N workers; as in the reference driver,
// worker 0 generates and inserts every edge and every change, and the
// exchange in front of each arrangement spreads them by key.
// `--every-worker-feeds` has every worker (of every process) insert its
// share instead: each runs the same generators and inserts the edges and
// changes whose index is its own modulo the workers, so the graph, the
// changes and the answers are those of the default, and no one worker
// sends every input to the others. `--one-heap`
// runs them with RuntimeOptions::one_heap (engine/memory.h: every thread
// allocates from glibc's main heap; less memory at several workers, more
// contention for the allocator's lock in small rounds).
//
// A random directed graph of EDGES edges over NODES nodes, root 0, generated
// exactly as the reference driver generates it (bench/isaac64.h), is loaded
// ("loaded", then "stable" once distances are complete: elapsed since start).
// Then ROUNDS rounds, each of BATCH changes, each change at its own
// timestamp: insert a fresh random edge and remove the oldest remaining one
// (the removal generator replays the insertion generator's sequence from the
// same seed). Per round: elapsed, round index and the round's latency in
// nanoseconds (from flush until the probe passes the round). `inspect` also
// prints the consolidated changes of the distance histogram; `recompute`
// additionally times each of the first 5 rounds' graphs computed from
// scratch, for the incremental speed-up; `bytes` samples worker 0's held
// bytes by part at every step and prints them as they were when the heap
// was at its fullest (bench/byte_watch.h). Ends with total elapsed and peak
// resident memory. With several workers it also prints the progress batches
// worker 0 sent per round (the coordination messages of the protocol), and
// across processes the frames its process sent to the others per round.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "bench/byte_watch.h"
#include "bench/isaac64.h"
#include "engine/fabric.h"
#include "engine/graph.h"
#include "engine/input.h"
#include "engine/probe.h"
#include "engine/runtime.h"
#include "examples/graph_algorithms.h"
#include "operators/consolidate.h"
#include "operators/filter.h"
#include "operators/inspect.h"
#include "operators/map.h"

namespace {

using diffmesh::graphs::Edge;
using diffmesh::graphs::Node;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// The reference driver's random edges: ISAAC-64 seeded [1, 2, 3, 4], source
// then destination, each uniform over the nodes. Two generators replay the
// same sequence (one adds edges, the other removes them oldest first).
class EdgeGenerator {
 public:
  explicit EdgeGenerator(uint32_t nodes) : rng_({1, 2, 3, 4}), nodes_(nodes) {}
  Edge Next() {
    Node a = rng_.Below(nodes_);
    Node b = rng_.Below(nodes_);
    return {a, b};
  }

 private:
  diffmesh::bench::Isaac64 rng_;
  uint32_t nodes_;
};

struct BfsDataflow {
  diffmesh::Worker& worker;
  diffmesh::Graph& graph;
  diffmesh::InputHandle<Node> roots;
  diffmesh::InputHandle<Edge> edges;
  diffmesh::Probe<uint64_t> probe;

  BfsDataflow(diffmesh::Worker& w, bool inspect)
      : worker(w), graph(w.NewDataflow("bfs")) {
    auto [r, roots_coll] = diffmesh::NewInput<Node>(graph);
    auto [e, edges_coll] = diffmesh::NewInput<Edge>(graph);
    roots = std::move(r);
    edges = std::move(e);
    auto result = diffmesh::graphs::Bfs(roots_coll, edges_coll);
    if (!inspect)
      result = diffmesh::Filter(result, [](const auto&) { return false; });
    auto histogram = diffmesh::Consolidate(diffmesh::Map(
        result, [](const std::pair<Node, uint32_t>& nd) { return nd.second; }));
    auto shown =
        diffmesh::Inspect(histogram, [](uint32_t dist, uint64_t t, int64_t r) {
          std::printf("\t((%u, %llu), %lld)\n", dist,
                      static_cast<unsigned long long>(t),
                      static_cast<long long>(r));
        });
    probe = diffmesh::ProbeStream(shown.stream);
  }
  void Settle(uint64_t time, diffmesh::bench::ByteWatch* watch = nullptr,
              const char* where = "") {
    worker.StepWhile([&] {
      if (watch != nullptr) watch->Sample(where);
      return probe.LessThan(time);
    });
  }
};

// The inputs one worker inserts, numbered edges first, then the changes:
// number `next`, then every `stride`-th after it. Asked in order.
struct Share {
  uint64_t next, stride;
  bool Takes(uint64_t i) {
    if (i != next) return false;
    next += stride;
    return true;
  }
};

// Generates the first `count` edges of `adds` and inserts those in `share`.
// Every edge is kept in `all` if given.
void LoadEdges(EdgeGenerator& adds, uint64_t count, Share* share,
               diffmesh::InputHandle<Edge>* in, std::vector<Edge>* all) {
  for (uint64_t i = 0; i < count; ++i) {
    Edge e = adds.Next();
    if (share->Takes(i)) in->Insert(e);
    if (all != nullptr) all->push_back(e);
  }
}

// Time to compute distances from scratch over `graph_edges`.
double Recompute(const std::vector<Edge>& graph_edges) {
  auto start = Clock::now();
  diffmesh::Worker worker;
  BfsDataflow flow(worker, false);
  flow.roots.Insert(0);
  flow.roots.Close();
  for (const Edge& e : graph_edges) flow.edges.Insert(e);
  flow.edges.AdvanceTo(1);
  flow.Settle(1);
  return Seconds(start);
}

int Usage(const char* argv0) {
  std::fprintf(
      stderr,
      "usage: %s NODES EDGES BATCH ROUNDS [inspect|recompute|bytes] [-w N] "
      "[--one-heap] [--every-worker-feeds]\n",
      argv0);
  return 2;
}

bool ParseCount(const char* s, uint64_t* out) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || s[0] == '-') return false;
  *out = v;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> positional;
  bool inspect = false, recompute = false, bytes = false, one_heap = false,
       every_worker_feeds = false;
  uint64_t workers = 1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-w" || a == "--workers") {
      if (i + 1 >= argc || !ParseCount(argv[i + 1], &workers) || workers < 1 ||
          workers > diffmesh::Runtime::kMaxWorkers) {
        std::fprintf(stderr, "%s: %s needs a number of workers from 1 to %d\n",
                     argv[0], a.c_str(), diffmesh::Runtime::kMaxWorkers);
        return 2;
      }
      ++i;
    } else if (a.size() > 2 && a.rfind("-w", 0) == 0) {  // -w2, as timely
      if (!ParseCount(a.c_str() + 2, &workers) || workers < 1 ||
          workers > diffmesh::Runtime::kMaxWorkers) {
        return Usage(argv[0]);
      }
    } else if (a == "inspect") {
      inspect = true;
    } else if (a == "recompute") {
      recompute = true;
    } else if (a == "bytes") {
      bytes = true;
    } else if (a == "--one-heap") {
      one_heap = true;
    } else if (a == "--every-worker-feeds") {
      every_worker_feeds = true;
    } else {
      positional.push_back(a);
    }
  }
  if (positional.size() != 4) return Usage(argv[0]);
  uint64_t nodes, edges, batch, rounds;
  if (!ParseCount(positional[0].c_str(), &nodes) ||
      !ParseCount(positional[1].c_str(), &edges) ||
      !ParseCount(positional[2].c_str(), &batch) ||
      !ParseCount(positional[3].c_str(), &rounds) || nodes == 0 ||
      nodes > UINT32_MAX) {
    return Usage(argv[0]);
  }

  auto timer = Clock::now();
  diffmesh::Runtime::Run(
      static_cast<int>(workers),
      [&](diffmesh::Worker& worker) {
        const bool leader = worker.index() == 0;
        Share share = every_worker_feeds
                          ? Share{static_cast<uint64_t>(worker.index()),
                                  static_cast<uint64_t>(worker.peers())}
                          : Share{0, 1};
        const bool generates = leader || every_worker_feeds;
        BfsDataflow flow(worker, inspect);
        diffmesh::bench::ByteWatch watch(worker);
        diffmesh::bench::ByteWatch* watching =
            bytes && leader ? &watch : nullptr;
        EdgeGenerator adds(static_cast<uint32_t>(nodes)),
            removes(static_cast<uint32_t>(nodes));
        if (leader) flow.roots.Insert(0);
        flow.roots.Close();
        if (leader) {
          std::printf("performing BFS on %llu nodes, %llu edges:\n",
                      static_cast<unsigned long long>(nodes),
                      static_cast<unsigned long long>(edges));
        }
        std::vector<Edge> current;  // only kept for `recompute`
        if (generates) {
          LoadEdges(adds, edges, &share, &flow.edges,
                    recompute && leader ? &current : nullptr);
        }
        if (leader) std::printf("%.6fs\tloaded\n", Seconds(timer));
        flow.edges.AdvanceTo(1);
        flow.edges.Flush();
        if (watching) watching->Sample("loaded");
        flow.Settle(1, watching, "load");
        if (leader) std::printf("%.6fs\tstable\n", Seconds(timer));
        uint64_t batches_at_stable = flow.graph.progress_batches_sent();
        const diffmesh::Fabric* fabric = flow.graph.fabric();
        const uint64_t frames_at_stable =
            fabric != nullptr ? fabric->frames_sent() : 0;

        std::vector<double> recompute_seconds;
        size_t oldest = 0;
        for (uint64_t round = 0; round < rounds; ++round) {
          for (uint64_t element = 0; element < batch; ++element) {
            if (generates) {
              Edge add = adds.Next(), remove = removes.Next();
              if (share.Takes(edges + round * batch + element)) {
                flow.edges.Insert(add);
                flow.edges.Remove(remove);
              }
              if (recompute && leader) {
                current.push_back(add);
                // The removed edge is the oldest remaining one.
                current[oldest++] = Edge(UINT32_MAX, UINT32_MAX);
              }
            }
            flow.edges.AdvanceTo(2 + round * batch + element);
          }
          flow.edges.Flush();
          auto round_start = Clock::now();
          flow.Settle(flow.edges.time(), watching, "rounds");
          auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        Clock::now() - round_start)
                        .count();
          if (!leader) continue;
          std::printf("%.6fs\t%llu:\t%lld\n", Seconds(timer),
                      static_cast<unsigned long long>(round),
                      static_cast<long long>(ns));
          if (recompute && round < 5) {
            std::vector<Edge> live;
            live.reserve(current.size() - oldest);
            for (size_t i = oldest; i < current.size(); ++i)
              live.push_back(current[i]);
            recompute_seconds.push_back(Recompute(live));
          }
        }
        if (!leader) return;
        std::printf("finished; elapsed: %.6fs\n", Seconds(timer));
        if (watching) {
          watching->Print(stdout);
          watching->PrintNow(stdout, "after the last round");
        }
        if (worker.peers() > 1 && rounds > 0) {
          std::printf("progress batches sent by worker 0: %.1f per round\n",
                      static_cast<double>(flow.graph.progress_batches_sent() -
                                          batches_at_stable) /
                          static_cast<double>(rounds));
        }
        if (fabric != nullptr && fabric->link() != nullptr && rounds > 0) {
          std::printf(
              "frames sent to other processes by process 0: %.1f per round\n",
              static_cast<double>(fabric->frames_sent() - frames_at_stable) /
                  static_cast<double>(rounds));
        }
        if (!recompute_seconds.empty()) {
          std::sort(recompute_seconds.begin(), recompute_seconds.end());
          std::printf("recompute from scratch: median %.6fs over %zu rounds\n",
                      recompute_seconds[recompute_seconds.size() / 2],
                      recompute_seconds.size());
        }
      },
      {.pin_workers = true, .tune_allocator = true, .one_heap = one_heap});
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  if (diffmesh::Runtime::Processes() > 1) {  // under mpirun: each its own
    std::printf("peak RSS of process %d: %.1f MiB\n",
                diffmesh::Runtime::ProcessIndex(), usage.ru_maxrss / 1024.0);
  } else {
    std::printf("peak RSS: %.1f MiB\n", usage.ru_maxrss / 1024.0);
  }
  return 0;
}
