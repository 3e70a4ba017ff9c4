#include "governance/value_order.h"

#include <bit>
#include <cstdint>
#include <limits>
#include <string>

namespace diffmesh {
namespace {

// An int64 that orders as the canonical double does (NaN last).
int64_t DoubleOrderKey(double d) {
  int64_t bits = std::bit_cast<int64_t>(CanonicalDouble(d));
  return bits < 0 ? bits ^ std::numeric_limits<int64_t>::max() : bits;
}

double DoubleFromOrderKey(int64_t key) {
  if (key < 0) key ^= std::numeric_limits<int64_t>::max();
  return std::bit_cast<double>(key);
}

}  // namespace

void AppendReversed(Datum value, Row* row) {
  switch (value.type()) {
    case ValueType::kNull:
      row->AppendNull();
      return;
    case ValueType::kBool:
      row->AppendInt64(value.as_bool() ? 0 : 1);
      return;
    case ValueType::kInt64:
      row->AppendInt64(~value.as_int64());
      return;
    case ValueType::kTimestamp:
      row->AppendInt64(~value.as_timestamp().micros);
      return;
    case ValueType::kDouble:
      row->AppendInt64(~DoubleOrderKey(value.as_double()));
      return;
    case ValueType::kString: {
      const absl::string_view s = value.as_string();
      std::string out;
      out.reserve(s.size() + 2);
      for (unsigned char c : s) {
        if (c == 0) {
          out.push_back(static_cast<char>(0xFF));
          out.push_back('\0');
        } else {
          out.push_back(static_cast<char>(255 - c));
        }
      }
      out.append("\xFF\xFF", 2);
      row->AppendString(out);
      return;
    }
  }
}

Value FromReversed(Datum reversed, ValueType type) {
  if (reversed.is_null()) return Value::Null();
  switch (type) {
    case ValueType::kNull:
      return Value::Null();
    case ValueType::kBool:
      return Value(reversed.as_int64() == 0);
    case ValueType::kInt64:
      return Value(static_cast<int64_t>(~reversed.as_int64()));
    case ValueType::kTimestamp:
      return Value(TimestampMicros{~reversed.as_int64()});
    case ValueType::kDouble:
      return Value(DoubleFromOrderKey(~reversed.as_int64()));
    case ValueType::kString: {
      const absl::string_view s = reversed.as_string();
      std::string out;
      // Everything before the final FF FF.
      const size_t end = s.size() >= 2 ? s.size() - 2 : 0;
      for (size_t i = 0; i < end; ++i) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (c == 0xFF) {
          out.push_back('\0');
          ++i;  // the 00 after it
        } else {
          out.push_back(static_cast<char>(255 - c));
        }
      }
      return Value(std::move(out));
    }
  }
  return Value::Null();
}

}  // namespace diffmesh
