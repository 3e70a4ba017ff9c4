// FileSource: a watched CSV, JSON, JSON Lines or change-log file (or a
// directory of them) turned into exact row differences.
//
//   DM_ASSIGN_OR_RETURN(auto source, FileSource::Open({.path = "orders.csv"}));
//   DM_ASSIGN_OR_RETURN(SourceDiff diff, source->Poll());   // all rows, first
//   ... the file is edited ...
//   DM_ASSIGN_OR_RETURN(diff, source->Poll());   // only the rows that changed
//
// Change logs, for producers that know their changes: a CSV file named
// *.changes.csv (or SourceFormat::kCsvChanges) whose first column is
// `diff`, a non-zero integer, and whose other columns are the rows':
//
//   diff,name,n
//   +1,ada,1        <- ada,1 added
//   2,bob,2         <- bob,2 added twice
//   -1,ada,1        <- ada,1 retracted again
//
// The source's rows are what the records add up to (here bob,2 twice); a
// record whose diff is not a non-zero integer is quarantined like any bad
// record. Appending records costs the appended records, as below, and
// removing a record undoes it. A row retracted more often than it was added
// is held with a negative count: the log's producer must not do that.
//
// Sources live in catalog/ (not storage/): they turn text into rows and
// quarantine entries and need nothing but the row types; making what they
// produce durable is the mesh's job (MeshStore), done before a batch enters
// the dataflow.
//
// Watching. Each Poll reads every file of the source, re-parses only those
// whose content changed since the last poll (of a CSV file whose header
// stayed, or of a JSON Lines file, only the records whose text is new or
// gone: the source keeps the text it last read, LZ4-packed, and the
// hashes of its bad records, never a row per record; the consumer holds
// the rows), and returns the difference of the multiset of rows:
// retractions (-n) and insertions (+n). A rewritten file
// with two rows edited gives two retractions and two insertions, not a
// reload. Appends cost the append: a CSV or JSON Lines file that grew (the
// same file, not a replaced one), whose bytes before its last read record
// and that record are unchanged and whose text ended with a line end, is
// read only from its last read record on (that record is read again to
// find where the new ones start). Up to 1 MiB before the last record every
// byte is compared; past that only the first 4 KiB are, so in a larger
// file an edit in place that also grows the file and leaves those bytes
// and the size before the last record alike is taken for an append. A file
// of the same size is read whole and compared. A directory source holds every
// regular file directly inside it whose extension fits the format (.csv, .json,
// .jsonl/.ndjson); files that appear add their rows, files that disappear
// retract theirs.
//
// Bad input. A record that does not parse or fit the schema becomes a
// quarantine row (QuarantineSchema(): file, line, reason) and the rest of
// the file is used; quarantine rows are differenced like data rows, so a
// fixed record leaves the quarantine. Open reads every file once: a missing
// path, an unreadable file, an unknown format or a file that is not in its
// format at all (no CSV header or not the schema's, a broken JSON array) is
// an error (NotFound, PermissionDenied, InvalidArgument) naming the file.
// Later, while watching, such a file keeps the rows it last had and adds
// one quarantine row (line null) saying why; after AssumeRows, a source
// keeps the assumed rows until every one of its files parses.
//
// Runaway quotes. A CSV quote that is never closed makes its record run to
// the end of the file, so one damaged byte would retract every later row.
// A file that read without one (or after AssumeRows, any file) and now has
// one keeps the rows it last had, with one quarantine row at the line
// where the quote opened saying so, until it reads without one; a file
// that already had one when it was read (its rows are what it gave then) is
// read as it is, the runaway record quarantined.
//
// Shrinking files. A file of at least SourceOptions::shrink_guard_bytes (1
// MiB) that loses more than shrink_guard_share (half) of its bytes from one
// poll to the next keeps the rows it had, with one quarantine row (line
// null) giving both sizes, until it is back above that share or
// AcceptFiles says to take it as it is.
//
// Schema. Given (SourceOptions::schema), or inferred on Open from the first
// file in name order (catalog/csv.h, catalog/json.h give the rules; a CSV
// JSON Lines or JSON
// array file over 1 MiB is inferred from its first MiB (whole records), then
// verified against the
// whole file and inferred from the whole if any record does not fit or a
// column had no value in the sample, so the result is always the whole
// file's schema). For CSV, a file whose header does not name the schema's
// columns in order is quarantined as a whole.
//
// Large files are read in parallel (oneTBB), every record in its own slot,
// and the text is packed meanwhile; quarantine rows are taken in file
// order, so the result is the sequential read's.
//
// Thread compatibility: one caller at a time.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "catalog/csv.h"
#include "catalog/internal/packed_text.h"
#include "catalog/row.h"
#include "catalog/schema.h"
#include "engine/stable_hash.h"

namespace diffmesh {

enum class SourceFormat { kAuto, kCsv, kJson, kJsonLines, kCsvChanges };

// "auto", "csv", "json", "jsonl", "csv-changes".
const char* SourceFormatName(SourceFormat format);

struct SourceOptions {
  std::string path;  // a file, or a directory of files
  // kAuto: by extension (.csv, .json, .jsonl or .ndjson, .changes.csv for
  // a change log); a directory needs an explicit format.
  SourceFormat format = SourceFormat::kAuto;
  std::optional<Schema> schema;  // inferred when absent
  // The shrink guard: a file of at least `shrink_guard_bytes` that loses
  // more than `shrink_guard_share` of its bytes in one poll (a truncated or
  // half-rewritten file) keeps its previous rows, with a quarantine row
  // saying so, until it is back above that share of the size it had or the
  // source is told to take its files as they are (AcceptFiles). A share of
  // 1 turns the guard off. InvalidArgument outside (0, 1].
  double shrink_guard_share = 0.5;
  uint64_t shrink_guard_bytes = uint64_t{1} << 20;
  // Mesh::Source only. Whether the mesh keeps the source's own rows for
  // its reads (Read, ReadAsOf, DataVersions, subscriptions, Use while
  // running). false: they only flow to the tables built on the source (a
  // source read to compute other products, such as a profile: the mesh
  // holds no copy of its rows), and those reads of it are
  // FailedPrecondition; its quarantine is kept.
  bool keep_rows = true;
};

using RowDiffs = std::vector<std::pair<Row, int64_t>>;
using RowCounts = absl::flat_hash_map<Row, int64_t>;

struct SourceDiff {
  RowDiffs rows;        // consolidated; sorted by row
  RowDiffs quarantine;  // rows of QuarantineSchema(), consolidated
  std::vector<std::string> files_changed;  // re-parsed, appeared or vanished
  // Bytes of files this poll read (an append: about the new records).
  uint64_t bytes_read = 0;
  bool empty() const { return rows.empty() && quarantine.empty(); }
};

class FileSource {
 public:
  static absl::StatusOr<std::unique_ptr<FileSource>> Open(
      SourceOptions options);

  const Schema& schema() const { return schema_; }
  SourceFormat format() const { return format_; }
  const std::string& path() const { return options_.path; }

  // The rows the consumer already holds (e.g. restored from a durable log).
  // The next Poll returns the difference from them instead of from nothing.
  // REQUIRES: called before the first Poll.
  void AssumeRows(const RowDiffs& rows);

  // The difference since the last poll (since nothing, or AssumeRows, for
  // the first). An error leaves the source as it was: NotFound if the path
  // vanished, PermissionDenied/Unavailable for read failures.
  absl::StatusOr<SourceDiff> Poll();
  // Poll in two steps, for a consumer that must make the difference
  // durable first: Peek computes it without changing the source; Commit
  // makes the last Peek's difference the source's state. Without a Commit
  // the next Peek or Poll returns it again.
  absl::StatusOr<SourceDiff> Peek();
  void Commit();
  // The next poll takes the files as they are, past the shrink guard and
  // the runaway-quote rule (a file truncated on purpose).
  void AcceptFiles() { accept_files_ = true; }

 private:
  // What one record of a CSV or JSON Lines file reads as.
  enum RecordOutcome { kRow, kBad, kBlank };
  // Where a file read by record can be read on from when it grows: its
  // identity and size at the last read, its bytes before the last record
  // (only the first 4 KiB of them past 1 MiB), and
  // where its last record starts (and on which line) with the bytes from
  // there to the end. `ok` only when the text read ended with a line end.
  struct AppendPoint {
    bool ok = false;
    uint64_t device = 0, inode = 0;
    size_t size = 0;
    std::string head;
    size_t last_start = 0;
    int last_line = 1;
    size_t last_size = 0;  // the last record's text, without its line end
    std::string tail;
  };
  struct FileState {
    size_t content_hash = 0;  // 0 after an append: unknown
    AppendPoint append;
    bool parsed = true;  // false: the file could not be parsed at all
    // A file read whole (a JSON array): its rows.
    RowCounts rows;
    RowCounts quarantine;
    // CSV and JSON Lines are read record by record and keep no rows: the
    // consumer of the differences holds those. They keep the text read,
    // packed (about a third of its size for CSV), so an edit in place is
    // compared with it and only the records whose text changed are read;
    // and the hashes of the record texts that read as bad, so the
    // quarantine of the unchanged ones is known.
    bool by_record = false;
    std::string header;
    internal::PackedText text;  // the whole file as read
    absl::flat_hash_set<Hash128> bad;
    // A CSV file whose last record is a quote never closed (it runs to the
    // end of the file) as read: a later read with one is taken as it is.
    bool runaway = false;
    // The quarantine row saying why the file's rows are held (a read
    // damaged by a runaway quote, a file shrunk past the guard), in
    // `quarantine` too.
    std::optional<Row> held;
    // The size of the file whose rows these are.
    uint64_t size = 0;
  };
  // What a poll found for one file, applied by Commit.
  struct FileChange {
    bool vanished = false;
    std::optional<FileState> replace;  // the file's whole new state
    // Otherwise the file grew by appended records:
    std::string appended;               // the bytes after its old end
    std::vector<Hash128> bad_appended;  // bad record texts among them
    RowCounts quarantine;               // the file's whole new quarantine
    AppendPoint append;
  };
  // Open's reading of a file, for the first poll.
  struct Opened {
    FileState state;
    RowDiffs rows;
  };
  FileSource(SourceOptions options, SourceFormat format, Schema schema)
      : options_(std::move(options)), format_(format), schema_(schema) {}
  absl::StatusOr<std::vector<std::string>> ListFiles() const;
  // Parses `text` of `file` into `state` (quarantine and what later polls
  // compare with) and appends every row it holds to `rows`. When the file
  // cannot be parsed at all, quarantines the file and returns why.
  absl::Status Parse(const std::string& file, const std::string& text,
                     const struct stat& st, FileState* state,
                     RowDiffs* rows) const;
  // The records of a CSV (after its header, returned in `header`) or JSON
  // Lines text, as (line, text).
  std::vector<CsvSpan> SplitRecords(absl::string_view text,
                                    absl::string_view* header) const;
  // What one record reads as: a row (with its weight), a bad record (and
  // why), or nothing.
  RecordOutcome ReadRecord(const std::string& file, const CsvSpan& record,
                           Row* row, int64_t* weight,
                           std::string* reason) const;
  // Reads `records` (in parallel when many): appends `sign` times each
  // row (with its weight) to `rows`; quarantines each bad record at its
  // line in `quarantine` and adds its text's hash to `bad` (either may be
  // null).
  void ReadRecords(const std::string& file, const std::vector<CsvSpan>& records,
                   int64_t sign, RowDiffs* rows, RowCounts* quarantine,
                   absl::flat_hash_set<Hash128>* bad) const;
  bool IsCsv() const {
    return format_ == SourceFormat::kCsv ||
           format_ == SourceFormat::kCsvChanges;
  }
  // Parse's record-by-record reading (CSV after its header is checked,
  // JSON Lines).
  void BuildByRecord(const std::string& file, const std::string& text,
                     const struct stat& st, FileState* state,
                     RowDiffs* rows) const;
  // The append point of `text` whose records are `records` after `header`.
  AppendPoint AppendPointOf(absl::string_view text, absl::string_view header,
                            const std::vector<CsvSpan>& records,
                            const struct stat& st) const;
  // A file that grew: `region` is what it holds from before.append's last
  // record on. Reads only the records after that one (their rows go to
  // `rows`); false when the file must be read whole (the old last record
  // reads differently now).
  bool PeekAppended(const std::string& file, const std::string& region,
                    const FileState& before, FileChange* change,
                    RowDiffs* rows) const;
  // A file read record by record before, against its previous state: only
  // the records whose text is new or gone are read (the row changes go to
  // `rows`). False when it must be read whole (the CSV header changed, or
  // it was not read by record).
  bool PeekRecords(const std::string& file, const std::string& text,
                   const struct stat& st, const FileState& before,
                   FileChange* change, RowDiffs* rows) const;

  // Compares a file read whole with its state `before` (kNoFile when
  // new) and adds what changed to the poll's results.
  void ProcessWhole(const std::string& file, const std::string& text,
                    const struct stat& st, const FileState& before,
                    SourceDiff* diff, RowDiffs* rows, RowCounts* quarantine,
                    std::map<std::string, FileChange>* changes) const;
  static const FileState kNoFile;
  // A new state holding `before`'s rows, text and quarantine (without its
  // held row), to be read whole next time.
  static FileState HeldCopy(const FileState& before);
  // Appends `sign` times every row of `state` to `into` (a file read by
  // record is read again from its packed text).
  void AddRows(const FileState& state, int64_t sign, RowDiffs* into) const;

  SourceOptions options_;
  SourceFormat format_;
  Schema schema_;
  bool is_directory_ = false;
  std::map<std::string, FileState> files_;
  // Open's reading of each file, taken over by the first poll (moved out,
  // hence mutable) when the file has not changed since.
  mutable std::map<std::string, Opened> opened_;
  std::optional<RowCounts> assumed_;
  bool accept_files_ = false;  // AcceptFiles: until the next Commit
  // The last Peek's changed files (nullopt: vanished), for Commit.
  std::optional<std::map<std::string, FileChange>> peeked_;
  bool peeked_consumes_assumed_ = false;
};

// Sorts `diffs` by row (in parallel when large), adds up the counts of
// equal rows and drops the zeros: changes gathered in any order become a
// SourceDiff's. Cheaper than counting in a hash map, which a large
// difference would fill only to be sorted after.
void ConsolidateRowDiffs(RowDiffs* diffs);

// Reads `length` bytes of a file from `offset` (fewer at its end).
absl::StatusOr<std::string> ReadFileRange(const std::string& path,
                                          size_t offset, size_t length);

// Reads a whole file; NotFound / PermissionDenied / Unavailable naming it.
absl::StatusOr<std::string> ReadFileToString(const std::string& path);

}  // namespace diffmesh
