// Shared driver of the graph examples: parses --roots/--edges/--workers,
// reads update logs (storage/text_log.h), feeds them time by time on
// `--workers N` workers (each feeds every N-th update), and prints the
// consolidated changes of the result, gathered at worker 0, in the same
// format: the output does not depend on N.
//
// Under mpirun (engine/runtime.h) the first process reads the logs and its
// workers feed them; the other processes' workers feed nothing and own
// their share of the keys, so the logs need to exist only where the first
// process runs. The first process prints the result; the output does not
// depend on the number of processes either.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "engine/graph.h"
#include "engine/input.h"
#include "engine/probe.h"
#include "engine/runtime.h"
#include "examples/graph_algorithms.h"
#include "operators/exchange.h"
#include "operators/inspect.h"
#include "storage/text_log.h"

namespace diffmesh::examples {

inline std::vector<uint32_t> ToFields(uint32_t n) { return {n}; }
template <class A, class B>
std::vector<uint32_t> ToFields(const std::pair<A, B>& p) {
  return {static_cast<uint32_t>(p.first), static_cast<uint32_t>(p.second)};
}

struct Args {
  std::string roots, edges;
  int workers = 1;
};

// Returns false (after printing usage) on bad arguments.
inline bool ParseArgs(int argc, char** argv, bool needs_roots, Args* args) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    std::string workers;
    if (a == "--roots" && needs_roots && value(&args->roots)) continue;
    if (a == "--edges" && value(&args->edges)) continue;
    if ((a == "--workers" || a == "-w") && value(&workers)) {
      char* end = nullptr;
      long w = std::strtol(workers.c_str(), &end, 10);
      if (*end == '\0' && w >= 1 && w <= 256) {
        args->workers = static_cast<int>(w);
        continue;
      }
      std::fprintf(stderr,
                   "%s: --workers needs a number from 1 to 256, got '%s'\n",
                   argv[0], workers.c_str());
      return false;
    }
    std::fprintf(stderr, "%s: unexpected argument '%s'\n", argv[0], a.c_str());
    return false;
  }
  if (args->edges.empty() || (needs_roots && args->roots.empty())) {
    std::fprintf(stderr, "usage: %s %s--edges EDGES.log [--workers N]\n",
                 argv[0], needs_roots ? "--roots ROOTS.log " : "");
    return false;
  }
  return true;
}

// Runs `build(roots, edges)` over the logs named on the command line.
// Exit codes: 0 ok, 1 bad input file, 2 bad arguments.
template <class Build>
int RunGraphExample(int argc, char** argv, bool needs_roots, Build build) {
  Args args;
  if (!ParseArgs(argc, argv, needs_roots, &args)) return 2;
  const bool reader = Runtime::ProcessIndex() == 0;
  std::vector<LogUpdate> roots, edges;
  if (needs_roots && reader) {
    auto r = ReadTextLog(args.roots, 1);
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", std::string(r.status().message()).c_str());
      return 1;
    }
    roots = *std::move(r);
  }
  if (reader) {
    auto e = ReadTextLog(args.edges, 2);
    if (!e.ok()) {
      std::fprintf(stderr, "%s\n", std::string(e.status().message()).c_str());
      return 1;
    }
    edges = *std::move(e);
  }

  // Updates grouped by time, applied in increasing time order.
  std::map<uint64_t, std::pair<std::vector<const LogUpdate*>,
                               std::vector<const LogUpdate*>>>
      by_time;
  for (const auto& u : roots) by_time[u.time].first.push_back(&u);
  for (const auto& u : edges) by_time[u.time].second.push_back(&u);

  std::mutex output_mutex;
  std::vector<LogUpdate> output;  // gathered at worker 0
  auto status = Runtime::Execute(
      args.workers, {.pin_workers = true}, [&](Worker& worker) {
        Graph& graph = worker.NewDataflow(argv[0]);
        auto [roots_in, roots_coll] = NewInput<graphs::Node>(graph);
        auto [edges_in, edges_coll] = NewInput<graphs::Edge>(graph);
        auto built = build(roots_coll, edges_coll);
        using Out = typename decltype(built)::Data;
        if (worker.peers() > 1) {
          built = Exchange(built, [](const Out&) { return uint64_t{0}; });
        }
        auto result = Inspect(built, [&](const Out& d, uint64_t t, int64_t r) {
          std::lock_guard<std::mutex> lock(output_mutex);
          output.push_back({t, r, ToFields(d)});
        });
        auto probe = ProbeStream(result.stream);
        // This worker's share of the updates: the first process's workers
        // are ids 0..N-1.
        const size_t peers = args.workers, me = worker.index();
        size_t n = 0;
        auto mine = [&] { return n++ % peers == me; };
        for (const auto& [time, updates] : by_time) {
          roots_in.AdvanceTo(time);
          edges_in.AdvanceTo(time);
          for (const LogUpdate* u : updates.first) {
            if (mine()) roots_in.Update(u->fields[0], u->diff);
          }
          for (const LogUpdate* u : updates.second) {
            if (mine()) edges_in.Update({u->fields[0], u->fields[1]}, u->diff);
          }
          roots_in.AdvanceTo(time + 1);
          edges_in.AdvanceTo(time + 1);
          worker.StepWhile([&] { return probe.LessThan(time + 1); });
        }
        roots_in.Close();
        edges_in.Close();
        worker.StepWhile([&] { return !probe.Done(); });
      });
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", status.ToString().c_str());
    return 2;
  }
  if (reader) std::fputs(FormatTextLog(std::move(output)).c_str(), stdout);
  return 0;
}

}  // namespace diffmesh::examples
