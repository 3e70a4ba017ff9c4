#include "catalog/json.h"

#include <cmath>
#include <cstdint>
#include <unordered_map>
#include <unordered_set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "catalog/csv.h"

namespace diffmesh {
namespace {

constexpr absl::string_view kByteOrderMark = "\xEF\xBB\xBF";

// Four upper-case hex digits, as in U+00E9 and \u00E9.
std::string Hex4(uint32_t v) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out(4, '0');
  for (int i = 3; i >= 0; --i, v >>= 4) out[i] = kDigits[v & 0xF];
  return out;
}

// The length of the well-formed UTF-8 sequence starting at s[i], or 0 if
// there is none there (a stray continuation byte, an overlong form, a
// surrogate, or a code point past U+10FFFF): strings become Values that
// other systems will read as UTF-8, so bad bytes are refused at the door.
size_t Utf8SequenceLength(absl::string_view s, size_t i) {
  const unsigned char lead = static_cast<unsigned char>(s[i]);
  if (lead < 0x80) return 1;
  size_t n;
  uint32_t code_point;
  if ((lead & 0xE0) == 0xC0) {
    n = 2;
    code_point = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    n = 3;
    code_point = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    n = 4;
    code_point = lead & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const unsigned char next = static_cast<unsigned char>(s[i + k]);
    if ((next & 0xC0) != 0x80) return 0;
    code_point = (code_point << 6) | (next & 0x3F);
  }
  static constexpr uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code_point < kSmallest[n] || code_point > 0x10FFFF ||
      (code_point >= 0xD800 && code_point <= 0xDFFF)) {
    return 0;
  }
  return n;
}

void AppendUtf8(uint32_t code_point, std::string* out) {
  if (code_point < 0x80) {
    *out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    *out += static_cast<char>(0xC0 | (code_point >> 6));
    *out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    *out += static_cast<char>(0xE0 | (code_point >> 12));
    *out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (code_point >> 18));
    *out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

// A scalar as it would be written in JSON, for messages.
std::string Render(const JsonScalar& scalar) {
  if (scalar.kind == JsonScalar::kNull) return "null";
  if (scalar.kind != JsonScalar::kString) return scalar.text;
  std::string out = "\"";
  for (char c : scalar.text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrCat("\\u", Hex4(static_cast<unsigned char>(c)));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// A recursive-descent reader over JSON text that tracks line and column, so
// every syntax error can say where it is. Nested values are skipped with an
// explicit stack rather than recursion: records only keep scalars, and a
// hostile "[[[[..." must not overflow the call stack.
//
// Every Read/Skip function returns false after recording the first syntax
// error; the parser is then done.
class Parser {
 public:
  // `first_line` is the line of `text`'s first character in its file.
  Parser(absl::string_view text, int first_line)
      : text_(text), line_(first_line) {}

  bool at_end() const { return pos_ >= text_.size(); }
  int line() const { return line_; }
  const std::string& error() const { return error_; }
  int error_line() const { return error_line_; }
  int error_column() const { return error_column_; }

  void SkipByteOrderMark() {
    if (pos_ == 0 && text_.substr(0, kByteOrderMark.size()) == kByteOrderMark) {
      pos_ = kByteOrderMark.size();
    }
  }

  void SkipWhitespace() {
    while (!at_end()) {
      const char c = text_[pos_];
      if (c == '\n') {
        ++line_;
        column_ = 1;
      } else if (c == ' ' || c == '\t' || c == '\r') {
        ++column_;
      } else {
        return;
      }
      ++pos_;
    }
  }

  bool Consume(char c) {
    if (at_end() || text_[pos_] != c) return false;
    ++pos_;
    ++column_;
    return true;
  }

  bool Fail(absl::string_view cause) { return FailAt(line_, column_, cause); }

  // "expected <what>, got <the next character>", or "... but the text
  // ended".
  bool FailExpected(absl::string_view what) {
    if (at_end()) {
      return Fail(absl::StrCat("expected ", what, " but the text ended"));
    }
    return Fail(absl::StrCat("expected ", what, ", got ", DescribeNext()));
  }

  // One record: an object of scalars. A syntax error returns false; a
  // well-formed value that is not a usable record sets `problem` (and the
  // parser carries on past it).
  bool ReadRecord(std::vector<std::pair<std::string, JsonScalar>>* fields,
                  std::string* problem) {
    fields->clear();
    problem->clear();
    if (Peek() != '{') {
      if (!SkipValue()) return false;
      *problem = "expected an object";
      return true;
    }
    Consume('{');
    SkipWhitespace();
    if (Consume('}')) return true;
    std::unordered_set<std::string> seen;
    for (;;) {
      SkipWhitespace();
      std::string name;
      if (!ReadName(&name)) return false;
      JsonScalar value;
      const int next = Peek();
      if (next == '{' || next == '[') {
        if (!SkipValue()) return false;
        if (problem->empty()) {
          *problem = absl::StrCat("field '", name,
                                  "' is nested: only scalar values are "
                                  "supported");
        }
      } else if (!ReadScalar(&value)) {
        return false;
      }
      if (problem->empty()) {
        // A column needs a name: Schema::Make refuses an empty one.
        if (name.empty()) {
          *problem = "a field has an empty name";
        } else if (!seen.insert(name).second) {
          *problem = absl::StrCat("duplicate field '", name, "'");
        }
      }
      fields->emplace_back(std::move(name), std::move(value));
      SkipWhitespace();
      if (Consume(',')) continue;
      if (Consume('}')) return true;
      return FailExpected("',' or '}'");
    }
  }

  // Any value, checked but not kept.
  bool SkipValue() {
    std::vector<char> closers;  // what each open object/array needs
    for (;;) {
      SkipWhitespace();
      const int next = Peek();
      bool value_done = false;
      if (next == '{' || next == '[') {
        Consume(static_cast<char>(next));
        const char closer = next == '{' ? '}' : ']';
        SkipWhitespace();
        if (Consume(closer)) {
          value_done = true;
        } else {
          closers.push_back(closer);
          if (closer == '}') {
            std::string name;
            if (!ReadName(&name)) return false;
          }
        }
      } else {
        JsonScalar ignored;
        if (!ReadScalar(&ignored)) return false;
        value_done = true;
      }
      // After a complete value: close what can be closed, then either the
      // outermost value is done or a ',' asks for the next one.
      while (value_done) {
        if (closers.empty()) return true;
        SkipWhitespace();
        if (Consume(closers.back())) {
          closers.pop_back();
          continue;
        }
        if (!Consume(',')) {
          return FailExpected(closers.back() == '}' ? "',' or '}'"
                                                    : "',' or ']'");
        }
        if (closers.back() == '}') {
          SkipWhitespace();
          std::string name;
          if (!ReadName(&name)) return false;
        }
        value_done = false;
      }
    }
  }

 private:
  int Peek() const {
    return at_end() ? -1 : static_cast<unsigned char>(text_[pos_]);
  }

  bool FailAt(int line, int column, absl::string_view cause) {
    if (error_.empty()) {
      error_ = std::string(cause);
      error_line_ = line;
      error_column_ = column;
    }
    return false;
  }

  std::string DescribeNext() const {
    const unsigned char c = static_cast<unsigned char>(text_[pos_]);
    if (c < 0x20 || c == 0x7F) return absl::StrCat("U+", Hex4(c));
    const size_t n = c < 0x80 ? 1 : Utf8SequenceLength(text_, pos_);
    if (n == 0) return absl::StrCat("the byte 0x", Hex4(c).substr(2));
    return absl::StrCat("'", text_.substr(pos_, n), "'");
  }

  // A field name and the ':' after it.
  bool ReadName(std::string* name) {
    if (Peek() != '"') return FailExpected("a field name in double quotes");
    if (!ReadString(name)) return false;
    SkipWhitespace();
    if (!Consume(':')) return FailExpected("':'");
    SkipWhitespace();
    return true;
  }

  bool ReadScalar(JsonScalar* out) {
    const int next = Peek();
    if (next == '"') {
      out->kind = JsonScalar::kString;
      return ReadString(&out->text);
    }
    if (next == '-' || (next >= '0' && next <= '9')) {
      out->kind = JsonScalar::kNumber;
      return ReadNumber(&out->text);
    }
    for (absl::string_view word : {"true", "false", "null"}) {
      if (text_.substr(pos_, word.size()) == word) {
        out->kind = word == "null" ? JsonScalar::kNull : JsonScalar::kBool;
        out->text = word == "null" ? "" : std::string(word);
        pos_ += word.size();
        column_ += static_cast<int>(word.size());
        return true;
      }
    }
    return FailExpected("a value");
  }

  // REQUIRES: Peek() is '-' or a digit.
  bool ReadNumber(std::string* out) {
    const size_t start = pos_;
    const int start_column = column_;
    auto digits = [&] {
      size_t n = 0;
      while (!at_end() && absl::ascii_isdigit(text_[pos_])) {
        ++pos_;
        ++column_;
        ++n;
      }
      return n;
    };
    Consume('-');
    if (Consume('0')) {
      if (!at_end() && absl::ascii_isdigit(text_[pos_])) {
        return FailAt(line_, start_column,
                      "a number cannot start with 0 (leading zeros)");
      }
    } else if (digits() == 0) {
      return FailExpected("a digit");
    }
    if (Consume('.') && digits() == 0) return FailExpected("a digit after '.'");
    if (Consume('e') || Consume('E')) {
      if (!Consume('+')) Consume('-');
      if (digits() == 0) return FailExpected("a digit in the exponent");
    }
    *out = std::string(text_.substr(start, pos_ - start));
    return true;
  }

  // REQUIRES: Peek() is '"'.
  bool ReadString(std::string* out) {
    const int open_line = line_;
    const int open_column = column_;
    Consume('"');
    out->clear();
    for (;;) {
      if (at_end()) {
        return FailAt(open_line, open_column, "string is never closed");
      }
      const unsigned char c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        Consume('"');
        return true;
      }
      if (c == '\n') return Fail("line break inside a string (write \\n)");
      if (c < 0x20) {
        return Fail(absl::StrCat("control character U+", Hex4(c),
                                 " inside a string (escape it)"));
      }
      if (c == '\\') {
        if (!ReadEscape(out)) return false;
        continue;
      }
      const size_t n = Utf8SequenceLength(text_, pos_);
      if (n == 0) return Fail("invalid UTF-8 in a string");
      out->append(text_.data() + pos_, n);
      pos_ += n;
      ++column_;
    }
  }

  // REQUIRES: Peek() is '\\' inside a string.
  bool ReadEscape(std::string* out) {
    const int escape_column = column_;
    Consume('\\');
    if (at_end()) return FailExpected("an escape");
    const char e = text_[pos_];
    static constexpr absl::string_view kFrom = "\"\\/bfnrt";
    static constexpr absl::string_view kTo = "\"\\/\b\f\n\r\t";
    if (const size_t k = kFrom.find(e); k != absl::string_view::npos) {
      *out += kTo[k];
      Consume(e);
      return true;
    }
    if (e != 'u') {
      return FailAt(
          line_, escape_column,
          absl::StrCat("invalid escape: \\ followed by ", DescribeNext()));
    }
    Consume('u');
    uint32_t unit;
    if (!ReadHex4(&unit)) return false;
    if (unit >= 0xDC00 && unit <= 0xDFFF) {
      return FailAt(line_, escape_column,
                    absl::StrCat("lone low surrogate \\u", Hex4(unit)));
    }
    if (unit >= 0xD800 && unit <= 0xDBFF) {
      // UTF-16 spells code points past U+FFFF as two escapes; only the pair
      // names a character.
      uint32_t low = 0;
      if (text_.substr(pos_, 2) != "\\u") {
        return FailAt(line_, escape_column,
                      absl::StrCat("lone high surrogate \\u", Hex4(unit)));
      }
      Consume('\\');
      Consume('u');
      if (!ReadHex4(&low)) return false;
      if (low < 0xDC00 || low > 0xDFFF) {
        return FailAt(line_, escape_column,
                      absl::StrCat("high surrogate \\u", Hex4(unit),
                                   " is followed by \\u", Hex4(low),
                                   ", not a low surrogate"));
      }
      unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
    }
    AppendUtf8(unit, out);
    return true;
  }

  bool ReadHex4(uint32_t* out) {
    *out = 0;
    for (int i = 0; i < 4; ++i) {
      const int c = Peek();
      int digit;
      if (c >= '0' && c <= '9') {
        digit = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        digit = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        digit = c - 'A' + 10;
      } else {
        return FailExpected("four hex digits after \\u");
      }
      *out = *out * 16 + digit;
      Consume(static_cast<char>(c));
    }
    return true;
  }

  absl::string_view text_;
  size_t pos_ = 0;
  int line_;
  int column_ = 1;  // in characters
  std::string error_;
  int error_line_ = 0;
  int error_column_ = 0;
};

absl::Status SyntaxError(absl::string_view file, const Parser& parser) {
  return absl::InvalidArgumentError(absl::StrCat(file, ":", parser.error_line(),
                                                 ":", parser.error_column(),
                                                 ": ", parser.error()));
}

absl::Status ParseArray(absl::string_view text, JsonTable* table) {
  Parser parser(text, 1);
  parser.SkipByteOrderMark();
  parser.SkipWhitespace();
  if (!parser.Consume('[')) {
    parser.FailExpected("a JSON array");
    return SyntaxError(table->file, parser);
  }
  parser.SkipWhitespace();
  if (!parser.Consume(']')) {
    for (int record = 1;; ++record) {
      parser.SkipWhitespace();
      JsonRecord r;
      r.record = record;
      r.line = parser.line();
      std::string problem;
      if (!parser.ReadRecord(&r.fields, &problem)) {
        return SyntaxError(table->file, parser);
      }
      if (problem.empty()) {
        table->records.push_back(std::move(r));
      } else {
        // Several records may share a line, so the number says which.
        table->quarantine.push_back(
            {table->file, r.line,
             absl::StrCat("record ", record, ": ", problem)});
      }
      parser.SkipWhitespace();
      if (parser.Consume(',')) continue;
      if (parser.Consume(']')) break;
      parser.FailExpected("',' or ']'");
      return SyntaxError(table->file, parser);
    }
  }
  parser.SkipWhitespace();
  if (!parser.at_end()) {
    parser.Fail("unexpected text after the array");
    return SyntaxError(table->file, parser);
  }
  return absl::OkStatus();
}

void ParseLines(absl::string_view text, JsonTable* table) {
  if (text.substr(0, kByteOrderMark.size()) == kByteOrderMark) {
    text.remove_prefix(kByteOrderMark.size());
  }
  int line = 0;
  size_t start = 0;
  while (start < text.size()) {
    ++line;
    size_t end = text.find('\n', start);
    if (end == absl::string_view::npos) end = text.size();
    Parser parser(text.substr(start, end - start), line);
    start = end + 1;
    parser.SkipWhitespace();
    if (parser.at_end()) continue;  // a blank line
    JsonRecord r;
    r.record = line;
    r.line = line;
    std::string problem;
    if (parser.ReadRecord(&r.fields, &problem) && problem.empty()) {
      parser.SkipWhitespace();
      if (!parser.at_end()) parser.Fail("unexpected text after the object");
    }
    if (!parser.error().empty()) {
      problem =
          absl::StrCat("column ", parser.error_column(), ": ", parser.error());
    }
    if (problem.empty()) {
      table->records.push_back(std::move(r));
    } else {
      table->quarantine.push_back({table->file, line, std::move(problem)});
    }
  }
}

// `scalar` as a value of `type`, or InvalidArgument "expects <type>, got
// <scalar>". Kinds must match (a quoted "12" is not an int64): a producer
// that quotes numbers is sending text, and silently converting would hide
// that. Null converts to null for every type.
absl::StatusOr<Value> Convert(const JsonScalar& scalar, ValueType type) {
  if (scalar.kind == JsonScalar::kNull) return Value::Null();
  auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        "expects ", ValueTypeName(type), ", got ", Render(scalar)));
  };
  switch (type) {
    case ValueType::kNull:
      return bad();
    case ValueType::kBool:
      if (scalar.kind != JsonScalar::kBool) return bad();
      return Value(scalar.text == "true");
    case ValueType::kInt64: {
      // ParseField takes digits only: 1.0 or 1e3 say the producer meant a
      // double, so they stay one.
      if (scalar.kind != JsonScalar::kNumber) return bad();
      absl::StatusOr<Value> v = ParseField(scalar.text, type);
      if (!v.ok()) return bad();
      return v;
    }
    case ValueType::kDouble: {
      // JSON has no infinity: a literal past double range is refused
      // rather than turned into one.
      if (scalar.kind != JsonScalar::kNumber) return bad();
      absl::StatusOr<Value> v = ParseField(scalar.text, type);
      if (!v.ok() || !std::isfinite(v->as_double())) return bad();
      return v;
    }
    case ValueType::kString:
      return Value(scalar.text);
    case ValueType::kTimestamp: {
      // ParseField reads "" as null; a JSON "" is not.
      if (scalar.kind != JsonScalar::kString || scalar.text.empty()) {
        return bad();
      }
      absl::StatusOr<Value> v = ParseField(scalar.text, type);
      if (!v.ok()) return bad();
      return v;
    }
  }
  return bad();
}

}  // namespace

absl::StatusOr<JsonTable> ParseJson(absl::string_view text,
                                    absl::string_view file, JsonFormat format) {
  JsonTable table;
  table.file = std::string(file);
  table.format = format;
  if (format == JsonFormat::kArray) {
    absl::Status status = ParseArray(text, &table);
    if (!status.ok()) return status;
  } else {
    ParseLines(text, &table);
  }
  std::unordered_set<std::string> seen;
  for (const JsonRecord& r : table.records) {
    for (const auto& [name, value] : r.fields) {
      if (seen.insert(name).second) table.columns.push_back(name);
    }
  }
  return table;
}

Schema InferSchema(const JsonTable& table) {
  std::unordered_map<std::string, size_t> index;
  for (size_t c = 0; c < table.columns.size(); ++c) {
    index.emplace(table.columns[c], c);
  }
  // Candidate types, most specific first; the kinds they accept are
  // disjoint apart from int64 and double, so the first that fits every
  // value is the column's type.
  static constexpr ValueType kOrder[] = {ValueType::kInt64, ValueType::kDouble,
                                         ValueType::kBool,
                                         ValueType::kTimestamp};
  constexpr int kCandidates = 4;
  struct Column {
    size_t present = 0;
    bool any = false;
    bool has_null = false;
    bool fits[kCandidates] = {true, true, true, true};
  };
  std::vector<Column> columns(table.columns.size());
  for (const JsonRecord& r : table.records) {
    for (const auto& [name, value] : r.fields) {
      auto it = index.find(name);
      if (it == index.end()) continue;  // a hand-built table
      Column& column = columns[it->second];
      ++column.present;
      if (value.kind == JsonScalar::kNull) {
        column.has_null = true;
        continue;
      }
      column.any = true;
      for (int k = 0; k < kCandidates; ++k) {
        if (column.fits[k] && !Convert(value, kOrder[k]).ok()) {
          column.fits[k] = false;
        }
      }
    }
  }
  std::vector<Field> fields;
  for (size_t c = 0; c < table.columns.size(); ++c) {
    const Column& column = columns[c];
    Field field{table.columns[c], ValueType::kString, false, "", {}};
    field.nullable =
        column.has_null || !column.any || column.present < table.records.size();
    for (int k = 0; column.any && k < kCandidates; ++k) {
      if (column.fits[k]) {
        field.type = kOrder[k];
        break;
      }
    }
    fields.push_back(std::move(field));
  }
  return Schema(std::move(fields));
}

JsonRows ToRows(const JsonTable& table, const Schema& schema) {
  JsonRows out;
  out.quarantine = table.quarantine;
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < schema.size(); ++i) {
    index.emplace(schema.fields()[i].name, i);
  }
  for (const JsonRecord& r : table.records) {
    std::vector<Value> values(schema.size());  // every value starts null
    std::vector<bool> seen(schema.size(), false);
    std::string error;
    for (const auto& [name, scalar] : r.fields) {
      auto it = index.find(name);
      if (it == index.end()) {
        error = absl::StrCat("unknown field '", name, "'");
        break;
      }
      const Field& f = schema.fields()[it->second];
      if (seen[it->second]) {
        error = absl::StrCat("duplicate field '", name, "'");
        break;
      }
      seen[it->second] = true;
      absl::StatusOr<Value> v = Convert(scalar, f.type);
      if (!v.ok()) {
        error = absl::StrCat("field '", f.name, "' ", v.status().message());
        break;
      }
      if (v->is_null() && !f.nullable) {
        error = absl::StrCat("field '", f.name, "' is null but not nullable");
        break;
      }
      values[it->second] = *std::move(v);
    }
    for (size_t i = 0; error.empty() && i < schema.size(); ++i) {
      if (!seen[i] && !schema.fields()[i].nullable) {
        error = absl::StrCat("field '", schema.fields()[i].name,
                             "' is missing but not nullable");
      }
    }
    Row row(values);
    if (error.empty()) {
      absl::Status fits = schema.Validate(row);
      if (!fits.ok()) error = std::string(fits.message());
    }
    if (!error.empty()) {
      if (table.format == JsonFormat::kArray) {
        error = absl::StrCat("record ", r.record, ": ", error);
      }
      out.quarantine.push_back({table.file, r.line, std::move(error)});
      continue;
    }
    out.rows.emplace_back(r.line, std::move(row));
  }
  return out;
}

}  // namespace diffmesh
