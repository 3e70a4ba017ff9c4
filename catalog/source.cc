#include "catalog/source.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "absl/hash/hash.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "catalog/csv.h"
#include "catalog/json.h"
#include "catalog/table.h"
#include "tbb/blocked_range.h"
#include "tbb/parallel_for.h"
#include "tbb/parallel_sort.h"
#include "tbb/task_group.h"

namespace diffmesh {
namespace {

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

// A record's key in FileState::records.
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

// The diff of a change-log record, or why it is not one.
std::string ParseDiff(absl::string_view text, int64_t* diff) {
  absl::StatusOr<Value> v = ParseField(text, ValueType::kInt64);
  if (!v.ok() || v->is_null() || v->as_int64() == 0) {
    return absl::StrCat("field '", kDiffColumn,
                        "' expects a non-zero integer, got '", text, "'");
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
  // Each row sorted beside its prefix, so most comparisons are of two
  // integers and the rest read rows in place.
  struct Keyed {
    uint64_t prefix;
    int64_t count;
    Row row;
  };
  const size_t n = diffs->size();
  std::vector<Keyed> keyed;
  keyed.reserve(n);
  for (auto& [row, count] : *diffs) {
    const uint64_t prefix = row.SortPrefix();
    keyed.push_back({prefix, count, std::move(row)});
  }
  RowDiffs().swap(*diffs);
  auto less = [](const Keyed& a, const Keyed& b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    return a.row < b.row;
  };
  if (n >= kParallelSortMin) {
    tbb::parallel_sort(keyed.begin(), keyed.end(), less);
  } else {
    std::sort(keyed.begin(), keyed.end(), less);
  }
  diffs->reserve(n);
  for (size_t i = 0; i < n;) {
    int64_t count = 0;
    size_t j = i;
    for (; j < n && keyed[j].prefix == keyed[i].prefix &&
           keyed[j].row == keyed[i].row;
         ++j) {
      count += keyed[j].count;
    }
    if (count != 0) diffs->emplace_back(std::move(keyed[i].row), count);
    i = j;
  }
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
    FileState trial;
    absl::Status parsed = source->Parse(file, *text, file_st, &trial);
    if (sampled && file == inferred_from && !trial.quarantine.empty()) {
      // Some record does not fit the guess from the sample (or is bad
      // anyway): infer from the whole file, as without a sample.
      absl::StatusOr<Schema> schema =
          InferFrom(file, *text, format, false, &sampled);
      if (!schema.ok()) return schema.status();
      source->schema_ = *std::move(schema);
      trial = FileState();
      parsed = source->Parse(file, *text, file_st, &trial);
    }
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ": not ", SourceFormatName(format),
                       " of the schema: ", parsed.message()));
    }
    // The first poll takes this reading if the file is still the same.
    trial.content_hash = absl::Hash<std::string>()(*text);
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
                               const struct stat& st, FileState* state) const {
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
        // Read record by record (as PeekRecords will next time),
        // remembering each distinct record's row.
        BuildByRecord(file, text, st, state);
        return absl::OkStatus();
      }
    }
  } else if (format_ == SourceFormat::kJsonLines) {
    BuildByRecord(file, text, st, state);
    return absl::OkStatus();
  } else if (std::vector<Row> quick; JsonArrayToRows(text, schema_, &quick)) {
    state->quarantine.clear();
    state->rows.clear();
    for (Row& row : quick) ++state->rows[std::move(row)];
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
      FileState& state = files_[file];
      state.content_hash = change.content_hash;
      state.parsed = true;
      // A file changed in place is read by record: its records carry the
      // row changes.
      for (auto& [key, record] : change.record_updates) {
        if (record.count == 0) {
          state.records.erase(key);
        } else {
          state.records[key] = std::move(record);
        }
      }
      state.quarantine = std::move(change.quarantine);
      state.append = std::move(change.append);
    }
  }
  peeked_.reset();
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

FileSource::RecordState::Outcome FileSource::ReadRecord(
    const std::string& file, const CsvSpan& record, Row* row, int64_t* weight,
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
      return RecordState::kRow;
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
    return reason->empty() ? RecordState::kRow : RecordState::kBad;
  }
  if (format_ == SourceFormat::kCsv) {
    *reason = CsvRecordToRow(record.text, record.line, schema_, row);
    return reason->empty() ? RecordState::kRow : RecordState::kBad;
  }
  if (JsonObjectToRow(record.text, schema_, row)) return RecordState::kRow;
  // One line alone reads as it does in its file: no message names a line
  // (and a byte order mark only ever starts line 1).
  absl::StatusOr<JsonTable> table =
      ParseJson(record.text, file, JsonFormat::kLines);
  if (!table.ok()) {
    *reason = std::string(table.status().message());
    return RecordState::kBad;
  }
  JsonRows rows = ToRows(*table, schema_);
  if (!rows.rows.empty()) {
    *row = std::move(rows.rows[0].second);
    return RecordState::kRow;
  }
  if (!rows.quarantine.empty()) {
    *reason = rows.quarantine[0].reason;
    return RecordState::kBad;
  }
  return RecordState::kBlank;
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

bool FileSource::PeekAppended(const std::string& file,
                              const std::string& region,
                              const FileState& before,
                              FileChange* change) const {
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
  change->quarantine = before.quarantine;
  absl::flat_hash_map<Hash128, RecordState> added;
  for (size_t i = 1; i < spans.size(); ++i) {
    CsvSpan span = spans[i];
    span.line += line_offset;
    const Hash128 key = KeyOf(span.text);
    auto [it, first] = added.try_emplace(key);
    RecordState& s = it->second;
    std::string reason;
    if (first) {
      auto old = before.records.find(key);
      if (old != before.records.end()) {
        s = old->second;
      } else {
        s.outcome = ReadRecord(file, span, &s.row, &s.weight, &reason);
      }
    }
    ++s.count;
    if (s.outcome == RecordState::kRow) {
      AddCount(&change->row_delta, s.row, s.weight);
    } else if (s.outcome == RecordState::kBad) {
      // Bad records are read where they are: a reason may name the line.
      if (reason.empty()) {
        Row unused;
        int64_t unused_weight;
        ReadRecord(file, span, &unused, &unused_weight, &reason);
      }
      AddCount(&change->quarantine, QuarantineRow({file, span.line, reason}),
               1);
    }
  }
  for (auto& [key, s] : added) {
    change->record_updates.emplace_back(key, std::move(s));
  }
  const CsvSpan& last = spans.back();
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
  change->content_hash = 0;  // not read whole
  return true;
}

void FileSource::BuildByRecord(const std::string& file, const std::string& text,
                               const struct stat& st, FileState* state) const {
  absl::string_view header;
  std::vector<CsvSpan> records = SplitRecords(text, &header);
  state->append = AppendPointOf(text, header, records, st);
  state->by_record = true;
  state->header = std::string(header);
  state->records.clear();
  state->rows.clear();  // derived from the records
  state->quarantine.clear();
  state->records.reserve(records.size());
  // Records are read in blocks, every record of a block in parallel, and
  // taken into the state in file order (so the result is the sequential
  // one) while the next block is being read.
  struct Read {
    Hash128 key;
    RecordState::Outcome outcome;
    Row row;
    int64_t weight;
    std::string reason;
  };
  auto read_block = [&](size_t begin, std::vector<Read>* block) {
    const size_t end = std::min(records.size(), begin + kParseBlock);
    block->resize(end - begin);
    auto read = [&](size_t from, size_t to) {
      for (size_t i = from; i < to; ++i) {
        Read& r = (*block)[i - begin];
        r.key = KeyOf(records[i].text);
        r.reason.clear();
        r.outcome = ReadRecord(file, records[i], &r.row, &r.weight, &r.reason);
      }
    };
    if (end - begin >= kParallelParseMin) {
      tbb::parallel_for(tbb::blocked_range<size_t>(begin, end, 4096),
                        [&](const tbb::blocked_range<size_t>& range) {
                          read(range.begin(), range.end());
                        });
    } else {
      read(begin, end);
    }
  };
  auto take_block = [&](size_t begin, std::vector<Read>* block) {
    for (size_t k = 0; k < block->size(); ++k) {
      Read& r = (*block)[k];
      auto [it, fresh] = state->records.try_emplace(r.key);
      RecordState& record = it->second;
      if (fresh) {
        record.outcome = r.outcome;
        record.row = std::move(r.row);
        record.weight = r.weight;
      }
      ++record.count;
      // Bad records are reported at every place they are: a reason may
      // name the line.
      if (record.outcome == RecordState::kBad) {
        AddCount(&state->quarantine,
                 QuarantineRow({file, records[begin + k].line, r.reason}), 1);
      }
    }
  };
  if (records.empty()) return;
  std::vector<Read> blocks[2];
  read_block(0, &blocks[0]);
  tbb::task_group reading;
  for (size_t begin = 0, b = 0; begin < records.size();
       begin += kParseBlock, b ^= 1) {
    const size_t following = begin + kParseBlock;
    if (following < records.size()) {
      reading.run([&, following, b] { read_block(following, &blocks[b ^ 1]); });
    }
    take_block(begin, &blocks[b]);
    reading.wait();
  }
}

bool FileSource::PeekRecords(const std::string& file, const std::string& text,
                             const struct stat& st, const FileState& before,
                             FileChange* change) const {
  if (!before.parsed || !before.by_record) return false;
  absl::string_view header;
  std::vector<CsvSpan> records = SplitRecords(text, &header);
  if (header != before.header) return false;  // read it whole
  change->append = AppendPointOf(text, header, records, st);
  // Each distinct record text once: its count now, and what it reads as
  // (from before, or read now if new).
  struct Seen {
    int64_t count = 0;
    const RecordState* known = nullptr;  // from before
    RecordState fresh;                   // read now, when not known
  };
  absl::flat_hash_map<Hash128, Seen> seen;
  for (const CsvSpan& span : records) {
    const Hash128 key = KeyOf(span.text);
    auto [it, first] = seen.try_emplace(key);
    Seen& s = it->second;
    std::string reason;
    if (first) {
      auto old = before.records.find(key);
      if (old != before.records.end()) {
        s.known = &old->second;
      } else {
        s.fresh.outcome =
            ReadRecord(file, span, &s.fresh.row, &s.fresh.weight, &reason);
      }
    }
    ++s.count;
    const auto outcome = s.known ? s.known->outcome : s.fresh.outcome;
    if (outcome == RecordState::kBad) {
      // Read again where it is now: the reason may name its line.
      Row unused;
      int64_t unused_weight;
      ReadRecord(file, span, &unused, &unused_weight, &reason);
      AddCount(&change->quarantine, QuarantineRow({file, span.line, reason}),
               1);
    }
  }
  for (auto& [key, s] : seen) {
    const RecordState& state = s.known ? *s.known : s.fresh;
    const int64_t was = s.known ? s.known->count : 0;
    if (s.count == was) continue;
    if (state.outcome == RecordState::kRow) {
      AddCount(&change->row_delta, state.row, (s.count - was) * state.weight);
    }
    RecordState updated = state;
    updated.count = s.count;
    change->record_updates.emplace_back(key, std::move(updated));
  }
  for (const auto& [key, state] : before.records) {
    if (seen.contains(key)) continue;
    if (state.outcome == RecordState::kRow) {
      AddCount(&change->row_delta, state.row, -state.count * state.weight);
    }
    change->record_updates.emplace_back(key, RecordState());
  }
  return true;
}

void FileSource::ProcessWhole(
    const std::string& file, const std::string& text, const struct stat& st,
    const FileState& before, SourceDiff* diff, RowDiffs* rows,
    RowCounts* quarantine, std::map<std::string, FileChange>* changes) const {
  const size_t hash = absl::Hash<std::string>()(text);
  if (&before != &kNoFile && before.content_hash == hash) return;
  diff->files_changed.push_back(file);
  FileChange& change = (*changes)[file];
  if (auto opened = opened_.find(file); &before == &kNoFile &&
                                        opened != opened_.end() &&
                                        opened->second.content_hash == hash) {
    // Read by Open and unchanged since: taken over, not read again.
    FileState next = std::move(opened->second);
    opened_.erase(opened);
    DiffRows(before, next, rows);
    DiffInto(quarantine, before.quarantine, next.quarantine);
    change.replace = std::move(next);
    return;
  }
  if (PeekRecords(file, text, st, before, &change)) {
    change.content_hash = hash;
    rows->insert(rows->end(), change.row_delta.begin(), change.row_delta.end());
    DiffInto(quarantine, before.quarantine, change.quarantine);
    return;
  }
  FileState next;
  next.content_hash = hash;
  absl::Status parsed = Parse(file, text, st, &next);
  next.parsed = parsed.ok();
  // A file that cannot be parsed keeps the rows it had: a half-written
  // or broken file must not wipe a product.
  if (!next.parsed) {
    next.rows = before.rows;
    next.by_record = before.by_record;
    next.header = before.header;
    next.records = before.records;
    next.append = AppendPoint();
  }
  DiffRows(before, next, rows);
  DiffInto(quarantine, before.quarantine, next.quarantine);
  change.replace = std::move(next);
}

const FileSource::FileState FileSource::kNoFile;

void FileSource::AddRows(const FileState& state, int64_t sign, RowDiffs* into) {
  into->reserve(into->size() + state.rows.size() + state.records.size());
  for (const auto& [row, n] : state.rows) into->emplace_back(row, sign * n);
  for (const auto& [key, record] : state.records) {
    if (record.outcome == RecordState::kRow) {
      into->emplace_back(record.row, sign * record.count * record.weight);
    }
  }
}

void FileSource::DiffRows(const FileState& before, const FileState& after,
                          RowDiffs* into) {
  if (!before.by_record || !after.by_record) {
    AddRows(after, 1, into);
    AddRows(before, -1, into);
    return;
  }
  auto count = [](const FileState& state, const Hash128& key) -> int64_t {
    auto it = state.records.find(key);
    return it != state.records.end() && it->second.outcome == RecordState::kRow
               ? it->second.count
               : 0;
  };
  for (const auto& [key, record] : after.records) {
    if (record.outcome != RecordState::kRow) continue;
    const int64_t was = count(before, key);
    if (record.count != was) {
      into->emplace_back(record.row, (record.count - was) * record.weight);
    }
  }
  for (const auto& [key, record] : before.records) {
    if (record.outcome == RecordState::kRow && count(after, key) == 0) {
      into->emplace_back(record.row, -record.count * record.weight);
    }
  }
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
      if (PeekAppended(file, read.text, before, &change)) {
        diff.files_changed.push_back(file);
        rows.insert(rows.end(), change.row_delta.begin(),
                    change.row_delta.end());
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
    // share of the assumed rows.
    rows.clear();
    RowDiffs total;
    bool all_parsed = true;
    auto add = [&](const FileState& state) {
      all_parsed = all_parsed && state.parsed;
      AddRows(state, 1, &total);
    };
    for (const auto& [file, state] : files_) {
      auto change = changes.find(file);
      if (change == changes.end()) {
        add(state);
      } else if (!change->second.vanished && !change->second.replace) {
        add(state);  // and its changes in place:
        total.insert(total.end(), change->second.row_delta.begin(),
                     change->second.row_delta.end());
      }
    }
    for (const auto& [file, change] : changes) {
      if (change.replace) add(*change.replace);
    }
    if (all_parsed) {
      ConsolidateRowDiffs(&total);
      RowCounts held;
      DiffInto(&held, *assumed_, RowCounts(total.begin(), total.end()));
      rows.assign(held.begin(), held.end());
      peeked_consumes_assumed_ = true;
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
