#include "catalog/csv.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/status_macros.h"

namespace diffmesh {
namespace {

// Days from 1970-01-01 to y-m-d (proleptic Gregorian).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool ParseTimestamp(absl::string_view s, int64_t* micros) {
  // YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z, YYYY-MM-DD HH:MM:SS[.f{1,6}],
  // YYYY/MM/DD HH:MM[:SS] or YYYY-MM-DD; no zone means UTC.
  auto digits = [&](size_t at, size_t n, int64_t* out) {
    if (at + n > s.size()) return false;
    int64_t v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) return false;
      v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
  };
  int64_t y, mo, d, h = 0, mi = 0, sec = 0;
  if (s.size() < 10 || !digits(0, 4, &y) || (s[4] != '-' && s[4] != '/') ||
      !digits(5, 2, &mo) || s[7] != s[4] || !digits(8, 2, &d)) {
    return false;
  }
  const bool slashes = s[4] == '/';
  size_t at = 10;
  int64_t fraction = 0;
  if (s.size() > 10) {
    const char separator = s[10];
    if ((separator != 'T' || slashes) && separator != ' ') return false;
    if (!digits(11, 2, &h) || s.size() < 16 || s[13] != ':' ||
        !digits(14, 2, &mi)) {
      return false;
    }
    at = 16;
    if (at < s.size() && s[at] == ':') {
      if (!digits(17, 2, &sec)) return false;
      at = 19;
    } else if (!slashes) {
      return false;  // seconds are optional in the slash form only
    }
    if (!slashes && at < s.size() && s[at] == '.') {
      size_t n = 0;
      while (at + 1 + n < s.size() &&
             absl::ascii_isdigit(static_cast<unsigned char>(s[at + 1 + n])))
        ++n;
      if (n == 0 || n > 6 || !digits(at + 1, n, &fraction)) return false;
      for (size_t i = n; i < 6; ++i) fraction *= 10;
      at += 1 + n;
    }
    // 'T' takes the zone Z (UTC); the space forms take none.
    if (separator == 'T') {
      if (at + 1 != s.size() || s[at] != 'Z') return false;
      ++at;
    }
  } else if (slashes) {
    return false;  // a date alone is YYYY-MM-DD
  }
  if (at != s.size()) return false;
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1] || h > 23 || mi > 59 ||
      sec > 60) {
    return false;
  }
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo == 2 && d == 29 && !leap) return false;
  *micros = ((DaysFromCivil(y, mo, d) * 24 + h) * 60 + mi) * 60 + sec;
  *micros = *micros * 1'000'000 + fraction;
  return true;
}

bool ParseBool(absl::string_view s, bool* out) {
  if (absl::EqualsIgnoreCase(s, "true")) {
    *out = true;
    return true;
  }
  if (absl::EqualsIgnoreCase(s, "false")) {
    *out = false;
    return true;
  }
  return false;
}

}  // namespace

std::string FieldCountError(size_t fields, size_t header) {
  return absl::StrCat("has ", fields, " fields, the header has ", header);
}

absl::StatusOr<Value> ParseField(absl::string_view text, ValueType type) {
  if (text.empty()) return Value::Null();
  auto bad = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("expects ", ValueTypeName(type), ", got '", text, "'"));
  };
  switch (type) {
    case ValueType::kNull:
      return bad();
    case ValueType::kBool: {
      bool b;
      if (!ParseBool(text, &b)) return bad();
      return Value(b);
    }
    case ValueType::kInt64: {
      int64_t i;
      if (!absl::SimpleAtoi(text, &i)) return bad();
      return Value(i);
    }
    case ValueType::kDouble: {
      double d;
      if (!absl::SimpleAtod(text, &d) || std::isnan(d)) return bad();
      return Value(d);
    }
    case ValueType::kString:
      return Value(std::string(text));
    case ValueType::kTimestamp: {
      int64_t micros;
      if (!ParseTimestamp(text, &micros)) return bad();
      return Value(TimestampMicros{micros});
    }
  }
  return bad();
}

namespace {

// The RFC 4180 tokenizer, over a whole file or one record's text. A record
// ends at a line end outside quotes; an unreadable record is skipped to the
// end of the line where the problem is.
class CsvScanner {
 public:
  CsvScanner(absl::string_view text, int line) : text_(text), line_(line) {}

  bool done() const { return pos_ >= text_.size(); }
  size_t pos() const { return pos_; }
  int line() const { return line_; }
  // The line of a quote the last record read never closed, or 0.
  int unclosed_quote_line() const { return unclosed_quote_line_; }
  bool AtLineEnd() const { return AtLineEnd(pos_); }
  void SkipLineEnd() {
    if (pos_ < text_.size() && text_[pos_] == '\r') ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '\n') {
      ++pos_;
      ++line_;
    }
  }
  // Reads one record into `fields` (only finds its end when null); returns
  // why it cannot be read, or "".
  std::string ReadRecord(std::vector<std::string>* fields) {
    const size_t n = text_.size();
    if (fields != nullptr) fields->clear();
    for (;;) {
      std::string field;
      if (pos_ < n && text_[pos_] == '"') {
        const int opened = line_;
        ++pos_;
        for (;;) {
          if (pos_ >= n) {
            unclosed_quote_line_ = opened;
            return absl::StrCat("quote opened on line ", opened,
                                " is never closed");
          }
          char c = text_[pos_];
          if (c == '"') {
            if (pos_ + 1 < n && text_[pos_ + 1] == '"') {
              if (fields != nullptr) field += '"';
              pos_ += 2;
              continue;
            }
            ++pos_;
            break;
          }
          if (c == '\n') ++line_;
          if (fields != nullptr) field += c;
          ++pos_;
        }
        if (!(pos_ >= n || text_[pos_] == ',' || AtLineEnd(pos_))) {
          while (!AtLineEnd(pos_)) ++pos_;
          return "unexpected text after a closing quote";
        }
      } else {
        while (pos_ < n && text_[pos_] != ',' && !AtLineEnd(pos_)) {
          if (text_[pos_] == '"') {
            while (!AtLineEnd(pos_)) ++pos_;
            return "quote inside an unquoted field";
          }
          if (fields != nullptr) field += text_[pos_];
          ++pos_;
        }
      }
      if (fields != nullptr) fields->push_back(std::move(field));
      if (pos_ < n && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      return "";
    }
  }

 private:
  bool AtLineEnd(size_t p) const {
    const size_t n = text_.size();
    return p >= n || text_[p] == '\n' ||
           (text_[p] == '\r' && p + 1 < n && text_[p + 1] == '\n');
  }
  absl::string_view text_;
  size_t pos_ = 0;
  int line_;
  int unclosed_quote_line_ = 0;
};

absl::Status CheckHeader(const std::vector<std::string>& header,
                         absl::string_view file, int line) {
  std::set<std::string> seen;
  for (const std::string& name : header) {
    if (name.empty() || !seen.insert(name).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          file, ":", line, ": header has an empty or repeated column '", name,
          "'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<CsvSpan> SplitCsv(absl::string_view text) {
  std::vector<CsvSpan> spans;
  if (text.find('"') == absl::string_view::npos) {
    // Without quotes a record is a line: found with memchr, the same
    // records the scanner finds (a CR counts only before an LF).
    spans.reserve(text.size() / 32);
    int line = 1;
    const char* const end = text.data() + text.size();
    for (const char* p = text.data(); p < end; ++line) {
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
      const char* stop = nl == nullptr ? end : nl;
      const char* record_end = stop;
      if (nl != nullptr && record_end > p && record_end[-1] == '\r')
        --record_end;
      if (record_end > p) {
        spans.push_back({line, absl::string_view(p, record_end - p)});
      }
      p = nl == nullptr ? end : nl + 1;
    }
    return spans;
  }
  CsvScanner scanner(text, 1);
  while (!scanner.done()) {
    if (scanner.AtLineEnd()) {  // an empty line
      scanner.SkipLineEnd();
      continue;
    }
    const int line = scanner.line();
    const size_t start = scanner.pos();
    scanner.ReadRecord(nullptr);
    spans.push_back({line, text.substr(start, scanner.pos() - start)});
    scanner.SkipLineEnd();
  }
  return spans;
}

std::string ReadCsvRecord(absl::string_view record, int line,
                          std::vector<std::string>* fields) {
  return CsvScanner(record, line).ReadRecord(fields);
}

int CsvRunawayQuoteLine(absl::string_view text) {
  if (text.find('"') == absl::string_view::npos) return 0;
  const std::vector<CsvSpan> spans = SplitCsv(text);
  if (spans.empty()) return 0;
  CsvScanner scanner(spans.back().text, spans.back().line);
  scanner.ReadRecord(nullptr);
  return scanner.unclosed_quote_line();
}

namespace {

// The header's names from its span (nullptr: the text has no record).
absl::StatusOr<std::vector<std::string>> ReadHeader(const CsvSpan* span,
                                                    absl::string_view file) {
  if (span == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ": no header line (the file is empty)"));
  }
  std::vector<std::string> header;
  std::string error = ReadCsvRecord(span->text, span->line, &header);
  if (!error.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ":", span->line, ": header: ", error));
  }
  DM_RETURN_IF_ERROR(CheckHeader(header, file, span->line));
  return header;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ParseCsvHeader(
    absl::string_view text, absl::string_view file) {
  CsvScanner scanner(text, 1);
  while (!scanner.done() && scanner.AtLineEnd()) scanner.SkipLineEnd();
  if (scanner.done()) return ReadHeader(nullptr, file);
  const int line = scanner.line();
  const size_t start = scanner.pos();
  scanner.ReadRecord(nullptr);
  CsvSpan span{line, text.substr(start, scanner.pos() - start)};
  return ReadHeader(&span, file);
}

absl::StatusOr<CsvTable> ParseCsv(absl::string_view text,
                                  absl::string_view file) {
  CsvTable table;
  table.file = std::string(file);
  std::vector<CsvSpan> spans = SplitCsv(text);
  absl::StatusOr<std::vector<std::string>> header =
      ReadHeader(spans.empty() ? nullptr : &spans[0], file);
  if (!header.ok()) return header.status();
  table.header = *std::move(header);
  std::string error;
  std::vector<std::string> fields;
  for (size_t i = 1; i < spans.size(); ++i) {
    const int start = spans[i].line;
    error = ReadCsvRecord(spans[i].text, start, &fields);
    if (!error.empty()) {
      table.quarantine.push_back({table.file, start, error});
      continue;
    }
    if (fields.size() != table.header.size()) {
      table.quarantine.push_back(
          {table.file, start,
           FieldCountError(fields.size(), table.header.size())});
      continue;
    }
    table.records.push_back({start, fields});
  }
  return table;
}

namespace {

// Appends a non-empty field of `type` in the common spellings ParseField
// takes (plain decimal numbers, the timestamp forms, strings); false
// leaves the row alone for ParseField to decide.
bool AppendParsed(absl::string_view text, ValueType type, Row* row) {
  const char* end = text.data() + text.size();
  switch (type) {
    case ValueType::kString:
      row->AppendString(text);
      return true;
    case ValueType::kInt64: {
      int64_t i;
      auto [at, error] = std::from_chars(text.data(), end, i);
      if (error != std::errc() || at != end) return false;
      row->AppendInt64(i);
      return true;
    }
    case ValueType::kDouble: {
      double d;
      auto [at, error] = std::from_chars(text.data(), end, d);
      if (error != std::errc() || at != end || !std::isfinite(d)) return false;
      row->AppendDouble(d);
      return true;
    }
    case ValueType::kTimestamp: {
      int64_t micros;
      if (!ParseTimestamp(text, &micros)) return false;
      row->AppendTimestamp(TimestampMicros{micros});
      return true;
    }
    default:
      return false;
  }
}

}  // namespace

std::string CsvRecordToRow(absl::string_view record, int line,
                           const Schema& schema, Row* row) {
  if (record.find('"') == absl::string_view::npos) {
    // Without quotes a record's fields are the text between commas: read
    // them in place, as CsvFieldsToRow would read them copied.
    const size_t count =
        static_cast<size_t>(std::count(record.begin(), record.end(), ',')) + 1;
    if (count != schema.size()) return FieldCountError(count, schema.size());
    row->clear();
    size_t start = 0;
    const Field* null_field = nullptr;
    for (const Field& f : schema.fields()) {
      size_t end = record.find(',', start);
      if (end == absl::string_view::npos) end = record.size();
      absl::string_view text = record.substr(start, end - start);
      start = end + 1;
      if (text.empty()) {
        // Reported after every field parsed, as Schema::Validate would.
        if (!f.nullable && null_field == nullptr) null_field = &f;
        row->AppendNull();
        continue;
      }
      if (AppendParsed(text, f.type, row)) continue;
      absl::StatusOr<Value> v = ParseField(text, f.type);
      if (!v.ok()) {
        return absl::StrCat("field '", f.name, "' ", v.status().message());
      }
      row->push_back(*v);
    }
    if (null_field != nullptr) {
      return absl::StrCat("field '", null_field->name,
                          "' is null but not nullable");
    }
    return "";
  }
  std::vector<std::string> fields;
  std::string error = ReadCsvRecord(record, line, &fields);
  if (!error.empty()) return error;
  if (fields.size() != schema.size()) {
    return FieldCountError(fields.size(), schema.size());
  }
  return CsvFieldsToRow(fields, schema, row);
}

std::string CsvFieldsToRow(const std::vector<std::string>& fields,
                           const Schema& schema, Row* row) {
  row->clear();
  for (size_t c = 0; c < fields.size() && c < schema.size(); ++c) {
    const Field& f = schema.fields()[c];
    auto v = ParseField(fields[c], f.type);
    if (!v.ok())
      return absl::StrCat("field '", f.name, "' ", v.status().message());
    row->push_back(*v);
  }
  absl::Status fits = schema.Validate(*row);
  return fits.ok() ? "" : std::string(fits.message());
}

Schema InferSchema(const CsvTable& table) {
  std::vector<Field> fields;
  for (size_t c = 0; c < table.header.size(); ++c) {
    Field field{table.header[c], ValueType::kString, false, "", {}};
    bool any = false;
    const ValueType order[] = {ValueType::kInt64, ValueType::kDouble,
                               ValueType::kBool, ValueType::kTimestamp};
    std::vector<bool> fits(4, true);
    for (const CsvRecord& r : table.records) {
      const std::string& text = r.fields[c];
      if (text.empty()) {
        field.nullable = true;
        continue;
      }
      any = true;
      for (int k = 0; k < 4; ++k) {
        if (fits[k] && !ParseField(text, order[k]).ok()) fits[k] = false;
      }
    }
    if (!any) field.nullable = true;
    for (int k = 0; any && k < 4; ++k) {
      if (fits[k]) {
        field.type = order[k];
        break;
      }
    }
    fields.push_back(std::move(field));
  }
  return Schema(std::move(fields));
}

CsvRows ToRows(const CsvTable& table, const Schema& schema) {
  CsvRows out;
  out.quarantine = table.quarantine;
  for (const CsvRecord& r : table.records) {
    Row row;
    std::string error = CsvFieldsToRow(r.fields, schema, &row);
    if (!error.empty()) {
      out.quarantine.push_back({table.file, r.line, error});
      continue;
    }
    out.rows.emplace_back(r.line, std::move(row));
  }
  return out;
}

}  // namespace diffmesh
