#include "catalog/source.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "catalog/csv.h"
#include "catalog/json.h"
#include "catalog/table.h"
#include "engine/runtime.h"
#include "tbb/blocked_range.h"
#include "tbb/parallel_for.h"
#include "tbb/parallel_sort.h"
#include "tbb/task_arena.h"
#include "tbb/task_group.h"

namespace diffmesh {
namespace {

// oneTBB sizes its pool once, from the CPUs of the thread that first asks:
// ask before Runtime pins a worker, or the parse and sort below, run inside
// a pinned worker, would get one CPU.
[[maybe_unused]] const bool kAskOneTbbBeforePinning = [] {
  Runtime::BeforePinning([] { (void)tbb::this_task_arena::max_concurrency(); });
  return true;
}();

absl::Status FileError(const std::string& path, int error) {
  std::string message = absl::StrCat(path, ": ", std::strerror(error));
  switch (error) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    case EISDIR:
      return absl::InvalidArgumentError(message);
    default:
      return absl::UnavailableError(message);
  }
}

std::optional<SourceFormat> FormatOf(const std::string& path) {
  if (absl::EndsWith(path, ".changes.csv")) return SourceFormat::kCsvChanges;
  if (absl::EndsWith(path, ".csv")) return SourceFormat::kCsv;
  if (absl::EndsWith(path, ".json")) return SourceFormat::kJson;
  if (absl::EndsWith(path, ".jsonl") || absl::EndsWith(path, ".ndjson")) {
    return SourceFormat::kJsonLines;
  }
  return std::nullopt;
}

// Records are read kParseBlock at a time, in parallel when a block holds at
// least kParallelParseMin of them.
constexpr size_t kParseBlock = 1 << 16;
constexpr size_t kParallelParseMin = 1 << 13;

// Before reading a grown file from its last record on, a poll checks that
// the bytes before that record are as they were: all of them while there
// are at most kExactPrefixBytes (an edit in place is always noticed), else
// the first kHeadBytes.
constexpr size_t kExactPrefixBytes = 1 << 20;
constexpr size_t kHeadBytes = 1 << 12;

size_t HeadSize(size_t last_start) {
  return last_start <= kExactPrefixBytes ? last_start
                                         : std::min(last_start, kHeadBytes);
}

// What tells a file's text from the one read before (XXH3: a pass over a
// large file at memory speed).
size_t ContentHash(absl::string_view text) {
  return StableHashBytes(text.data(), text.size());
}

// A record's key: a 128-bit hash of its text.
Hash128 KeyOf(absl::string_view record) {
  return StableHash128Bytes(record.data(), record.size());
}

Row QuarantineRow(const Quarantined& q) {
  return Row{Value(q.file), q.line > 0 ? Value(int64_t{q.line}) : Value(),
             Value(q.reason)};
}

void AddCount(RowCounts* into, const Row& row, int64_t n) {
  int64_t& slot = (*into)[row];
  slot += n;
  if (slot == 0) into->erase(row);
}

// Adds `after` - `before` into `into`, touching only rows that differ.
void DiffInto(RowCounts* into, const RowCounts& before,
              const RowCounts& after) {
  for (const auto& [row, n] : after) {
    auto old = before.find(row);
    const int64_t was = old == before.end() ? 0 : old->second;
    if (n != was) AddCount(into, row, n - was);
  }
  for (const auto& [row, n] : before) {
    if (!after.contains(row)) AddCount(into, row, -n);
  }
}

RowDiffs Sorted(const RowCounts& counts) {
  RowDiffs out(counts.begin(), counts.end());
  std::sort(out.begin(), out.end());
  return out;
}

// Below this many changes a plain sort is quicker than starting tasks.
constexpr size_t kParallelSortMin = 1 << 14;

// A change log's first column: how often the rest of its record is added
// (a positive integer) or retracted (a negative one).
constexpr char kDiffColumn[] = "diff";

// A change-log diff's largest magnitude: 2^40 (about 10^12 copies of a
// row), so that no file can make the sums of diffs overflow 64 bits.
constexpr int64_t kMaxChangeLogDiff = int64_t{1} << 40;

// The diff of a change-log record, or why it is not one.
std::string ParseDiff(absl::string_view text, int64_t* diff) {
  absl::StatusOr<Value> v = ParseField(text, ValueType::kInt64);
  if (!v.ok() || v->is_null() || v->as_int64() == 0) {
    return absl::StrCat("field '", kDiffColumn,
                        "' expects a non-zero integer, got '", text, "'");
  }
  if (v->as_int64() > kMaxChangeLogDiff || v->as_int64() < -kMaxChangeLogDiff) {
    return absl::StrCat("field '", kDiffColumn, "' is ", text,
                        ", beyond the limit of +-2^40 copies of a row");
  }
  *diff = v->as_int64();
  return "";
}

// CSV and JSON Lines schemas are inferred from the records in the first
// this many bytes; Open then verifies the guess against the whole file.
constexpr size_t kInferenceSampleBytes = 1 << 20;

// `sampled` says the schema came from a prefix of `text` and
// must be verified: set when the text is longer than the sample.
absl::StatusOr<Schema> InferFrom(const std::string& file,
                                 const std::string& text, SourceFormat format,
                                 bool allow_sample, bool* sampled) {
  *sampled = false;
  if (format == SourceFormat::kCsv || format == SourceFormat::kCsvChanges) {
    absl::string_view sample = text;
    if (allow_sample && text.size() > kInferenceSampleBytes) {
      const size_t cut = text.rfind('\n', kInferenceSampleBytes);
      if (cut != std::string::npos) {
        sample = absl::string_view(text).substr(0, cut + 1);
        *sampled = true;
      }
    }
    absl::StatusOr<CsvTable> table = ParseCsv(sample, file);
    if (!table.ok()) return table.status();
    if (format == SourceFormat::kCsvChanges) {
      // The rows' schema is that of the columns after `diff`.
      if (table->header.empty() || table->header[0] != kDiffColumn) {
        return absl::InvalidArgumentError(absl::StrCat(
            file, ": a change log's first column must be '", kDiffColumn, "'"));
      }
      table->header.erase(table->header.begin());
      for (CsvRecord& r : table->records) r.fields.erase(r.fields.begin());
    }
    if (*sampled) {
      // A column with no value in the sample would be guessed a string:
      // only the whole file can say.
      for (size_t c = 0; c < table->header.size(); ++c) {
        bool any = false;
        for (const CsvRecord& r : table->records) {
          if (!r.fields[c].empty()) {
            any = true;
            break;
          }
        }
        if (!any) return InferFrom(file, text, format, false, sampled);
      }
    }
    return InferSchema(*table);
  }
  // JSON Lines samples as CSV does, an array up to a record's end.
  absl::string_view sample = text;
  std::string array_sample;
  if (allow_sample && text.size() > kInferenceSampleBytes) {
    if (format == SourceFormat::kJsonLines) {
      const size_t cut = text.rfind('\n', kInferenceSampleBytes);
      if (cut != std::string::npos) {
        sample = absl::string_view(text).substr(0, cut + 1);
        *sampled = true;
      }
    } else if (const size_t cut =
                   JsonArraySamplePrefix(text, kInferenceSampleBytes);
               cut > 0) {
      array_sample = absl::StrCat(text.substr(0, cut), "\n]");
      sample = array_sample;
      *sampled = true;
    }
  }
  absl::StatusOr<JsonTable> table = ParseJson(
      sample, file,
      format == SourceFormat::kJson ? JsonFormat::kArray : JsonFormat::kLines);
  if (!table.ok()) return table.status();
  if (*sampled) {
    // A column with no value in the sample would be guessed a string (and
    // one never named would be missing): only the whole file can say.
    std::vector<bool> any(table->columns.size(), false);
    for (const JsonRecord& r : table->records) {
      for (const auto& [name, value] : r.fields) {
        if (value.kind == JsonScalar::kNull) continue;
        for (size_t c = 0; c < any.size(); ++c) {
          if (table->columns[c] == name) any[c] = true;
        }
      }
    }
    if (table->columns.empty() ||
        std::find(any.begin(), any.end(), false) != any.end()) {
      return InferFrom(file, text, format, false, sampled);
    }
  }
  if (table->columns.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(file, ": no records to infer a schema from"));
  }
  return InferSchema(*table);
}

}  // namespace

const char* SourceFormatName(SourceFormat format) {
  switch (format) {
    case SourceFormat::kAuto:
      return "auto";
    case SourceFormat::kCsv:
      return "csv";
    case SourceFormat::kCsvChanges:
      return "csv-changes";
    case SourceFormat::kJson:
      return "json";
    case SourceFormat::kJsonLines:
      return "jsonl";
  }
  return "?";
}

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return FileError(path, errno);
  std::string text;
  // Sized once from the file's size (it may still grow while read).
  struct stat st;
  if (::fstat(::fileno(f), &st) == 0 && st.st_size > 0) {
    text.reserve(static_cast<size_t>(st.st_size) + 1);
  }
  char buffer[1 << 16];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) {
    text.append(buffer, n);
  }
  const bool failed = std::ferror(f) != 0;
  const int error = errno;
  std::fclose(f);
  if (failed) return FileError(path, error);
  return text;
}

void ConsolidateRowDiffs(RowDiffs* diffs) {
  // Sorted as keys of 24 bytes, so the sort moves little and most
  // comparisons are of integers: the prefix of the first value, then, when
  // that prefix is exact (equal prefixes, equal values), the prefix of the
  // second; rows are read in place only where both tie.
  struct Key {
    uint64_t prefix;
    uint64_t second;
    uint64_t index;
  };
  const size_t n = diffs->size();
  std::vector<Key> keys(n);
  auto fill = [&](size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) {
      const Row& row = (*diffs)[i].first;
      Key& key = keys[i];
      key = {0, 0, i};
      if (row.empty()) continue;
      auto it = row.begin();
      const Datum first = *it;
      key.prefix = first.SortPrefix();
      if (first.SortPrefixIsExact() && ++it != row.end()) {
        key.second = (*it).SortPrefix();
      }
    }
  };
  const RowDiffs& rows = *diffs;
  auto less = [&rows](const Key& a, const Key& b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    if (a.second != b.second) return a.second < b.second;
    return rows[a.index].first < rows[b.index].first;
  };
  if (n >= kParallelSortMin) {
    tbb::parallel_for(
        tbb::blocked_range<size_t>(0, n, 1 << 14),
        [&](const tbb::blocked_range<size_t>& r) { fill(r.begin(), r.end()); });
  } else {
    fill(0, n);
  }
  // Files are often in the order of their first column (a time series, an
  // export by id): then only the rows that share a prefix are sorted, group
  // by group, in parallel.
  const bool by_prefix = std::is_sorted(
      keys.begin(), keys.end(),
      [](const Key& a, const Key& b) { return a.prefix < b.prefix; });
  if (by_prefix) {
    auto sort_groups = [&](size_t from, size_t to) {
      // Whole groups: those that start in [from, to).
      while (from > 0 && from < n &&
             keys[from].prefix == keys[from - 1].prefix) {
        ++from;
      }
      for (size_t i = from; i < n && i < to;) {
        size_t j = i + 1;
        while (j < n && keys[j].prefix == keys[i].prefix) ++j;
        if (j - i > 1) {
          std::sort(keys.begin() + static_cast<ptrdiff_t>(i),
                    keys.begin() + static_cast<ptrdiff_t>(j), less);
        }
        i = j;
      }
    };
    if (n >= kParallelSortMin) {
      tbb::parallel_for(tbb::blocked_range<size_t>(0, n, 1 << 14),
                        [&](const tbb::blocked_range<size_t>& r) {
                          sort_groups(r.begin(), r.end());
                        });
    } else {
      sort_groups(0, n);
    }
  } else if (n >= kParallelSortMin) {
    tbb::parallel_sort(keys.begin(), keys.end(), less);
  } else {
    std::sort(keys.begin(), keys.end(), less);
  }
  // The rows go to their sorted places in place, cycle by cycle (no second
  // vector of rows), then equal neighbours are summed.
  RowDiffs& place = *diffs;
  for (size_t i = 0; i < n; ++i) {
    if (keys[i].index == i) continue;
    std::pair<Row, int64_t> first = std::move(place[i]);
    size_t at = i;
    for (;;) {
      const size_t from = keys[at].index;
      keys[at].index = at;  // done
      if (from == i) {
        place[at] = std::move(first);
        break;
      }
      place[at] = std::move(place[from]);
      at = from;
    }
  }
  size_t out = 0;
  for (size_t i = 0; i < n;) {
    int64_t count = place[i].second;
    size_t j = i + 1;
    for (; j < n && keys[j].prefix == keys[i].prefix &&
           keys[j].second == keys[i].second && place[j].first == place[i].first;
         ++j) {
      count += place[j].second;
    }
    if (count != 0) {
      if (out != i) place[out].first = std::move(place[i].first);
      place[out].second = count;
      ++out;
    }
    i = j;
  }
  place.resize(out);
}

absl::StatusOr<std::string> ReadFileRange(const std::string& path,
                                          size_t offset, size_t length) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return FileError(path, errno);
  std::string text(length, '\0');
  size_t n = 0;
  bool failed = std::fseek(f, static_cast<long>(offset), SEEK_SET) != 0;
  if (!failed) {
    n = std::fread(text.data(), 1, length, f);
    failed = std::ferror(f) != 0;
  }
  const int error = errno;
  std::fclose(f);
  if (failed) return FileError(path, error);
  text.resize(n);
  return text;
}

absl::StatusOr<std::unique_ptr<FileSource>> FileSource::Open(
    SourceOptions options) {
  struct stat st;
  if (::stat(options.path.c_str(), &st) != 0) {
    return FileError(options.path, errno);
  }
  if (!(options.shrink_guard_share > 0 && options.shrink_guard_share <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        options.path, ": shrink_guard_share must be in (0, 1], got ",
        options.shrink_guard_share));
  }
  const bool directory = S_ISDIR(st.st_mode);
  SourceFormat format = options.format;
  if (format == SourceFormat::kAuto) {
    if (directory) {
      return absl::InvalidArgumentError(absl::StrCat(
          options.path, ": a directory source needs an explicit format"));
    }
    std::optional<SourceFormat> by_name = FormatOf(options.path);
    if (!by_name) {
      return absl::InvalidArgumentError(absl::StrCat(
          options.path,
          ": unknown format (expected .csv, .json, .jsonl or .ndjson)"));
    }
    format = *by_name;
  }
  std::unique_ptr<FileSource> source(
      new FileSource(options, format, options.schema.value_or(Schema())));
  source->is_directory_ = directory;
  bool sampled = false;
  std::string inferred_from;
  if (!options.schema) {
    absl::StatusOr<std::vector<std::string>> files = source->ListFiles();
    if (!files.ok()) return files.status();
    if (files->empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          options.path, ": no files to infer a schema from; give one"));
    }
    absl::StatusOr<std::string> text = ReadFileToString(files->front());
    if (!text.ok()) return text.status();
    absl::StatusOr<Schema> schema =
        InferFrom(files->front(), *text, format, true, &sampled);
    if (!schema.ok()) return schema.status();
    source->schema_ = *std::move(schema);
    inferred_from = files->front();
  }
  absl::Status valid = Schema::Make(source->schema_.fields()).status();
  if (!valid.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(options.path, ": ", valid.message()));
  }
  // Every file is read once now, so a wrong path, format or schema is an
  // error here rather than a quarantined file later.
  absl::StatusOr<std::vector<std::string>> files = source->ListFiles();
  if (!files.ok()) return files.status();
  for (const std::string& file : *files) {
    struct stat file_st;
    if (::stat(file.c_str(), &file_st) != 0) return FileError(file, errno);
    absl::StatusOr<std::string> text = ReadFileToString(file);
    if (!text.ok()) return text.status();
    Opened trial;
    absl::Status parsed =
        source->Parse(file, *text, file_st, &trial.state, &trial.rows);
    if (sampled && file == inferred_from && !trial.state.quarantine.empty()) {
      // Some record does not fit the guess from the sample (or is bad
      // anyway): infer from the whole file, as without a sample.
      absl::StatusOr<Schema> schema =
          InferFrom(file, *text, format, false, &sampled);
      if (!schema.ok()) return schema.status();
      source->schema_ = *std::move(schema);
      trial = Opened();
      parsed = source->Parse(file, *text, file_st, &trial.state, &trial.rows);
    }
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ": not ", SourceFormatName(format),
                       " of the schema: ", parsed.message()));
    }
    // The first poll takes this reading if the file is still the same.
    trial.state.content_hash = ContentHash(*text);
    source->opened_[file] = std::move(trial);
  }
  return source;
}

absl::StatusOr<std::vector<std::string>> FileSource::ListFiles() const {
  if (!is_directory_) return std::vector<std::string>{options_.path};
  std::error_code error;
  std::filesystem::directory_iterator it(options_.path, error);
  if (error) return FileError(options_.path, error.value());
  std::vector<std::string> files;
  for (const auto& entry : it) {
    if (!entry.is_regular_file()) continue;
    std::string name = entry.path().string();
    std::optional<SourceFormat> f = FormatOf(name);
    if (f == format_) files.push_back(std::move(name));
  }
  std::sort(files.begin(), files.end());
  return files;
}

void FileSource::AssumeRows(const RowDiffs& rows) {
  // Holding nothing is what a first poll differences from anyway.
  if (rows.empty()) return;
  RowCounts assumed;
  for (const auto& [row, n] : rows) AddCount(&assumed, row, n);
  assumed_ = std::move(assumed);
}

absl::Status FileSource::Parse(const std::string& file, const std::string& text,
                               const struct stat& st, FileState* state,
                               RowDiffs* out) const {
  std::vector<std::pair<int, Row>> rows;
  std::vector<Quarantined> quarantine;
  absl::Status whole_file;
  if (IsCsv()) {
    absl::StatusOr<std::vector<std::string>> header =
        ParseCsvHeader(text, file);
    if (!header.ok()) {
      whole_file = header.status();
    } else {
      std::vector<std::string> expected;
      if (format_ == SourceFormat::kCsvChanges) expected.push_back(kDiffColumn);
      for (const Field& f : schema_.fields()) expected.push_back(f.name);
      if (*header != expected) {
        whole_file = absl::InvalidArgumentError(
            "the header does not name the schema's columns in order");
      } else {
        // Read record by record (as PeekRecords will next time).
        BuildByRecord(file, text, st, state, out);
        return absl::OkStatus();
      }
    }
  } else if (format_ == SourceFormat::kJsonLines) {
    BuildByRecord(file, text, st, state, out);
    return absl::OkStatus();
  } else if (std::vector<Row> quick; JsonArrayToRows(text, schema_, &quick)) {
    state->quarantine.clear();
    state->rows.clear();
    for (Row& row : quick) ++state->rows[std::move(row)];
    out->insert(out->end(), state->rows.begin(), state->rows.end());
    return absl::OkStatus();
  } else {
    absl::StatusOr<JsonTable> table = ParseJson(text, file, JsonFormat::kArray);
    if (!table.ok()) {
      whole_file = table.status();
    } else {
      JsonRows converted = ToRows(*table, schema_);
      rows = std::move(converted.rows);
      quarantine = std::move(converted.quarantine);
    }
  }
  state->quarantine.clear();
  if (!whole_file.ok()) {
    // The quarantine says why nothing new was taken.
    state->quarantine[QuarantineRow(
        {file, 0, absl::StrCat("file not used: ", whole_file.message())})] = 1;
    return whole_file;
  }
  state->rows.clear();
  for (auto& [line, row] : rows) ++state->rows[std::move(row)];
  out->insert(out->end(), state->rows.begin(), state->rows.end());
  for (const Quarantined& q : quarantine) ++state->quarantine[QuarantineRow(q)];
  return absl::OkStatus();
}

absl::StatusOr<SourceDiff> FileSource::Poll() {
  absl::StatusOr<SourceDiff> diff = Peek();
  if (diff.ok()) Commit();
  return diff;
}

void FileSource::Commit() {
  if (!peeked_) return;
  for (auto& [file, change] : *peeked_) {
    if (change.vanished) {
      files_.erase(file);
    } else if (change.replace) {
      files_[file] = *std::move(change.replace);
    } else {
      // Grown by appended records.
      FileState& state = files_[file];
      state.content_hash = 0;  // not read whole
      state.text.Append(change.appended);
      state.bad.insert(change.bad_appended.begin(), change.bad_appended.end());
      state.quarantine = std::move(change.quarantine);
      state.append = std::move(change.append);
      state.size += change.appended.size();
    }
  }
  peeked_.reset();
  accept_files_ = false;
  if (peeked_consumes_assumed_) assumed_.reset();
}

std::vector<CsvSpan> FileSource::SplitRecords(absl::string_view text,
                                              absl::string_view* header) const {
  *header = {};
  if (IsCsv()) {
    std::vector<CsvSpan> spans = SplitCsv(text);
    if (spans.empty()) return spans;
    *header = spans[0].text;
    spans.erase(spans.begin());
    return spans;
  }
  // JSON Lines: every line is a record (blank ones read as nothing).
  std::vector<CsvSpan> lines;
  int line = 0;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == absl::string_view::npos) end = text.size();
    lines.push_back({++line, text.substr(start, end - start)});
    start = end + 1;
  }
  return lines;
}

FileSource::RecordOutcome FileSource::ReadRecord(const std::string& file,
                                                 const CsvSpan& record,
                                                 Row* row, int64_t* weight,
                                                 std::string* reason) const {
  *weight = 1;
  if (format_ == SourceFormat::kCsvChanges) {
    // Quickly when the record reads; otherwise field by field, for the
    // reason counting the diff column as the header does.
    const size_t comma = record.text.find(',');
    if (comma != absl::string_view::npos &&
        record.text.substr(0, comma).find('"') == absl::string_view::npos &&
        ParseDiff(record.text.substr(0, comma), weight).empty() &&
        CsvRecordToRow(record.text.substr(comma + 1), record.line, schema_, row)
            .empty()) {
      return kRow;
    }
    std::vector<std::string> fields;
    *reason = ReadCsvRecord(record.text, record.line, &fields);
    if (reason->empty() && fields.size() != schema_.size() + 1) {
      *reason = FieldCountError(fields.size(), schema_.size() + 1);
    }
    if (reason->empty()) *reason = ParseDiff(fields[0], weight);
    if (reason->empty()) {
      fields.erase(fields.begin());
      *reason = CsvFieldsToRow(fields, schema_, row);
    }
    return reason->empty() ? kRow : kBad;
  }
  if (format_ == SourceFormat::kCsv) {
    *reason = CsvRecordToRow(record.text, record.line, schema_, row);
    return reason->empty() ? kRow : kBad;
  }
  if (JsonObjectToRow(record.text, schema_, row)) return kRow;
  // One line alone reads as it does in its file: no message names a line
  // (and a byte order mark only ever starts line 1).
  absl::StatusOr<JsonTable> table =
      ParseJson(record.text, file, JsonFormat::kLines);
  if (!table.ok()) {
    *reason = std::string(table.status().message());
    return kBad;
  }
  JsonRows rows = ToRows(*table, schema_);
  if (!rows.rows.empty()) {
    *row = std::move(rows.rows[0].second);
    return kRow;
  }
  if (!rows.quarantine.empty()) {
    *reason = rows.quarantine[0].reason;
    return kBad;
  }
  return kBlank;
}

FileSource::AppendPoint FileSource::AppendPointOf(
    absl::string_view text, absl::string_view header,
    const std::vector<CsvSpan>& records, const struct stat& st) const {
  AppendPoint point;
  // The last record, or the header when there is none (on the line after
  // any blank ones before it).
  CsvSpan last = records.empty() ? CsvSpan{1, header} : records.back();
  if (records.empty() && header.data() != nullptr) {
    const absl::string_view before =
        text.substr(0, header.data() - text.data());
    last.line +=
        static_cast<int>(std::count(before.begin(), before.end(), '\n'));
  }
  if (text.empty() || text.back() != '\n' || last.text.data() == nullptr ||
      (records.empty() && !IsCsv())) {
    return point;
  }
  point.ok = true;
  point.device = st.st_dev;
  point.inode = st.st_ino;
  point.size = text.size();
  point.last_start = static_cast<size_t>(last.text.data() - text.data());
  point.head = std::string(text.substr(0, HeadSize(point.last_start)));
  point.last_line = last.line;
  point.last_size = last.text.size();
  point.tail = std::string(text.substr(point.last_start));
  return point;
}

void FileSource::ReadRecords(const std::string& file,
                             const std::vector<CsvSpan>& records, int64_t sign,
                             RowDiffs* rows, RowCounts* quarantine,
                             absl::flat_hash_set<Hash128>* bad) const {
  // Every record in its own slot, in parallel; a bad one (rare) is noted
  // with its reason and taken in file order after.
  const size_t first = rows->size();
  rows->resize(first + records.size());
  std::vector<std::pair<size_t, std::string>> bad_ones;
  std::mutex bad_mu;
  auto read = [&](size_t from, size_t to) {
    std::string reason;
    for (size_t i = from; i < to; ++i) {
      auto& [row, weight] = (*rows)[first + i];
      reason.clear();
      switch (ReadRecord(file, records[i], &row, &weight, &reason)) {
        case kRow:
          weight *= sign;
          break;
        case kBad: {
          std::lock_guard<std::mutex> lock(bad_mu);
          bad_ones.emplace_back(i, reason);
          weight = 0;
          break;
        }
        case kBlank:
          weight = 0;
          break;
      }
    }
  };
  if (records.size() >= kParallelParseMin) {
    tbb::parallel_for(tbb::blocked_range<size_t>(0, records.size(), 4096),
                      [&](const tbb::blocked_range<size_t>& range) {
                        read(range.begin(), range.end());
                      });
  } else {
    read(0, records.size());
  }
  // Drop the slots of records that gave no row (order does not matter: the
  // differences are consolidated).
  rows->erase(
      std::remove_if(rows->begin() + static_cast<ptrdiff_t>(first), rows->end(),
                     [](const auto& r) { return r.second == 0; }),
      rows->end());
  std::sort(bad_ones.begin(), bad_ones.end());
  for (const auto& [i, reason] : bad_ones) {
    // Reported at every place they are: a reason may name the line.
    if (quarantine != nullptr) {
      AddCount(quarantine, QuarantineRow({file, records[i].line, reason}), 1);
    }
    if (bad != nullptr) bad->insert(KeyOf(records[i].text));
  }
}

bool FileSource::PeekAppended(const std::string& file,
                              const std::string& region,
                              const FileState& before, FileChange* change,
                              RowDiffs* rows) const {
  const AppendPoint& point = before.append;
  // Split as if the region started the file: its first record must be the
  // old last record, whole (e.g. not an open quote that now runs on).
  std::vector<CsvSpan> spans;
  if (IsCsv()) {
    spans = SplitCsv(region);
  } else {
    absl::string_view header;
    spans = SplitRecords(region, &header);
  }
  if (spans.empty() || spans[0].text.data() != region.data() ||
      spans[0].text.size() != point.last_size) {
    return false;
  }
  const int line_offset = point.last_line - spans[0].line;
  const CsvSpan last = spans.back();
  spans.erase(spans.begin());
  for (CsvSpan& span : spans) span.line += line_offset;
  change->quarantine = before.quarantine;
  absl::flat_hash_set<Hash128> bad;
  ReadRecords(file, spans, 1, rows, &change->quarantine, &bad);
  change->bad_appended.assign(bad.begin(), bad.end());
  change->appended = region.substr(point.size - point.last_start);
  AppendPoint next = point;
  next.ok = !region.empty() && region.back() == '\n';
  next.size = point.last_start + region.size();
  next.last_start =
      point.last_start + static_cast<size_t>(last.text.data() - region.data());
  next.last_line = last.line + line_offset;
  next.last_size = last.text.size();
  next.tail = region.substr(next.last_start - point.last_start);
  // The bytes the next poll checks: all before the last record while that
  // is cheap (they are the checked old ones and the records read now).
  if (point.head.size() == point.last_start) {
    next.head += region.substr(0, next.last_start - point.last_start);
  }
  next.head.resize(std::min(next.head.size(), HeadSize(next.last_start)));
  change->append = std::move(next);
  return true;
}

void FileSource::BuildByRecord(const std::string& file, const std::string& text,
                               const struct stat& st, FileState* state,
                               RowDiffs* rows) const {
  absl::string_view header;
  std::vector<CsvSpan> records = SplitRecords(text, &header);
  state->append = AppendPointOf(text, header, records, st);
  state->by_record = true;
  state->header = std::string(header);
  state->rows.clear();
  state->quarantine.clear();
  state->bad.clear();
  // The text is packed while the records are read.
  tbb::task_group packing;
  packing.run([&] { state->text = internal::PackedText::Pack(text); });
  ReadRecords(file, records, 1, rows, &state->quarantine, &state->bad);
  packing.wait();
}

bool FileSource::PeekRecords(const std::string& file, const std::string& text,
                             const struct stat& st, const FileState& before,
                             FileChange* change, RowDiffs* rows) const {
  if (!before.parsed || !before.by_record) return false;
  absl::string_view header;
  std::vector<CsvSpan> records = SplitRecords(text, &header);
  if (header != before.header) return false;  // read it whole
  const std::string old_text = before.text.Unpack();
  absl::string_view old_header;
  const std::vector<CsvSpan> old_records = SplitRecords(old_text, &old_header);
  // Each distinct record text once: how much more often it is there now,
  // and where (now, or before when gone).
  struct Seen {
    int64_t change = 0;
    CsvSpan span;
    RecordOutcome outcome = kBlank;  // when read now
    bool read = false;
  };
  absl::flat_hash_map<Hash128, Seen> seen;
  seen.reserve(records.size());
  for (const CsvSpan& span : old_records) {
    Seen& s = seen[KeyOf(span.text)];
    --s.change;
    s.span = span;
  }
  std::vector<Hash128> keys;
  keys.reserve(records.size());
  for (const CsvSpan& span : records) {
    keys.push_back(KeyOf(span.text));
    Seen& s = seen[keys.back()];
    ++s.change;
    s.span = span;
  }
  FileState next;
  next.by_record = true;
  next.header = before.header;
  next.append = AppendPointOf(text, header, records, st);
  tbb::task_group packing;
  packing.run([&] { next.text = internal::PackedText::Pack(text); });
  // Only the records whose count changed are read.
  for (auto& [key, s] : seen) {
    if (s.change == 0) continue;
    Row row;
    int64_t weight;
    std::string reason;
    s.outcome = ReadRecord(file, s.span, &row, &weight, &reason);
    s.read = true;
    if (s.outcome == kRow)
      rows->emplace_back(std::move(row), s.change * weight);
  }
  // Bad records, old and new, are reported where they are now.
  for (size_t i = 0; i < records.size(); ++i) {
    const Seen& s = seen.find(keys[i])->second;
    const bool is_bad =
        s.read ? s.outcome == kBad : before.bad.contains(keys[i]);
    if (!is_bad) continue;
    Row unused;
    int64_t unused_weight;
    std::string reason;
    ReadRecord(file, records[i], &unused, &unused_weight, &reason);
    AddCount(&next.quarantine, QuarantineRow({file, records[i].line, reason}),
             1);
    next.bad.insert(keys[i]);
  }
  packing.wait();
  change->replace = std::move(next);
  return true;
}

void FileSource::ProcessWhole(
    const std::string& file, const std::string& text, const struct stat& st,
    const FileState& before, SourceDiff* diff, RowDiffs* rows,
    RowCounts* quarantine, std::map<std::string, FileChange>* changes) const {
  const size_t hash = ContentHash(text);
  // Unchanged: nothing to do, unless its rows are held and it is accepted
  // as it is now.
  if (&before != &kNoFile && before.content_hash == hash &&
      !(accept_files_ && before.held)) {
    return;
  }
  diff->files_changed.push_back(file);
  FileChange& change = (*changes)[file];
  const int runaway = IsCsv() ? CsvRunawayQuoteLine(text) : 0;
  const bool had_rows = &before != &kNoFile || assumed_.has_value();
  if (auto opened = opened_.find(file);
      &before == &kNoFile && opened != opened_.end() &&
      opened->second.state.content_hash == hash && !(runaway > 0 && had_rows)) {
    // Read by Open and unchanged since: taken over, not read again.
    Opened taken = std::move(opened->second);
    opened_.erase(opened);
    if (rows->empty()) {
      *rows = std::move(taken.rows);
    } else {
      rows->insert(rows->end(), taken.rows.begin(), taken.rows.end());
    }
    DiffInto(quarantine, before.quarantine, taken.state.quarantine);
    change.replace = std::move(taken.state);
    change.replace->runaway = runaway > 0;
    change.replace->size = text.size();
    return;
  }
  const double kept = 1 - options_.shrink_guard_share;
  const bool shrunk = &before != &kNoFile && !accept_files_ &&
                      before.size >= options_.shrink_guard_bytes &&
                      static_cast<double>(text.size()) <
                          kept * static_cast<double>(before.size);
  std::optional<Quarantined> hold;
  if (shrunk) {
    // Most of the file gone at once: truncated or half rewritten, most
    // likely; its rows stay until it is back or is accepted as it is.
    hold = Quarantined{
        file, 0,
        absl::StrCat("the file shrank from ", before.size, " to ", text.size(),
                     " bytes since the last poll, by more than ",
                     options_.shrink_guard_share * 100,
                     "%: its previous rows are held until it is back to at "
                     "least ",
                     static_cast<uint64_t>(kept * before.size),
                     " bytes or the source accepts its files as they are")};
  } else if (runaway > 0 && had_rows && !before.runaway && !accept_files_) {
    // A quote never closed would retract every row after it: the file
    // keeps the rows it had until it reads without one.
    hold = Quarantined{
        file, runaway,
        absl::StrCat("quote opened on line ", runaway,
                     " is never closed, so its record runs to the end of "
                     "the file: the file's previous rows are held until it "
                     "reads without such a quote")};
  }
  if (hold) {
    FileState next = HeldCopy(before);
    next.content_hash = hash;
    next.parsed = before.parsed && &before != &kNoFile;
    next.size = before.size;
    next.held = QuarantineRow(*hold);
    AddCount(&next.quarantine, *next.held, 1);
    DiffInto(quarantine, before.quarantine, next.quarantine);
    change.replace = std::move(next);
    return;
  }
  if (PeekRecords(file, text, st, before, &change, rows)) {
    change.replace->content_hash = hash;
    change.replace->runaway = runaway > 0;
    change.replace->size = text.size();
    DiffInto(quarantine, before.quarantine, change.replace->quarantine);
    return;
  }
  FileState next;
  next.content_hash = hash;
  RowDiffs read;
  absl::Status parsed = Parse(file, text, st, &next, &read);
  next.parsed = parsed.ok();
  if (next.parsed) {
    next.runaway = runaway > 0;
    next.size = text.size();
    rows->insert(rows->end(), read.begin(), read.end());
    AddRows(before, -1, rows);
  } else {
    // A file that cannot be parsed keeps the rows it had: a half-written
    // or broken file must not wipe a product.
    FileState held = HeldCopy(before);
    held.content_hash = next.content_hash;
    held.size = before.size;
    held.quarantine = std::move(next.quarantine);
    next = std::move(held);
    next.parsed = false;
  }
  DiffInto(quarantine, before.quarantine, next.quarantine);
  change.replace = std::move(next);
}

FileSource::FileState FileSource::HeldCopy(const FileState& before) {
  FileState next;
  next.rows = before.rows;
  next.by_record = before.by_record;
  next.header = before.header;
  next.text = before.text;
  next.bad = before.bad;
  next.quarantine = before.quarantine;
  next.runaway = before.runaway;
  if (before.held) AddCount(&next.quarantine, *before.held, -1);
  // No append is read on top of held rows: the next read is whole.
  next.append = AppendPoint();
  return next;
}

const FileSource::FileState FileSource::kNoFile;

void FileSource::AddRows(const FileState& state, int64_t sign,
                         RowDiffs* into) const {
  into->reserve(into->size() + state.rows.size());
  for (const auto& [row, n] : state.rows) into->emplace_back(row, sign * n);
  if (!state.by_record || state.text.empty()) return;
  const std::string text = state.text.Unpack();
  absl::string_view header;
  ReadRecords(options_.path, SplitRecords(text, &header), sign, into, nullptr,
              nullptr);
}

absl::StatusOr<SourceDiff> FileSource::Peek() {
  peeked_.reset();
  absl::StatusOr<std::vector<std::string>> listed = ListFiles();
  if (!listed.ok()) return listed.status();
  // Read everything first, so a failure leaves the source unchanged: each
  // file whole, or, when it grew by appends, from its last read record on.
  struct Read {
    std::string file;
    std::string text;
    struct stat st;
    bool appended = false;  // `text` is the region from the append point
  };
  std::vector<Read> texts;
  uint64_t bytes_read = 0;
  for (const std::string& file : *listed) {
    Read read{file, "", {}, false};
    if (::stat(file.c_str(), &read.st) != 0) {
      if (is_directory_ && errno == ENOENT) continue;
      return FileError(file, errno);
    }
    auto found = files_.find(file);
    if (found != files_.end() && found->second.parsed &&
        found->second.by_record && found->second.append.ok) {
      const AppendPoint& point = found->second.append;
      const size_t size = static_cast<size_t>(read.st.st_size);
      if (read.st.st_dev == point.device && read.st.st_ino == point.inode &&
          size > point.size) {
        absl::StatusOr<std::string> head =
            ReadFileRange(file, 0, point.head.size());
        if (!head.ok()) return head.status();
        absl::StatusOr<std::string> region =
            ReadFileRange(file, point.last_start, size - point.last_start);
        if (!region.ok()) return region.status();
        bytes_read += head->size() + region->size();
        if (*head == point.head && absl::StartsWith(*region, point.tail)) {
          read.text = *std::move(region);
          read.appended = true;
          texts.push_back(std::move(read));
          continue;
        }
      }
    }
    absl::StatusOr<std::string> text = ReadFileToString(file);
    if (!text.ok()) {
      if (is_directory_ && absl::IsNotFound(text.status())) continue;
      return text.status();
    }
    bytes_read += text->size();
    read.text = *std::move(text);
    texts.push_back(std::move(read));
  }
  // Only files that changed are parsed and compared; the rest are not
  // touched (a poll of unchanged files costs reading and hashing them).
  std::map<std::string, FileChange> changes;
  SourceDiff diff;
  RowDiffs rows;  // consolidated at the end
  RowCounts quarantine;
  for (const auto& [file, state] : files_) {
    const bool present =
        std::any_of(texts.begin(), texts.end(),
                    [&name = file](const Read& t) { return t.file == name; });
    if (present) continue;
    AddRows(state, -1, &rows);
    DiffInto(&quarantine, state.quarantine, {});
    diff.files_changed.push_back(file);
    changes[file].vanished = true;
  }
  for (const Read& read : texts) {
    const std::string& file = read.file;
    auto found = files_.find(file);
    const FileState& before = found != files_.end() ? found->second : kNoFile;
    if (read.appended) {
      FileChange change;
      // Appended text ending in a quote never closed is read whole, where
      // the runaway-quote rule applies.
      const bool runaway_appended =
          IsCsv() && !before.runaway && CsvRunawayQuoteLine(read.text) > 0;
      if (!runaway_appended &&
          PeekAppended(file, read.text, before, &change, &rows)) {
        diff.files_changed.push_back(file);
        DiffInto(&quarantine, before.quarantine, change.quarantine);
        changes[file] = std::move(change);
        continue;
      }
      // The old last record reads differently now: read the file whole.
      absl::StatusOr<std::string> whole = ReadFileToString(file);
      if (!whole.ok()) return whole.status();
      bytes_read += whole->size();
      ProcessWhole(file, *whole, read.st, before, &diff, &rows, &quarantine,
                   &changes);
      continue;
    }
    ProcessWhole(file, read.text, read.st, before, &diff, &rows, &quarantine,
                 &changes);
  }
  // What was read is parsed now: the texts go before the rows are sorted.
  std::vector<Read>().swap(texts);
  peeked_consumes_assumed_ = false;
  if (assumed_) {
    // Against what the consumer holds, not against what this object read;
    // and only once every file parsed, since a broken file holds back its
    // share of the assumed rows. What the files hold now is what they held
    // (files_) plus what this poll found changed.
    bool all_parsed = true;
    for (const auto& [file, state] : files_) {
      auto change = changes.find(file);
      if (change == changes.end()) {
        all_parsed = all_parsed && state.parsed;
      } else if (change->second.replace) {
        all_parsed = all_parsed && change->second.replace->parsed;
      }
    }
    for (const auto& [file, change] : changes) {
      if (change.replace && !files_.contains(file)) {
        all_parsed = all_parsed && change.replace->parsed;
      }
    }
    if (all_parsed) {
      for (const auto& [file, state] : files_) AddRows(state, 1, &rows);
      for (const auto& [row, n] : *assumed_) rows.emplace_back(row, -n);
      peeked_consumes_assumed_ = true;
    } else {
      rows.clear();
    }
  }
  ConsolidateRowDiffs(&rows);
  diff.rows = std::move(rows);
  diff.quarantine = Sorted(quarantine);
  diff.bytes_read = bytes_read;
  peeked_ = std::move(changes);
  return diff;
}

}  // namespace diffmesh
