// hello: a collection changing over time, and the diffs of what is derived
// from it.
//
//   build/examples/hello
//
// Words arrive and leave over five rounds; the program prints, for each
// round, the consolidated changes to the word counts and to the set of
// distinct word lengths, as `time diff record`.
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "engine/graph.h"
#include "engine/input.h"
#include "engine/probe.h"
#include "operators/count.h"
#include "operators/distinct.h"
#include "operators/inspect.h"
#include "operators/map.h"

using diffmesh::Collection;

int main() {
  diffmesh::Worker worker;
  diffmesh::Graph& graph = worker.NewDataflow("hello");
  auto [words_in, words] = diffmesh::NewInput<std::string>(graph);

  // Count each word; print the changes as they become final.
  auto counts = diffmesh::Inspect(
      diffmesh::Count(words), [](const auto& wc, uint64_t t, int64_t r) {
        std::printf("  t=%llu %+lld count(%s) = %lld\n",
                    static_cast<unsigned long long>(t),
                    static_cast<long long>(r), wc.first.c_str(),
                    static_cast<long long>(wc.second));
      });
  // The distinct lengths of the words present.
  auto lengths =
      diffmesh::Map(words, [](const std::string& w) { return w.size(); });
  auto distinct = diffmesh::Inspect(
      diffmesh::Distinct(lengths), [](size_t len, uint64_t t, int64_t r) {
        std::printf("  t=%llu %+lld length %zu\n",
                    static_cast<unsigned long long>(t),
                    static_cast<long long>(r), len);
      });
  auto probe_counts = diffmesh::ProbeStream(counts.stream);
  auto probe_lengths = diffmesh::ProbeStream(distinct.stream);

  const std::vector<std::vector<std::pair<std::string, int>>> rounds = {
      {{"mesh", +1}, {"data", +1}, {"data", +1}},
      {{"lineage", +1}},
      {{"data", -1}, {"mesh", -1}},
      {{"product", +1}, {"data", -1}},
      {{"lineage", -1}},
  };
  for (uint64_t round = 0; round < rounds.size(); ++round) {
    std::printf("round %llu:\n", static_cast<unsigned long long>(round));
    for (const auto& [word, diff] : rounds[round]) {
      std::printf("  input %+d %s\n", diff, word.c_str());
      words_in.Update(word, diff);
    }
    words_in.AdvanceTo(round + 1);
    worker.StepWhile([&] {
      return probe_counts.LessThan(round + 1) ||
             probe_lengths.LessThan(round + 1);
    });
  }
  words_in.Close();
  worker.StepWhile(
      [&] { return !probe_counts.Done() || !probe_lengths.Done(); });
  std::printf("done\n");
  return 0;
}
