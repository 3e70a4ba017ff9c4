// Value: one self-describing value; rows of them are packed (catalog/row.h).
//
//   Value v(int64_t{7});
//   v.type() == ValueType::kInt64;   Value::Null().is_null();
//   Row row{v, Value("ada@example.org")};   // rows pack values: catalog/row.h
//
// A Value is null, bool, int64, double, string or timestamp (microseconds
// since the Unix epoch, UTC). Values are totally ordered (first by type in
// the order above, then by value) with equality and hashing that agree with
// the order; a Row (catalog/row.h) packs values in the same order.
//
// Invariants: a double is stored canonically (-0.0 as 0.0, every NaN as one
// NaN that sorts after every other double), so equal values hash equally.
// Thread-safety: a value type (like std::string: const methods from any
// thread; one writer at a time).
#pragma once

#include <cmath>
#include <compare>
#include <cstdint>
#include <iosfwd>
#include <limits>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/hash/hash.h"
#include "engine/wire.h"

namespace diffmesh {

enum class ValueType : uint8_t {
  kNull = 0,
  kBool = 1,
  kInt64 = 2,
  kDouble = 3,
  kString = 4,
  kTimestamp = 5,
};

// The name used in schemas and messages: "null", "bool", "int64", "double",
// "string", "timestamp".
const char* ValueTypeName(ValueType type);

// Microseconds since 1970-01-01T00:00:00Z.
struct TimestampMicros {
  int64_t micros = 0;
  friend auto operator<=>(const TimestampMicros&,
                          const TimestampMicros&) = default;
};

// The text forms the CSV and JSON readers take back exactly (writers use
// them): a timestamp as YYYY-MM-DDTHH:MM:SS[.ffffff]Z in UTC (years 0000 to
// 9999 read back); a double in the shortest form that reads back to it,
// with ".0" when it would read as an integer, and inf, -inf or nan.
std::string FormatTimestamp(TimestampMicros t);
std::string FormatDouble(double d);

// The one form of a double that values and rows keep: every NaN as one
// NaN, -0.0 as 0.0.
inline double CanonicalDouble(double d) {
  if (std::isnan(d)) return std::numeric_limits<double>::quiet_NaN();
  return d == 0.0 ? 0.0 : d;
}

// The order of canonical doubles: NaN is the one value not ordered by <,
// and sorts last.
std::strong_ordering CompareCanonicalDoubles(double x, double y);

class Value {
 public:
  Value() = default;  // null
  static Value Null() { return Value(); }
  explicit Value(bool b) : v_(b) {}
  explicit Value(int64_t i) : v_(i) {}
  explicit Value(double d) : v_(CanonicalDouble(d)) {}
  explicit Value(std::string s) : v_(std::move(s)) {}
  explicit Value(const char* s) : v_(std::string(s)) {}
  explicit Value(TimestampMicros t) : v_(t) {}

  ValueType type() const { return static_cast<ValueType>(v_.index()); }
  bool is_null() const { return v_.index() == 0; }
  // REQUIRES: type() is the one asked for.
  bool as_bool() const { return std::get<bool>(v_); }
  int64_t as_int64() const { return std::get<int64_t>(v_); }
  double as_double() const { return std::get<double>(v_); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  TimestampMicros as_timestamp() const { return std::get<TimestampMicros>(v_); }

  // A readable form: null, true, 42, 1.5, "text" (quoted, escaped),
  // ts:1700000000000000.
  std::string DebugString() const;

  // The same in every process (engine/stable_hash.h): the hash of the
  // value packed as a one-column Row.
  uint64_t StableHash() const;
  // Crosses processes (engine/wire.h) as its type and payload.
  void WireEncode(WireWriter& writer) const;
  bool WireDecode(WireReader& reader);

  friend std::strong_ordering operator<=>(const Value& a, const Value& b);
  // Agrees with the order (so NaN equals NaN).
  friend bool operator==(const Value& a, const Value& b) {
    return (a <=> b) == 0;
  }

  template <typename H>
  friend H AbslHashValue(H h, const Value& v) {
    h = H::combine(std::move(h), v.v_.index());
    switch (v.type()) {
      case ValueType::kNull:
        return h;
      case ValueType::kBool:
        return H::combine(std::move(h), v.as_bool());
      case ValueType::kInt64:
        return H::combine(std::move(h), v.as_int64());
      case ValueType::kDouble:
        return H::combine(std::move(h), v.as_double());
      case ValueType::kString:
        return H::combine(std::move(h), v.as_string());
      case ValueType::kTimestamp:
        return H::combine(std::move(h), v.as_timestamp().micros);
    }
    return h;
  }

 private:
  std::variant<std::monostate, bool, int64_t, double, std::string,
               TimestampMicros>
      v_;
};

// Lets test frameworks (gtest) print values readably.
void PrintTo(const Value& value, std::ostream* os);

}  // namespace diffmesh
