// FileSource: exact multiset differences when files are rewritten, appear
// or vanish; quarantine differences; schema inference; errors naming the
// path; a file that breaks keeps its rows.
#include "catalog/source.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "catalog/csv.h"
#include "catalog/json.h"
#include "catalog/table.h"
#include "engine/check.h"
#include "engine/runtime.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tbb/task_arena.h"
#include "tests/status_matchers.h"
#include "tests/temp_dir.h"
#include "tests/thread_cpus.h"

namespace diffmesh {
namespace {

using ::diffmesh::testing::ThreadCpus;

// A pinned worker runs on one CPU, but the sources' data-parallel work
// inside it (oneTBB) still gets every CPU the caller had: the catalog asks
// oneTBB before Runtime pins (Runtime::BeforePinning). ctest runs each test
// in a process of its own, so this worker is the first in its process to
// ask oneTBB.
TEST(SourcesOnPinnedWorkers, OneTbbStillGetsEveryCpu) {
  const std::vector<int> caller = ThreadCpus();
  if (caller.size() < 2) GTEST_SKIP() << "one CPU: nothing is pinned";
  int concurrency = 0;
  std::vector<int> placed;
  ASSERT_TRUE(Runtime::Execute(1, {.pin_workers = true}, [&](Worker&) {
                placed = ThreadCpus();
                concurrency = tbb::this_task_arena::max_concurrency();
              }).ok());
  EXPECT_EQ(placed, std::vector<int>{caller[0]});
  EXPECT_EQ(concurrency, static_cast<int>(caller.size()));
}

using ::diffmesh::testing::IsOk;
using ::diffmesh::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

class SourceTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& text) {
    return dir_.Write(name, text);
  }
  std::unique_ptr<FileSource> Open(SourceOptions options) {
    auto source = FileSource::Open(std::move(options));
    DM_CHECK_MSG(source.ok(), source.status().ToString().c_str());
    return *std::move(source);
  }
  SourceDiff Poll(FileSource& source) {
    auto diff = source.Poll();
    DM_CHECK_MSG(diff.ok(), diff.status().ToString().c_str());
    return *std::move(diff);
  }
  void CheckIncrementalEqualsFresh(const std::string& name,
                                   const std::string& header,
                                   const std::vector<std::string>& pool);
  ::diffmesh::testing::TempDir dir_;
};

Row R(const char* name, int64_t n) { return {Value(name), Value(n)}; }

TEST_F(SourceTest, RewriteGivesTheMultisetDifference) {
  std::string file = Write("t.csv", "name,n\nada,1\nada,1\nbob,2\ncy,3\n");
  auto source = Open({.path = file});
  EXPECT_EQ(source->format(), SourceFormat::kCsv);
  EXPECT_EQ(source->schema().fields()[1].type, ValueType::kInt64);
  SourceDiff first = Poll(*source);
  EXPECT_THAT(first.rows,
              ElementsAre(Pair(R("ada", 1), 2), Pair(R("bob", 2), 1),
                          Pair(R("cy", 3), 1)));
  // One duplicate goes, bob changes, a row is added; cy stays.
  Write("t.csv", "name,n\ncy,3\nada,1\nbob,5\ndee,4\n");
  SourceDiff second = Poll(*source);
  EXPECT_THAT(second.rows,
              ElementsAre(Pair(R("ada", 1), -1), Pair(R("bob", 2), -1),
                          Pair(R("bob", 5), 1), Pair(R("dee", 4), 1)));
  EXPECT_THAT(second.files_changed, ElementsAre(file));
  // Unchanged content: nothing at all.
  SourceDiff third = Poll(*source);
  EXPECT_TRUE(third.empty());
  EXPECT_THAT(third.files_changed, IsEmpty());
}

TEST_F(SourceTest, QuarantineIsDifferencedToo) {
  std::string file = Write("t.csv", "name,n\nada,x\nbob,2\n");
  Schema schema({{"name", ValueType::kString}, {"n", ValueType::kInt64}});
  auto source = Open({.path = file, .schema = schema});
  SourceDiff first = Poll(*source);
  EXPECT_THAT(first.rows, ElementsAre(Pair(R("bob", 2), 1)));
  ASSERT_EQ(first.quarantine.size(), 1u);
  const Row& q = first.quarantine[0].first;
  EXPECT_THAT(QuarantineSchema().Validate(q), IsOk());
  EXPECT_EQ(q[0], Value(file));
  EXPECT_EQ(q[1], Value(int64_t{2}));
  EXPECT_THAT(q[2].as_string(), HasSubstr("expects int64"));
  Write("t.csv", "name,n\nada,1\nbob,2\n");
  SourceDiff fixed = Poll(*source);
  EXPECT_THAT(fixed.rows, ElementsAre(Pair(R("ada", 1), 1)));
  EXPECT_THAT(fixed.quarantine, ElementsAre(Pair(q, -1)));
}

TEST_F(SourceTest, UnicodeEmbeddedNewlinesAndEmptyFiles) {
  std::string file =
      Write("t.csv", "name,n\n\"Zoë, \"\"the\"\" first\nline\",1\n日本,2\n");
  auto source = Open({.path = file});
  SourceDiff diff = Poll(*source);
  EXPECT_THAT(diff.rows, ElementsAre(Pair(R("Zoë, \"the\" first\nline", 1), 1),
                                     Pair(R("日本", 2), 1)));
  // Emptied to the header only: every row retracted.
  Write("t.csv", "name,n\n");
  diff = Poll(*source);
  EXPECT_EQ(diff.rows.size(), 2u);
  EXPECT_EQ(diff.rows[0].second + diff.rows[1].second, -2);
}

TEST_F(SourceTest, BrokenFileKeepsItsRowsAndSaysWhy) {
  std::string file = Write("t.json", R"([{"a": 1}, {"a": 2}])");
  auto source = Open({.path = file});
  EXPECT_EQ(Poll(*source).rows.size(), 2u);
  Write("t.json", R"([{"a": 1}, {"a": )");  // half written
  SourceDiff broken = Poll(*source);
  EXPECT_THAT(broken.rows, IsEmpty());
  ASSERT_EQ(broken.quarantine.size(), 1u);
  EXPECT_TRUE(broken.quarantine[0].first[1].is_null());
  EXPECT_THAT(broken.quarantine[0].first[2].as_string(),
              HasSubstr("file not used"));
  Write("t.json", R"([{"a": 1}, {"a": 3}])");
  SourceDiff repaired = Poll(*source);
  EXPECT_THAT(repaired.rows, ElementsAre(Pair(Row{Value(int64_t{2})}, -1),
                                         Pair(Row{Value(int64_t{3})}, 1)));
  EXPECT_EQ(repaired.quarantine.size(), 1u);
  EXPECT_EQ(repaired.quarantine[0].second, -1);
}

// A quote never closed would make its record run to the end of the file
// and retract every later row: a file that read cleanly keeps its rows,
// with one quarantine row at the quote's line, until it reads without one.
TEST_F(SourceTest, ARunawayQuoteHoldsTheFilesRows) {
  std::string file =
      Write("t.csv", "name,n\nada,1\nbob,2\ncy,3\ndee,4\neve,5\n");
  auto source = Open({.path = file});
  ASSERT_EQ(Poll(*source).rows.size(), 5u);
  Write("t.csv", "name,n\nada,1\n\"bob,2\ncy,3\ndee,4\neve,5\n");
  SourceDiff damaged = Poll(*source);
  EXPECT_THAT(damaged.rows, IsEmpty());
  ASSERT_EQ(damaged.quarantine.size(), 1u);
  const Row& held = damaged.quarantine[0].first;
  EXPECT_EQ(held[0], Value(file));
  EXPECT_EQ(held[1], Value(int64_t{3}));
  EXPECT_THAT(held[2].as_string(),
              HasSubstr("never closed, so its record runs to the end"));
  EXPECT_THAT(held[2].as_string(), HasSubstr("previous rows are held"));
  EXPECT_EQ(damaged.quarantine[0].second, 1);
  // Unchanged: nothing new. Damaged elsewhere: the held row moves.
  EXPECT_TRUE(Poll(*source).empty());
  Write("t.csv", "name,n\nada,1\nbob,2\ncy,3\n\"dee,4\neve,5\n");
  SourceDiff moved = Poll(*source);
  EXPECT_THAT(moved.rows, IsEmpty());
  ASSERT_EQ(moved.quarantine.size(), 2u);
  EXPECT_EQ(moved.quarantine[0].first[1], Value(int64_t{3}));
  EXPECT_EQ(moved.quarantine[0].second, -1);
  EXPECT_EQ(moved.quarantine[1].first[1], Value(int64_t{5}));
  EXPECT_EQ(moved.quarantine[1].second, 1);
  // Appended records ending in an open quote are held the same way.
  Write("t.csv", "name,n\nada,1\nbob,2\ncy,3\ndee,4\neve,5\n\"fay,6\n");
  SourceDiff appended = Poll(*source);
  EXPECT_THAT(appended.rows, IsEmpty());
  EXPECT_EQ(appended.quarantine.size(), 2u);
  // Repaired, with an edit: the exact difference from the rows held.
  Write("t.csv", "name,n\nada,1\nbob,2\ncy,30\ndee,4\neve,5\nfay,6\n");
  SourceDiff repaired = Poll(*source);
  EXPECT_THAT(repaired.rows,
              ElementsAre(Pair(R("cy", 3), -1), Pair(R("cy", 30), 1),
                          Pair(R("fay", 6), 1)));
  ASSERT_EQ(repaired.quarantine.size(), 1u);
  EXPECT_EQ(repaired.quarantine[0].second, -1);
}

// Appended records that open a quote and never close it are held too
// (the append is not read on its own).
TEST_F(SourceTest, AnAppendedRunawayQuoteHoldsTheFilesRows) {
  std::string file = Write("t.csv", "name,n\nada,1\nbob,2\n");
  auto source = Open({.path = file});
  ASSERT_EQ(Poll(*source).rows.size(), 2u);
  Write("t.csv", "name,n\nada,1\nbob,2\ncy,3\n");
  EXPECT_THAT(Poll(*source).rows, ElementsAre(Pair(R("cy", 3), 1)));
  Write("t.csv", "name,n\nada,1\nbob,2\ncy,3\n\"dee,4\neve,5\n");
  SourceDiff damaged = Poll(*source);
  EXPECT_THAT(damaged.rows, IsEmpty());
  ASSERT_EQ(damaged.quarantine.size(), 1u);
  EXPECT_EQ(damaged.quarantine[0].first[1], Value(int64_t{5}));
  EXPECT_THAT(damaged.quarantine[0].first[2].as_string(),
              HasSubstr("previous rows are held"));
}

// A file read with a runaway quote from the start gave the rows before it:
// later reads with one are taken as they are (only a new one holds).
TEST_F(SourceTest, ARunawayQuoteFromTheStartIsReadAsItIs) {
  std::string file = Write("t.csv", "name,n\nada,1\n\"bob,2\ncy,3\n");
  auto source = Open({.path = file});
  SourceDiff first = Poll(*source);
  EXPECT_THAT(first.rows, ElementsAre(Pair(R("ada", 1), 1)));
  EXPECT_EQ(first.quarantine.size(), 1u);
  Write("t.csv", "name,n\nada,1\ndee,4\n\"bob,2\ncy,3\n");
  SourceDiff second = Poll(*source);
  EXPECT_THAT(second.rows, ElementsAre(Pair(R("dee", 4), 1)));
}

// The shrink guard: a file that loses more than the share of its bytes in
// one poll keeps its rows until it is back or the source accepts it.
TEST_F(SourceTest, AShrunkFileKeepsItsRowsUntilBackOrAccepted) {
  auto rows_text = [](int from, int to) {
    std::string text = "name,n\n";
    for (int i = from; i < to; ++i)
      absl::StrAppend(&text, "r", i, ",", i, "\n");
    return text;
  };
  const std::string whole = rows_text(10, 50);  // 40 rows, 327 bytes
  std::string file = Write("t.csv", whole);
  auto source = Open({.path = file, .shrink_guard_bytes = 100});
  ASSERT_EQ(Poll(*source).rows.size(), 40u);
  // Cut to 5 rows: held, one quarantine row (line null) with both sizes.
  const std::string cut = rows_text(10, 15);
  Write("t.csv", cut);
  SourceDiff shrunk = Poll(*source);
  EXPECT_THAT(shrunk.rows, IsEmpty());
  ASSERT_EQ(shrunk.quarantine.size(), 1u);
  const Row& held = shrunk.quarantine[0].first;
  EXPECT_TRUE(held[1].is_null());
  EXPECT_THAT(held[2].as_string(),
              HasSubstr(absl::StrCat("shrank from ", whole.size(), " to ",
                                     cut.size(), " bytes")));
  EXPECT_TRUE(Poll(*source).empty());
  // Back to most of its size with one row edited: the exact difference.
  std::string back = rows_text(10, 45);
  Write("t.csv", back);
  SourceDiff returned = Poll(*source);
  EXPECT_EQ(returned.rows.size(), 5u);  // r45..r49 retracted
  for (const auto& [row, n] : returned.rows) EXPECT_EQ(n, -1);
  ASSERT_EQ(returned.quarantine.size(), 1u);
  EXPECT_EQ(returned.quarantine[0].second, -1);
  // Cut again, then accepted as it is.
  Write("t.csv", cut);
  EXPECT_THAT(Poll(*source).rows, IsEmpty());
  source->AcceptFiles();
  SourceDiff accepted = Poll(*source);
  EXPECT_EQ(accepted.rows.size(), 30u);  // r15..r44 retracted
  ASSERT_EQ(accepted.quarantine.size(), 1u);
  EXPECT_EQ(accepted.quarantine[0].second, -1);
  // The accepted size is the new base; the acceptance was used up.
  Write("t.csv", rows_text(10, 12));
  EXPECT_EQ(Poll(*source).rows.size(), 3u);  // below 100 bytes: no guard
}

TEST_F(SourceTest, TheShrinkGuardsShareIsChecked) {
  std::string file = Write("t.csv", "name,n\nada,1\n");
  for (double share : {0.0, -0.5, 1.5}) {
    EXPECT_THAT(FileSource::Open({.path = file, .shrink_guard_share = share}),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
  // 1 turns it off.
  auto source =
      Open({.path = file, .shrink_guard_share = 1.0, .shrink_guard_bytes = 0});
  Poll(*source);
  Write("t.csv", "name,n\n");
  EXPECT_EQ(Poll(*source).rows.size(), 1u);
}

TEST_F(SourceTest, DirectoryFilesAppearAndVanish) {
  Write("a.jsonl", "{\"k\":1}\n{\"k\":2}\n");
  auto source = Open({.path = dir_.path(), .format = SourceFormat::kJsonLines});
  EXPECT_EQ(Poll(*source).rows.size(), 2u);
  Write("b.ndjson", "{\"k\":2}\n");
  Write("c.csv", "k\n9\n");  // not of the source's format
  SourceDiff added = Poll(*source);
  EXPECT_THAT(added.rows, ElementsAre(Pair(Row{Value(int64_t{2})}, 1)));
  std::filesystem::remove(dir_ / "a.jsonl");
  SourceDiff removed = Poll(*source);
  EXPECT_THAT(removed.rows, ElementsAre(Pair(Row{Value(int64_t{1})}, -1),
                                        Pair(Row{Value(int64_t{2})}, -1)));
}

TEST_F(SourceTest, AssumedRowsAreTheStartingPoint) {
  std::string file = Write("t.csv", "name,n\nada,1\nbob,2\n");
  auto source = Open({.path = file});
  source->AssumeRows({{R("ada", 1), 1}, {R("old", 9), 1}});
  SourceDiff diff = Poll(*source);
  EXPECT_THAT(diff.rows,
              ElementsAre(Pair(R("bob", 2), 1), Pair(R("old", 9), -1)));
}

// After AssumeRows (a restart), a file that is broken (a header not the
// schema's) or has a runaway quote keeps the assumed rows until it reads
// cleanly; the one quarantine row saying why is at the damage's line.
TEST_F(SourceTest, DamagedFileAfterAssumeKeepsTheAssumedRows) {
  struct Case {
    const char* damaged;
    Value line;
  };
  for (const Case& c :
       {Case{"nom,n\nada,1\nbob,2\ncy,3\n", Value()},
        Case{"name,n\n\"ada,1\nbob,2\ncy,3\n", Value(int64_t{2})}}) {
    SCOPED_TRACE(c.damaged);
    std::string file = Write("t.csv", "name,n\nada,1\nbob,2\ncy,3\n");
    auto source = Open({.path = file});
    Write("t.csv", c.damaged);
    source->AssumeRows({{R("ada", 1), 1}, {R("bob", 2), 1}, {R("cy", 3), 1}});
    SourceDiff damaged = Poll(*source);
    EXPECT_THAT(damaged.rows, IsEmpty());  // nothing retracted
    ASSERT_EQ(damaged.quarantine.size(), 1u);
    EXPECT_EQ(damaged.quarantine[0].first[1], c.line);
    Write("t.csv", "name,n\nada,1\nbob,2\n");
    SourceDiff fixed = Poll(*source);
    EXPECT_THAT(fixed.rows, ElementsAre(Pair(R("cy", 3), -1)));
    EXPECT_EQ(fixed.quarantine.size(), 1u);
    EXPECT_EQ(fixed.quarantine[0].second, -1);
  }
}

TEST_F(SourceTest, PeekWithoutCommitGivesTheSameDifferenceAgain) {
  std::string file = Write("t.csv", "name,n\nada,1\n");
  auto source = Open({.path = file});
  Poll(*source);
  Write("t.csv", "name,n\nbob,2\n");
  auto first = source->Peek();
  ASSERT_THAT(first, IsOk());
  auto again = source->Peek();
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(first->rows, again->rows);
  EXPECT_EQ(first->rows.size(), 2u);
  source->Commit();
  EXPECT_TRUE(Poll(*source).empty());
}

// The watch re-reads only the records whose text is new (CSV, JSON Lines);
// whatever the edits, the differences it returns add up to exactly what a
// fresh read of the file gives (rows and quarantine, line numbers
// included). Lines of `pool` (each with its own line end, LF or CRLF) are
// inserted, removed and replaced at random, appended at the end (read from
// the last read record on), and the file sometimes ends without a line
// end (then the next append changes its last record).
void SourceTest::CheckIncrementalEqualsFresh(
    const std::string& name, const std::string& header,
    const std::vector<std::string>& pool) {
  const Schema schema({{"name", ValueType::kString}, {"n", ValueType::kInt64}});
  const bool csv = absl::EndsWith(name, ".csv");
  int held_steps = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    std::vector<std::string> lines;  // each with its line end
    bool final_line_end = true;
    auto text = [&] {
      std::string t = header;
      for (const std::string& l : lines) t += l;
      if (!final_line_end && !lines.empty()) {
        t.resize(t.size() - (absl::EndsWith(t, "\r\n") ? 2 : 1));
      }
      return t;
    };
    auto line = [&] {
      return pool[rng() % pool.size()] + (rng() % 4 ? "\n" : "\r\n");
    };
    std::string file = Write(name, text());
    auto source = Open({.path = file, .schema = schema});
    std::map<Row, int64_t> rows, quarantine;
    std::string accepted;  // the text whose rows the source holds
    int accepted_runaway = 0;
    for (int step = 0; step < 40; ++step) {
      const int edits = 1 + rng() % 3;
      for (int e = 0; e < edits; ++e) {
        const size_t at = lines.empty() ? 0 : rng() % lines.size();
        switch (rng() % 5) {
          case 0:
            lines.insert(lines.begin() + at, line());
            break;
          case 1:
            if (!lines.empty()) lines.erase(lines.begin() + at);
            break;
          case 2:
            if (!lines.empty()) lines[at] = line();
            break;
          default:
            lines.push_back(line());
        }
      }
      final_line_end = rng() % 5 != 0;
      const std::string now = text();
      Write(name, now);
      SourceDiff diff = Poll(*source);
      for (const auto& [row, n] : diff.rows) {
        if ((rows[row] += n) == 0) rows.erase(row);
      }
      for (const auto& [row, n] : diff.quarantine) {
        if ((quarantine[row] += n) == 0) quarantine.erase(row);
      }
      // A CSV quote never closed, new since the rows were read, holds them:
      // the source then equals a fresh read of what it last took, plus one
      // quarantine row at the quote's line.
      const int runaway = csv ? CsvRunawayQuoteLine(now) : 0;
      const bool held = step > 0 && runaway > 0 && accepted_runaway == 0;
      if (!held) {
        accepted = now;
        accepted_runaway = runaway;
      }
      Write(name, accepted);
      auto fresh = Open({.path = file, .schema = schema});
      SourceDiff all = Poll(*fresh);
      Write(name, now);
      std::map<Row, int64_t> took = quarantine;
      int held_rows = 0;
      for (auto it = took.begin(); it != took.end();) {
        if (!absl::StrContains(it->first[2].as_string(), "rows are held")) {
          ++it;
          continue;
        }
        EXPECT_EQ(it->first[1], Value(int64_t{runaway})) << "step " << step;
        held_rows += static_cast<int>(it->second);
        it = took.erase(it);
      }
      EXPECT_EQ(held_rows, held ? 1 : 0) << "step " << step;
      held_steps += held;
      ASSERT_EQ(rows,
                (std::map<Row, int64_t>(all.rows.begin(), all.rows.end())))
          << "step " << step << "\n[" << now << "]";
      ASSERT_EQ(took, (std::map<Row, int64_t>(all.quarantine.begin(),
                                              all.quarantine.end())))
          << "step " << step;
    }
  }
  // The pools with an unclosed quote reach the rule.
  if (csv && absl::c_any_of(pool, [](const std::string& l) {
        return CsvRunawayQuoteLine(l) > 0;
      })) {
    EXPECT_GT(held_steps, 0);
  }
}

// A grown file is read from its last read record on: past its first MiB an
// append costs the appended bytes (plus the first 4 KiB and that record),
// not the file; below, the bytes before that record are read to compare
// too, so any edit in place is noticed.
TEST_F(SourceTest, AppendsReadOnlyTheNewRecords) {
  for (const char* name : {"big.csv", "big.jsonl"}) {
    SCOPED_TRACE(name);
    const bool csv = absl::EndsWith(name, ".csv");
    auto record = [&](int i) {
      return csv ? absl::StrCat("r", i, ",", i, "\n")
                 : absl::StrCat("{\"name\": \"r", i, "\", \"n\": ", i, "}\n");
    };
    std::string text = csv ? "name,n\n" : "";
    constexpr int kRecords = 100000;  // over 1 MiB
    for (int i = 0; i < kRecords; ++i) text += record(i);
    ASSERT_GT(text.size(), 1u << 20);
    std::string file = Write(name, text);
    auto source = Open({.path = file});
    SourceDiff all = Poll(*source);
    EXPECT_EQ(all.rows.size(), size_t{kRecords});
    {
      std::ofstream out(file, std::ios::app);
      out << record(kRecords) << (csv ? "bad,x\n" : "{\"name\": 1}\n");
    }
    SourceDiff appended = Poll(*source);
    EXPECT_LT(appended.bytes_read, 4096u + 200u);
    EXPECT_THAT(appended.rows, ElementsAre(Pair(R("r100000", kRecords), 1)));
    ASSERT_EQ(appended.quarantine.size(), 1u);
    // The bad record's line is its line in the whole file.
    EXPECT_EQ(appended.quarantine[0].first[1].as_int64(),
              csv ? kRecords + 3 : kRecords + 2);
    // Nothing changed: the file is read whole once to compare.
    EXPECT_TRUE(Poll(*source).empty());
  }
}

// Below 1 MiB an edit in place that keeps the size before the last record
// and grows the file is still seen as the edit it is.
TEST_F(SourceTest, SmallFileEditAndAppendIsNotTakenForAnAppend) {
  std::string file = Write("e.csv", "name,n\nada,1\nbob,2\ncy,3\n");
  auto source = Open({.path = file});
  Poll(*source);
  Write("e.csv", "name,n\nada,1\nbix,2\ncy,3\ndee,4\n");
  EXPECT_THAT(Poll(*source).rows,
              ElementsAre(Pair(R("bix", 2), 1), Pair(R("bob", 2), -1),
                          Pair(R("dee", 4), 1)));
  // And a plain append after it is read as one.
  {
    std::ofstream out(file, std::ios::app);
    out << "eve,5\n";
  }
  SourceDiff appended = Poll(*source);
  EXPECT_THAT(appended.rows, ElementsAre(Pair(R("eve", 5), 1)));
  EXPECT_LT(appended.bytes_read, 60u);
}

// A large CSV's schema is guessed from its first megabyte and verified
// against the whole file: it is always the schema inferred from the whole.
TEST_F(SourceTest, SampledInferenceEqualsWholeFileInference) {
  struct Case {
    std::string late;  // the record after the first megabyte
    std::vector<ValueType> types;
    std::vector<bool> nullable;
  };
  for (const Case& c : std::vector<Case>{
           {"1,2,",
            {ValueType::kInt64, ValueType::kInt64, ValueType::kString},
            {false, false, true}},
           {"1.5,2,",
            {ValueType::kDouble, ValueType::kInt64, ValueType::kString},
            {false, false, true}},
           {"1,,7",
            {ValueType::kInt64, ValueType::kInt64, ValueType::kInt64},
            {false, true, true}},
           {"1,2,3,4",
            {ValueType::kInt64, ValueType::kInt64, ValueType::kString},
            {false, false, true}}}) {
    SCOPED_TRACE(c.late);
    std::string text = "a,b,c\n";
    while (text.size() < (1u << 20) + 100) text += "12345,678,\n";
    text += c.late + "\n";
    std::string file = Write("large.csv", text);
    auto source = Open({.path = file});
    const Schema& schema = source->schema();
    ASSERT_EQ(schema.size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(schema.fields()[i].type, c.types[i]) << i;
      EXPECT_EQ(schema.fields()[i].nullable, c.nullable[i]) << i;
    }
    // And the same as inferring from the whole file at once.
    auto table = ParseCsv(text, file);
    ASSERT_THAT(table.status(), IsOk());
    EXPECT_EQ(InferSchema(*table), schema);
  }
}

TEST_F(SourceTest, SampledJsonInferenceEqualsWholeFileInference) {
  // What comes after the first megabyte: a wider type, a null, a field
  // never seen before, nothing new, and a column empty in the sample.
  for (const bool lines : {true, false}) {
    for (const std::string late :
         {R"({"a":1.5,"b":"x"})", R"({"a":null,"b":"x"})",
          R"({"a":1,"b":"x","c":true})", R"({"a":3,"b":"y"})",
          R"({"a":3,"b":"y","n":7})"}) {
      SCOPED_TRACE(late + (lines ? " (lines)" : " (array)"));
      const std::string record = R"({"a":12345,"b":"abc","n":null})";
      std::string text = lines ? "" : "[";
      while (text.size() < (1u << 20) + 100) {
        text += record + (lines ? "\n" : ",\n");
      }
      text += late + (lines ? "\n" : "]\n");
      std::string file = Write(lines ? "large.jsonl" : "large.json", text);
      auto source = Open({.path = file});
      auto table = ParseJson(text, file,
                             lines ? JsonFormat::kLines : JsonFormat::kArray);
      ASSERT_THAT(table.status(), IsOk());
      EXPECT_EQ(source->schema(), InferSchema(*table));
      int64_t rows = 0;
      for (const auto& [row, n] : Poll(*source).rows) rows += n;
      EXPECT_EQ(rows, static_cast<int64_t>(table->records.size()));
    }
  }
  // A sample ends after a whole record: records spanning the cut are kept.
  std::string text = "[";
  while (text.size() < (1u << 20) - 10) text += R"({"a":1,"b":"abc"},)";
  text += R"({"a":2,"b":")" + std::string(100, 'x') + R"("}])";
  EXPECT_GT(JsonArraySamplePrefix(text, 1u << 20), 0u);
  EXPECT_LE(JsonArraySamplePrefix(text, 1u << 20), size_t{1} << 20);
  EXPECT_EQ(text[JsonArraySamplePrefix(text, 1u << 20) - 1], '}');
  EXPECT_EQ(JsonArraySamplePrefix("[1, 2]", 100), 0u);
  EXPECT_EQ(JsonArraySamplePrefix("{\"a\": 1}", 100), 0u);
}

// Large files are read in parallel blocks; the rows and the quarantine
// (reasons and lines included) are exactly those of the whole-file reader
// (ParseCsv / ParseJson, then ToRows), duplicates and bad records too.
TEST_F(SourceTest, ParallelReadEqualsTheWholeFileReader) {
  const Schema schema({{"name", ValueType::kString}, {"n", ValueType::kInt64}});
  for (const char* name : {"par.csv", "par.jsonl"}) {
    SCOPED_TRACE(name);
    const bool csv = absl::EndsWith(name, ".csv");
    std::mt19937_64 rng(3);
    std::string text = csv ? "name,n\n" : "";
    for (int i = 0; i < 150000; ++i) {
      const int64_t n = static_cast<int64_t>(rng() % 50000);
      switch (rng() % 20) {
        case 0:  // a bad value
          text +=
              csv ? absl::StrCat("r", n, ",x\n")
                  : absl::StrCat("{\"name\": \"r", n, "\", \"n\": \"x\"}\n");
          break;
        case 1:  // unreadable
          text += csv ? "q\"x,1\n" : "{\"name\": \n";
          break;
        default:
          text +=
              csv ? absl::StrCat("r", n, ",", n, "\n")
                  : absl::StrCat("{\"name\": \"r", n, "\", \"n\": ", n, "}\n");
      }
    }
    std::string file = Write(name, text);
    auto source = Open({.path = file, .schema = schema});
    SourceDiff diff = Poll(*source);

    std::map<Row, int64_t> rows, quarantine;
    std::vector<Quarantined> refused;
    if (csv) {
      auto table = ParseCsv(text, file);
      ASSERT_THAT(table.status(), IsOk());
      CsvRows converted = ToRows(*table, schema);
      for (auto& [line, row] : converted.rows) ++rows[row];
      refused = converted.quarantine;
    } else {
      auto table = ParseJson(text, file, JsonFormat::kLines);
      ASSERT_THAT(table.status(), IsOk());
      JsonRows converted = ToRows(*table, schema);
      for (auto& [line, row] : converted.rows) ++rows[row];
      refused = converted.quarantine;
    }
    for (const Quarantined& q : refused) {
      ++quarantine[Row{Value(q.file), Value(int64_t{q.line}), Value(q.reason)}];
    }
    EXPECT_GT(quarantine.size(), 10000u);
    EXPECT_GT(rows.size(), 40000u);
    EXPECT_EQ(rows,
              (std::map<Row, int64_t>(diff.rows.begin(), diff.rows.end())));
    EXPECT_EQ(quarantine, (std::map<Row, int64_t>(diff.quarantine.begin(),
                                                  diff.quarantine.end())));
  }
}

TEST_F(SourceTest, IncrementalCsvEqualsAFreshRead) {
  CheckIncrementalEqualsFresh(
      "t.csv", "name,n\n",
      {"ada,1", "ada,1", "bob,2", "cy,3", "\"d,e\",4", "bad,x", "q\"uote,5",
       "\"two\nlines\",6", "short", "a,1,extra", ",7", "\"\"\"q\"\"\",8",
       "zoë,9", "", "ok,10", "\"open,11"});
}

TEST_F(SourceTest, IncrementalJsonLinesEqualsAFreshRead) {
  CheckIncrementalEqualsFresh(
      "t.jsonl", "",
      {R"({"name": "ada", "n": 1})", R"({"name": "ada", "n": 1})",
       R"({"n": 2, "name": "bob"})", R"({"name": "b", "n": "x"})",
       R"({"name": )", "", "   ", R"({"zz": 1})", R"({"name": "c", "n": null})",
       R"({"name": "z\u00f6", "n": 3})", R"([1, 2])", R"({"name": "d"})",
       R"({"name": "e", "n": 1.5})"});
}

TEST_F(SourceTest, IncrementalChangeLogEqualsAFreshRead) {
  CheckIncrementalEqualsFresh(
      "t.changes.csv", "diff,name,n\n",
      {"+1,ada,1", "-1,ada,1", "2,bob,2", "-2,bob,2", "+1,\"d,e\",4",
       "0,zero,1", "x,bad,1", "+1,bad,x", "+1,short", "\"+1\",q,5", "",
       "-1,cy,3", "+3,cy,3"});
}

// A change log: each record adds (diff > 0) or retracts (diff < 0) its row
// that many times; the source's rows are what the records sum to.
TEST_F(SourceTest, ChangeLogRowsAreTheSumOfTheirChanges) {
  std::string file = Write("orders.changes.csv",
                           "diff,name,n\n+1,ada,1\n+1,bob,2\n-1,ada,1\n"
                           "2,cy,3\n0,zero,1\nx,bad,1\n+1,short\n"
                           "1099511627777,huge,1\n");
  auto source = Open({.path = file});
  EXPECT_EQ(source->format(), SourceFormat::kCsvChanges);
  ASSERT_EQ(source->schema().size(), 2u);  // the diff is not a column
  EXPECT_EQ(source->schema().fields()[0].name, "name");
  EXPECT_EQ(source->schema().fields()[1].type, ValueType::kInt64);
  SourceDiff all = Poll(*source);
  EXPECT_THAT(all.rows, ElementsAre(Pair(R("bob", 2), 1), Pair(R("cy", 3), 2)));
  std::vector<std::string> reasons;
  for (const auto& [row, n] : all.quarantine) {
    reasons.push_back(
        absl::StrCat(row[1].as_int64(), ": ", row[2].as_string()));
  }
  EXPECT_THAT(reasons,
              ElementsAre("6: field 'diff' expects a non-zero integer, got '0'",
                          "7: field 'diff' expects a non-zero integer, got 'x'",
                          "8: has 2 fields, the header has 3",
                          "9: field 'diff' is 1099511627777, beyond the "
                          "limit of +-2^40 copies of a row"));
  // Appending changes reads only them.
  {
    std::ofstream out(file, std::ios::app);
    out << "-1,bob,2\n+1,dee,4\n";
  }
  SourceDiff appended = Poll(*source);
  EXPECT_THAT(appended.rows,
              ElementsAre(Pair(R("bob", 2), -1), Pair(R("dee", 4), 1)));
  EXPECT_LT(appended.bytes_read, 200u);
  // Removing a change in place undoes it.
  Write("orders.changes.csv", "diff,name,n\n+1,bob,2\n2,cy,3\n-1,bob,2\n");
  EXPECT_THAT(Poll(*source).rows, ElementsAre(Pair(R("dee", 4), -1)));
  // A change log's first column is its diff.
  std::string plain = Write("plain.changes.csv", "name,n\nada,1\n");
  absl::Status refused = FileSource::Open({.path = plain}).status();
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(refused.message(),
              HasSubstr("plain.changes.csv: a change log's first column "
                        "must be 'diff'"));
}

TEST(ConsolidateRowDiffsTest, EqualsCountingInAMap) {
  // Large enough to sort in parallel; rows that tie on their first value
  // (the sort prefix) and differ later, and counts that cancel.
  std::mt19937_64 rng(11);
  for (size_t size : {size_t{40}, size_t{60'000}}) {
    RowDiffs diffs;
    std::map<Row, int64_t> want;
    for (size_t i = 0; i < size; ++i) {
      Row row{Value(static_cast<int64_t>(rng() % 50)),
              Value(absl::StrCat("k", rng() % 300))};
      if (rng() % 3 == 0)
        row = Row{Value("s"), Value(static_cast<int64_t>(rng() % 7))};
      const int64_t n = static_cast<int64_t>(rng() % 5) - 2;
      diffs.emplace_back(row, n);
      if ((want[row] += n) == 0) want.erase(row);
    }
    ConsolidateRowDiffs(&diffs);
    EXPECT_EQ(diffs, RowDiffs(want.begin(), want.end())) << size;
  }
}

// Rows already in the order of their first value's prefix (as a file
// sorted by its first column gives them) take the path that sorts only the
// groups sharing a prefix: groups whose first values are equal (ordered by
// the second value), and groups whose first values differ under one prefix
// (integers apart only in their lowest bits, strings apart after 8 bytes),
// rows of one value, empty rows, and counts that cancel.
TEST(ConsolidateRowDiffsTest, RowsInPrefixOrderEqualCountingInAMap) {
  std::mt19937_64 rng(5);
  for (size_t size : {size_t{50}, size_t{80'000}}) {
    std::vector<Row> pool;
    for (int64_t first = 0; first < 64; ++first) {
      for (int second = 0; second < 4; ++second) {
        pool.push_back(Row{Value(first), Value(absl::StrCat("v", rng() % 9))});
      }
      pool.push_back(Row{Value(first)});
    }
    for (int i = 0; i < 20; ++i) {
      pool.push_back(Row{Value(absl::StrCat("same8chr", rng() % 5)),
                         Value(static_cast<int64_t>(rng() % 3))});
    }
    pool.push_back(Row{});
    RowDiffs diffs;
    std::map<Row, int64_t> want;
    for (size_t i = 0; i < size; ++i) {
      const Row& row = pool[rng() % pool.size()];
      const int64_t n = static_cast<int64_t>(rng() % 5) - 2;
      diffs.emplace_back(row, n);
      if ((want[row] += n) == 0) want.erase(row);
    }
    std::stable_sort(diffs.begin(), diffs.end(),
                     [](const auto& a, const auto& b) {
                       return a.first.SortPrefix() < b.first.SortPrefix();
                     });
    ConsolidateRowDiffs(&diffs);
    EXPECT_EQ(diffs, RowDiffs(want.begin(), want.end())) << size;
  }
}

TEST_F(SourceTest, ErrorsNameThePath) {
  auto missing = FileSource::Open({.path = (dir_ / "none.csv").string()});
  EXPECT_THAT(missing, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("none.csv"));
  EXPECT_THAT(FileSource::Open({.path = Write("t.parquet", "x")}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(FileSource::Open({.path = dir_.path()}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(
      FileSource::Open({.path = dir_.path(), .format = SourceFormat::kCsv}),
      StatusIs(absl::StatusCode::kFailedPrecondition));
  std::string file = Write("t.csv", "a\n1\n");
  auto source = Open({.path = file});
  Poll(*source);
  std::filesystem::remove(file);
  auto gone = source->Poll();
  EXPECT_THAT(gone, StatusIs(absl::StatusCode::kNotFound));
  // The source is unchanged: the file coming back gives no difference.
  Write("t.csv", "a\n1\n");
  EXPECT_TRUE(Poll(*source).empty());
}

}  // namespace
}  // namespace diffmesh
