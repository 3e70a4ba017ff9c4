#include "catalog/value.h"

#include <charconv>
#include <cstdio>
#include <ostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "catalog/row.h"

namespace diffmesh {

const char* ValueTypeName(ValueType type) {
  switch (type) {
    case ValueType::kNull:
      return "null";
    case ValueType::kBool:
      return "bool";
    case ValueType::kInt64:
      return "int64";
    case ValueType::kDouble:
      return "double";
    case ValueType::kString:
      return "string";
    case ValueType::kTimestamp:
      return "timestamp";
  }
  return "unknown";
}

std::strong_ordering CompareCanonicalDoubles(double x, double y) {
  const bool nx = std::isnan(x), ny = std::isnan(y);
  if (nx || ny)
    return nx == ny ? std::strong_ordering::equal
           : nx     ? std::strong_ordering::greater
                    : std::strong_ordering::less;
  if (x < y) return std::strong_ordering::less;
  if (y < x) return std::strong_ordering::greater;
  return std::strong_ordering::equal;
}

std::strong_ordering operator<=>(const Value& a, const Value& b) {
  if (a.v_.index() != b.v_.index()) return a.v_.index() <=> b.v_.index();
  switch (a.type()) {
    case ValueType::kNull:
      return std::strong_ordering::equal;
    case ValueType::kBool:
      return a.as_bool() <=> b.as_bool();
    case ValueType::kInt64:
      return a.as_int64() <=> b.as_int64();
    case ValueType::kDouble:
      return CompareCanonicalDoubles(a.as_double(), b.as_double());
    case ValueType::kString:
      return a.as_string().compare(b.as_string()) <=> 0;
    case ValueType::kTimestamp:
      return a.as_timestamp() <=> b.as_timestamp();
  }
  return std::strong_ordering::equal;
}

uint64_t Value::StableHash() const { return Row{*this}.StableHash(); }

std::string FormatTimestamp(TimestampMicros t) {
  // Floor division: the second a negative time falls in, and the micros
  // after it.
  int64_t seconds = t.micros / 1'000'000;
  int64_t fraction = t.micros % 1'000'000;
  if (fraction < 0) {
    fraction += 1'000'000;
    --seconds;
  }
  const absl::CivilSecond c =
      absl::ToCivilSecond(absl::FromUnixSeconds(seconds), absl::UTCTimeZone());
  std::string out =
      absl::StrFormat("%04d-%02d-%02dT%02d:%02d:%02d", c.year(), c.month(),
                      c.day(), c.hour(), c.minute(), c.second());
  if (fraction != 0) absl::StrAppend(&out, absl::StrFormat(".%06d", fraction));
  out.push_back('Z');
  return out;
}

std::string FormatDouble(double d) {
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  if (std::isnan(d)) return "nan";
  char buf[64];
  auto [end, error] = std::to_chars(buf, buf + sizeof(buf), d);
  std::string out(buf, static_cast<size_t>(end - buf));
  if (out.find_first_of(".e") == std::string::npos) out += ".0";
  return out;
}

std::string Value::DebugString() const {
  switch (type()) {
    case ValueType::kNull:
      return "null";
    case ValueType::kBool:
      return as_bool() ? "true" : "false";
    case ValueType::kInt64:
      return absl::StrCat(as_int64());
    case ValueType::kDouble: {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%.17g", as_double());
      return buf;
    }
    case ValueType::kString: {
      std::string out = "\"";
      for (char c : as_string()) {
        if (c == '"' || c == '\\') out += '\\';
        if (c == '\n') {
          out += "\\n";
          continue;
        }
        out += c;
      }
      return out + "\"";
    }
    case ValueType::kTimestamp:
      return absl::StrCat("ts:", as_timestamp().micros);
  }
  return "?";
}

void PrintTo(const Value& value, std::ostream* os) {
  *os << value.DebugString();
}

void Value::WireEncode(WireWriter& writer) const {
  const uint8_t tag = static_cast<uint8_t>(type());
  writer.Bytes(&tag, 1);
  switch (type()) {
    case ValueType::kNull:
      return;
    case ValueType::kBool:
      return diffmesh::WireEncode(writer, as_bool());
    case ValueType::kInt64:
      return diffmesh::WireEncode(writer, as_int64());
    case ValueType::kDouble:
      return diffmesh::WireEncode(writer, as_double());
    case ValueType::kString:
      return diffmesh::WireEncode(writer, as_string());
    case ValueType::kTimestamp:
      return diffmesh::WireEncode(writer, as_timestamp().micros);
  }
}

bool Value::WireDecode(WireReader& reader) {
  uint8_t tag;
  if (!reader.Bytes(&tag, 1)) return false;
  switch (static_cast<ValueType>(tag)) {
    case ValueType::kNull:
      *this = Value();
      return true;
    case ValueType::kBool: {
      bool b;
      if (!diffmesh::WireDecode(reader, b)) return false;
      *this = Value(b);
      return true;
    }
    case ValueType::kInt64: {
      int64_t i;
      if (!diffmesh::WireDecode(reader, i)) return false;
      *this = Value(i);
      return true;
    }
    case ValueType::kDouble: {
      double d;
      if (!diffmesh::WireDecode(reader, d)) return false;
      *this = Value(d);
      return true;
    }
    case ValueType::kString: {
      std::string text;
      if (!diffmesh::WireDecode(reader, text)) return false;
      *this = Value(std::move(text));
      return true;
    }
    case ValueType::kTimestamp: {
      int64_t micros;
      if (!diffmesh::WireDecode(reader, micros)) return false;
      *this = Value(TimestampMicros{micros});
      return true;
    }
  }
  return reader.Fail();
}

}  // namespace diffmesh
