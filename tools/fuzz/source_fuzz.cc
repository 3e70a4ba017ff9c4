// Fuzzes a watched file end to end (catalog/source.h): the bytes become a
// file that is opened, polled, grown and polled again. The first byte picks
// the format (CSV, JSON Lines, JSON array, change log), the second where
// the rest is cut into the file's first text and what is appended to it.
// Besides not crashing, it asserts on every input:
// - Open refuses only with InvalidArgument or FailedPrecondition naming
//   the file, and a poll of a file that opened never fails;
// - what the two polls return adds up to exactly what a fresh source reads
//   from the grown file with the same schema (rows and quarantine), when
//   the fresh one can open it: the append path, the record memo and the
//   quick parsers never disagree with a whole read;
// - unless the growth brought a CSV quote that is never closed: then the
//   second poll holds the rows and quarantines the quote's line.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "absl/strings/match.h"
#include "catalog/csv.h"
#include "catalog/source.h"
#include "tools/fuzz/fuzz_check.h"

namespace diffmesh {
namespace {

// One temporary directory per process, removed at exit.
struct TempDirectory {
  std::string path;
  TempDirectory() {
    std::string pattern = "/tmp/diffmesh_source_fuzz_XXXXXX";
    FUZZ_CHECK(::mkdtemp(pattern.data()) != nullptr,
               "cannot make a temporary directory");
    path = pattern;
  }
  ~TempDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

const std::string& Directory() {
  static const TempDirectory dir;
  return dir.path;
}

void Write(const std::string& path, absl::string_view text, bool append) {
  std::ofstream out(path, append ? std::ios::binary | std::ios::app
                                 : std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

using Counts = std::map<Row, int64_t>;

void Add(const RowDiffs& diffs, Counts* into) {
  for (const auto& [row, n] : diffs) {
    if (((*into)[row] += n) == 0) into->erase(row);
  }
}

void FuzzSource(absl::string_view input) {
  if (input.size() < 2) return;
  static const char* const kNames[] = {"f.csv", "f.jsonl", "f.json",
                                       "f.changes.csv"};
  const std::string path =
      Directory() + "/" + kNames[static_cast<uint8_t>(input[0]) % 4];
  const size_t cut = (input.size() - 2) * static_cast<uint8_t>(input[1]) / 256;
  const absl::string_view body = input.substr(2);
  Write(path, body.substr(0, cut), false);

  absl::StatusOr<std::unique_ptr<FileSource>> source =
      FileSource::Open({.path = path});
  if (!source.ok()) {
    const absl::StatusCode code = source.status().code();
    FUZZ_CHECK(code == absl::StatusCode::kInvalidArgument ||
                   code == absl::StatusCode::kFailedPrecondition,
               "Open refused with an unexpected code");
    FUZZ_CHECK(absl::StrContains(source.status().message(), path),
               "Open's error does not name the file");
    return;
  }
  Counts rows, quarantine;
  absl::StatusOr<SourceDiff> first = (*source)->Poll();
  FUZZ_CHECK(first.ok(), "the first poll of an opened file failed");
  Add(first->rows, &rows);
  Add(first->quarantine, &quarantine);

  Write(path, body.substr(cut), true);
  absl::StatusOr<SourceDiff> grown = (*source)->Poll();
  FUZZ_CHECK(grown.ok(), "the poll of a grown file failed");
  Add(grown->rows, &rows);
  Add(grown->quarantine, &quarantine);

  // A CSV quote never closed that the growth brought holds the rows read
  // before (catalog/source.h, runaway quotes), with one quarantine row at
  // the quote's line.
  const bool csv = (*source)->format() == SourceFormat::kCsv ||
                   (*source)->format() == SourceFormat::kCsvChanges;
  const int runaway = csv ? CsvRunawayQuoteLine(body) : 0;
  if (runaway > 0 && cut < body.size() &&
      CsvRunawayQuoteLine(body.substr(0, cut)) == 0) {
    FUZZ_CHECK(grown->rows.empty(), "a runaway quote did not hold the rows");
    int held = 0;
    for (const auto& [row, n] : grown->quarantine) {
      if (n == 1 && row[1] == Value(int64_t{runaway}) &&
          absl::StrContains(row[2].as_string(), "rows are held")) {
        ++held;
      }
    }
    FUZZ_CHECK(held == 1, "a held file has no quarantine row saying so");
    return;
  }

  absl::StatusOr<std::unique_ptr<FileSource>> fresh =
      FileSource::Open({.path = path, .schema = (*source)->schema()});
  if (!fresh.ok()) return;  // the watching source keeps the last good rows
  absl::StatusOr<SourceDiff> all = (*fresh)->Poll();
  FUZZ_CHECK(all.ok(), "a fresh poll failed");
  Counts want_rows, want_quarantine;
  Add(all->rows, &want_rows);
  Add(all->quarantine, &want_quarantine);
  FUZZ_CHECK(rows == want_rows,
             "the polls' rows differ from a fresh read of the file");
  FUZZ_CHECK(quarantine == want_quarantine,
             "the polls' quarantine differs from a fresh read of the file");
}

}  // namespace
}  // namespace diffmesh

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  diffmesh::FuzzSource(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
