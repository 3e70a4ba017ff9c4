#include "catalog/row.h"

#include <array>
#include <bit>
#include <cmath>
#include <limits>
#include <ostream>

#include "absl/strings/str_cat.h"
#include "engine/stable_hash.h"

namespace diffmesh {

static_assert(std::endian::native == std::endian::little,
              "the row encoding reads integers in place, little endian");

namespace {

constexpr uint8_t kLongString = 0x4F;

// Bytes that sign-extend back to `i` (0 for 0).
size_t IntWidth(int64_t i) {
  if (i == 0) return 0;
  // Bits needed besides the sign: those of i, or of ~i when negative.
  uint64_t magnitude = static_cast<uint64_t>(i < 0 ? ~i : i);
  size_t bits = 64 - static_cast<size_t>(std::countl_zero(magnitude)) + 1;
  return (bits + 7) / 8;
}

size_t VarintSize(uint64_t n) {
  size_t size = 1;
  while (n >= 0x80) {
    n >>= 7;
    ++size;
  }
  return size;
}

// Reads a LEB128 length at p; returns its byte count.
size_t ReadVarint(const uint8_t* p, uint64_t* n) {
  uint64_t value = 0;
  size_t i = 0;
  for (;; ++i) {
    value |= static_cast<uint64_t>(p[i] & 0x7F) << (7 * i);
    if ((p[i] & 0x80) == 0) break;
  }
  *n = value;
  return i + 1;
}

}  // namespace

absl::string_view Datum::as_string() const {
  uint8_t n = *p_ & 0x0F;
  if (n != 0x0F) {
    return absl::string_view(reinterpret_cast<const char*>(p_ + 1), n);
  }
  uint64_t length;
  size_t header = 1 + ReadVarint(p_ + 1, &length);
  return absl::string_view(reinterpret_cast<const char*>(p_ + header), length);
}

namespace {

// Bytes a value takes given its tag, for every tag but the long string
// (0x4F, whose length follows). Tags outside the encoding never reach a
// Datum (FromBytes refuses them).
constexpr std::array<uint8_t, 256> kEncodedSizes = [] {
  std::array<uint8_t, 256> sizes{};
  sizes.fill(1);
  for (int n = 0; n <= 8; ++n) {
    sizes[0x20 | n] = static_cast<uint8_t>(1 + n);
    sizes[0x50 | n] = static_cast<uint8_t>(1 + n);
  }
  sizes[0x38] = 9;
  for (int n = 0; n < 15; ++n) sizes[0x40 | n] = static_cast<uint8_t>(1 + n);
  sizes[kLongString] = 0;
  return sizes;
}();

}  // namespace

size_t Datum::EncodedSize() const {
  if (size_t n = kEncodedSizes[*p_]; n != 0) return n;
  uint64_t length;
  size_t header = 1 + ReadVarint(p_ + 1, &length);
  return header + length;
}

Value Datum::ToValue() const {
  switch (type()) {
    case ValueType::kNull:
      return Value();
    case ValueType::kBool:
      return Value(as_bool());
    case ValueType::kInt64:
      return Value(as_int64());
    case ValueType::kDouble:
      return Value(as_double());
    case ValueType::kString:
      return Value(std::string(as_string()));
    case ValueType::kTimestamp:
      return Value(as_timestamp());
  }
  return Value();
}

std::string Datum::DebugString() const { return ToValue().DebugString(); }

std::strong_ordering operator<=>(Datum a, Datum b) {
  ValueType ta = a.type(), tb = b.type();
  if (ta != tb) return ta <=> tb;
  switch (ta) {
    case ValueType::kNull:
      return std::strong_ordering::equal;
    case ValueType::kBool:
      return a.as_bool() <=> b.as_bool();
    case ValueType::kInt64:
    case ValueType::kTimestamp:
      return a.ReadInt() <=> b.ReadInt();
    case ValueType::kDouble:
      return CompareCanonicalDoubles(a.as_double(), b.as_double());
    case ValueType::kString:
      return a.as_string().compare(b.as_string()) <=> 0;
  }
  return std::strong_ordering::equal;
}

bool operator==(Datum a, Datum b) {
  size_t n = a.EncodedSize();
  return n == b.EncodedSize() && std::memcmp(a.p_, b.p_, n) == 0;
}

bool operator==(Datum a, const Value& b) {
  if (a.type() != b.type()) return false;
  switch (b.type()) {
    case ValueType::kNull:
      return true;
    case ValueType::kBool:
      return a.as_bool() == b.as_bool();
    case ValueType::kInt64:
      return a.as_int64() == b.as_int64();
    case ValueType::kDouble:
      return CompareCanonicalDoubles(a.as_double(), b.as_double()) == 0;
    case ValueType::kString:
      return a.as_string() == absl::string_view(b.as_string());
    case ValueType::kTimestamp:
      return a.as_timestamp() == b.as_timestamp();
  }
  return false;
}

Row::Row(std::initializer_list<Value> values) {
  for (const Value& v : values) push_back(v);
}

Row::Row(const std::vector<Value>& values) {
  for (const Value& v : values) push_back(v);
}

void Row::AppendInt(uint8_t type_tag, int64_t i) {
  size_t n = IntWidth(i);
  uint8_t buf[9];
  buf[0] = static_cast<uint8_t>(type_tag | n);
  uint64_t raw = static_cast<uint64_t>(i);
  std::memcpy(buf + 1, &raw, 8);
  bytes_.append_from<9>(buf, 1 + n);
}

void Row::AppendDouble(double d) {
  d = CanonicalDouble(d);
  uint8_t buf[9];
  buf[0] = 0x38;
  std::memcpy(buf + 1, &d, 8);
  bytes_.append_from<9>(buf, 9);
}

void Row::AppendString(absl::string_view s) {
  const auto* text = reinterpret_cast<const uint8_t*>(s.data());
  if (s.size() < 15) {
    bytes_.push_back(static_cast<uint8_t>(0x40 | s.size()));
  } else {
    uint8_t buf[11];
    buf[0] = kLongString;
    size_t n = 1;
    uint64_t length = s.size();
    while (length >= 0x80) {
      buf[n++] = static_cast<uint8_t>(length | 0x80);
      length >>= 7;
    }
    buf[n++] = static_cast<uint8_t>(length);
    bytes_.append(buf, n);
  }
  bytes_.append(text, s.size());
}

void Row::push_back(const Value& v) {
  switch (v.type()) {
    case ValueType::kNull:
      AppendNull();
      break;
    case ValueType::kBool:
      AppendBool(v.as_bool());
      break;
    case ValueType::kInt64:
      AppendInt64(v.as_int64());
      break;
    case ValueType::kDouble:
      AppendDouble(v.as_double());
      break;
    case ValueType::kString:
      AppendString(v.as_string());
      break;
    case ValueType::kTimestamp:
      AppendTimestamp(v.as_timestamp());
      break;
  }
}

bool Row::WireDecode(WireReader& reader) {
  uint64_t size;
  absl::string_view bytes;
  if (!reader.Size(&size, reader.remaining()) || !reader.View(size, &bytes)) {
    return false;
  }
  absl::StatusOr<Row> row = FromBytes(bytes, "a message");
  if (!row.ok()) return reader.Fail();
  *this = *std::move(row);
  return true;
}

absl::StatusOr<Row> Row::FromBytes(absl::string_view bytes,
                                   absl::string_view where) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t size = bytes.size();
  auto bad = [&](size_t at, absl::string_view why) {
    return absl::DataLossError(
        absl::StrCat(where, ": not a valid row at byte ", at, ": ", why));
  };
  for (size_t at = 0; at < size;) {
    uint8_t tag = p[at];
    uint8_t n = tag & 0x0F;
    size_t need = 1;
    switch (static_cast<ValueType>(tag >> 4)) {
      case ValueType::kNull:
        if (n != 0) return bad(at, "unknown tag");
        break;
      case ValueType::kBool:
        if (n > 1) return bad(at, "unknown tag");
        break;
      case ValueType::kInt64:
      case ValueType::kTimestamp: {
        if (n > 8) return bad(at, "integer wider than 8 bytes");
        need += n;
        if (at + need > size) return bad(at, "truncated integer");
        if (IntWidth(Datum(p + at).as_int64()) != n) {
          return bad(at, "integer not in its shortest form");
        }
        break;
      }
      case ValueType::kDouble: {
        if (n != 8) return bad(at, "unknown tag");
        need = 9;
        if (at + need > size) return bad(at, "truncated double");
        double d = Datum(p + at).as_double();
        uint64_t bits, canonical_bits;
        double canonical = CanonicalDouble(d);
        std::memcpy(&bits, &d, 8);
        std::memcpy(&canonical_bits, &canonical, 8);
        if (bits != canonical_bits) return bad(at, "double not canonical");
        break;
      }
      case ValueType::kString: {
        uint64_t length = n;
        if (n == 0x0F) {
          size_t i = at + 1;
          uint64_t value = 0;
          int shift = 0;
          for (;; ++i, shift += 7) {
            if (i >= size) return bad(at, "truncated string length");
            if (shift > 56) return bad(at, "string length too long");
            value |= static_cast<uint64_t>(p[i] & 0x7F) << shift;
            if ((p[i] & 0x80) == 0) break;
          }
          length = value;
          need = i + 1 - at;
          if (length < 15 || VarintSize(length) != need - 1) {
            return bad(at, "string length not in its shortest form");
          }
        }
        if (length > size - at - need) return bad(at, "truncated string");
        need += length;
        break;
      }
      default:
        return bad(at, absl::StrCat("unknown value type ", tag >> 4));
    }
    at += need;
  }
  Row row;
  row.bytes_.assign(p, size);
  return row;
}

size_t Row::size() const {
  size_t n = 0;
  for (auto it = begin(); it != end(); ++it) ++n;
  return n;
}

Datum Row::operator[](size_t i) const {
  auto it = begin();
  while (i-- > 0) ++it;
  return *it;
}

std::vector<Value> Row::ToValues() const {
  std::vector<Value> out;
  for (Datum d : *this) out.push_back(d.ToValue());
  return out;
}

uint64_t Row::StableHash() const {
  return StableHashBytes(bytes_.data(), bytes_.size());
}

namespace {

constexpr int64_t kExactIntLow = -(int64_t{1} << 60);
constexpr int64_t kExactIntHigh = (int64_t{1} << 60) - 1;

// An integer's order in 61 bits: 0 and 2^61 - 1 stand for every value at
// or beyond the ends of the exact range.
uint64_t IntPrefixBits(int64_t v) {
  if (v <= kExactIntLow) return 0;
  if (v >= kExactIntHigh) return (uint64_t{1} << 61) - 1;
  return static_cast<uint64_t>(v - kExactIntLow);
}

}  // namespace

bool Datum::SortPrefixIsExact() const {
  switch (type()) {
    case ValueType::kNull:
    case ValueType::kBool:
      return true;
    case ValueType::kInt64:
    case ValueType::kTimestamp: {
      const int64_t v = ReadInt();
      return v > kExactIntLow && v < kExactIntHigh;
    }
    default:
      return false;
  }
}

uint64_t Row::SortPrefix() const {
  return bytes_.empty() ? 0 : Datum(bytes_.data()).SortPrefix();
}

uint64_t Datum::SortPrefix() const {
  const Datum d = *this;
  const uint64_t type = static_cast<uint64_t>(d.type()) << 61;
  uint64_t bits = 0;  // the value's order as an unsigned integer
  switch (d.type()) {
    case ValueType::kNull:
      break;
    case ValueType::kBool:
      bits = d.as_bool() ? 1ULL << 63 : 0;
      break;
    case ValueType::kInt64:
    case ValueType::kTimestamp:
      // Exact within (-2^60, 2^60), clamped beyond; shifted up by 3 so the
      // shift below keeps all 61 bits.
      bits = IntPrefixBits(d.ReadInt()) << 3;
      break;
    case ValueType::kDouble: {
      // Canonical doubles (no -0, one NaN, which sorts last) in IEEE order.
      const uint64_t raw = std::bit_cast<uint64_t>(d.as_double());
      bits = (raw >> 63) != 0 ? ~raw : raw | (1ULL << 63);
      break;
    }
    case ValueType::kString: {
      const absl::string_view s = d.as_string();
      for (size_t i = 0; i < 8; ++i) {
        bits = bits << 8 | (i < s.size() ? static_cast<uint8_t>(s[i]) : 0);
      }
      break;
    }
  }
  return type | bits >> 3;
}

std::strong_ordering operator<=>(const Row& a, const Row& b) {
  // Up to the first byte that differs the rows hold the same values (the
  // encoding is canonical), so only the value holding that byte is
  // compared; its start is found by skipping whole values.
  const uint8_t* x = a.bytes_.data();
  const uint8_t* y = b.bytes_.data();
  const size_t common = std::min(a.bytes_.size(), b.bytes_.size());
  size_t m = 0;
  while (m + 8 <= common) {
    uint64_t u, v;
    std::memcpy(&u, x + m, 8);
    std::memcpy(&v, y + m, 8);
    if (u != v) {
      m += static_cast<size_t>(std::countr_zero(u ^ v)) / 8;
      break;
    }
    m += 8;
  }
  while (m < common && x[m] == y[m]) ++m;
  if (m == common) return a.bytes_.size() <=> b.bytes_.size();
  size_t at = 0;
  for (;;) {
    size_t next = at + Datum(x + at).EncodedSize();
    if (next > m) break;
    at = next;
  }
  // `at` starts a value in both rows (they agree before m).
  return Datum(x + at) <=> Datum(y + at);
}

std::string RowDebugString(const Row& row) {
  std::string out = "(";
  bool first = true;
  for (Datum d : row) {
    if (!first) out += ", ";
    first = false;
    out += d.DebugString();
  }
  return out + ")";
}

void PrintTo(const Row& row, std::ostream* os) { *os << RowDebugString(row); }

void PrintTo(Datum datum, std::ostream* os) { *os << datum.DebugString(); }

}  // namespace diffmesh
