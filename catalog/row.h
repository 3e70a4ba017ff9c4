// Row: a packed record, the values of one product row back to back in one
// byte string; Datum: a borrowed view of one value inside a row.
//
//   Row row{Value(int64_t{7}), Value("ada@example.org"), Value::Null()};
//   row.AppendDouble(1.5);                 // packs, no Value built
//   for (Datum d : row) total += d.is_null() ? 0 : 1;
//   row[1].as_string() == "ada@example.org";   row[2].is_null();
//
// A Row owns its bytes: inline (no allocation) up to kInlineBytes, on the
// heap beyond. Rows are what products, batches, traces, sources and the
// store hold; Value stays the convenient type to build or keep one value.
//
// Encoding. Each value is a tag byte, type in the high nibble (ValueType),
// then its payload:
//   null        0x00
//   bool        0x10 false, 0x11 true
//   int64       0x2n, n = 0..8 bytes, little endian, sign-extended
//   double      0x38, 8 bytes of the canonical double (Value's rules)
//   string      0x4n with n < 15 the length, or 0x4F then the length as
//               LEB128; then the bytes
//   timestamp   0x5n, like int64 (microseconds since the epoch)
// Invariants: the encoding is canonical -- integers and timestamps take the
// fewest bytes that sign-extend back to them, a string shorter than 15
// bytes uses the short form, a length's LEB128 has no redundant bytes,
// doubles are canonical -- so two rows are equal exactly when their bytes
// are equal, and equality and hashing read only the bytes.
//
// Order: exactly the order of std::vector<Value> (column by column, each
// first by type, then by value; a prefix sorts first), by a typed walk over
// the bytes. The walk keeps strings readable in place (a Datum's string is
// a view into the row); an order-preserving byte encoding would have to
// escape them.
//
// Costs: size(), operator[] and DebugString walk the columns (O(columns));
// iteration, equality, hashing and append are linear in the bytes.
//
// Thread-safety: like std::string (const methods from any thread; a Row
// being changed by one thread is not read by another).
#pragma once

#include <algorithm>
#include <compare>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <iosfwd>
#include <iterator>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "catalog/value.h"
#include "engine/wire.h"

namespace diffmesh {

// A view of one packed value. Valid while the row it points into lives and
// is not changed.
class Datum {
 public:
  // REQUIRES: `tag` points at a value of a canonical encoding.
  explicit Datum(const uint8_t* tag) : p_(tag) {}

  ValueType type() const { return static_cast<ValueType>(*p_ >> 4); }
  bool is_null() const { return *p_ == 0; }
  // REQUIRES: type() is the one asked for.
  bool as_bool() const { return *p_ & 1; }
  int64_t as_int64() const { return ReadInt(); }
  double as_double() const {
    double d;
    std::memcpy(&d, p_ + 1, sizeof d);
    return d;
  }
  absl::string_view as_string() const;
  TimestampMicros as_timestamp() const { return {ReadInt()}; }

  Value ToValue() const;
  // So a Datum can be passed, returned or compared where a Value is
  // expected (a Table::RowFn may return `in[0]`).
  operator Value() const { return ToValue(); }  // NOLINT: implicit on purpose
  std::string DebugString() const;
  // Bytes the value takes in its row, tag included.
  size_t EncodedSize() const;
  // The value's place in the order of values as a 64-bit integer that never
  // contradicts it (a < b implies a.SortPrefix() <= b.SortPrefix()): its
  // type in the top three bits, then the value's leading bits in order.
  uint64_t SortPrefix() const;
  // Whether SortPrefix() tells this value from every other (equal prefixes
  // then mean equal values): nulls, booleans, and integers and timestamps
  // strictly between -2^60 and 2^60.
  bool SortPrefixIsExact() const;
  const uint8_t* data() const { return p_; }

  friend std::strong_ordering operator<=>(Datum a, Datum b);
  friend bool operator==(Datum a, Datum b);
  friend bool operator==(Datum a, const Value& b);
  friend class Row;

 private:
  int64_t ReadInt() const {
    size_t n = *p_ & 0x0F;
    if (n == 0) return 0;
    uint64_t raw = 0;
    std::memcpy(&raw, p_ + 1, n);
    int shift = static_cast<int>(64 - 8 * n);
    return static_cast<int64_t>(raw << shift) >> shift;
  }
  const uint8_t* p_;
};

namespace row_internal {

// A Row's bytes: inline up to Row::kInlineBytes, on the heap beyond, or a
// view of bytes someone else holds (a batch's arena). Copies and moves of a
// view own a copy of its bytes, so only the holder of the view can outlive
// nothing; views are made by Row::View and Row::SetView alone.
class RowBytes {
 public:
  static constexpr size_t kInline = 32;

  RowBytes() = default;
  RowBytes(const RowBytes& o) { CopyFrom(o); }
  RowBytes(RowBytes&& o) noexcept { Take(o); }
  RowBytes& operator=(const RowBytes& o) {
    if (this != &o) {
      if (o.mode_ == kInlineMode && mode_ != kHeapMode) {
        CopyFrom(o);  // no room to keep
      } else {
        assign(o.data(), o.size());
      }
    }
    return *this;
  }
  RowBytes& operator=(RowBytes&& o) noexcept {
    if (this != &o) {
      Free();
      Take(o);
    }
    return *this;
  }
  ~RowBytes() { Free(); }

  // Refers to `n` bytes at `p` without copying them.
  void SetView(const uint8_t* p, size_t n) {
    Free();
    view_ = p;
    size_ = static_cast<uint32_t>(n);
    mode_ = kViewMode;
  }
  bool is_view() const { return mode_ == kViewMode; }
  size_t heap_bytes() const { return mode_ == kHeapMode ? heap_.cap : 0; }

  const uint8_t* data() const {
    return mode_ == kInlineMode ? inline_
           : mode_ == kHeapMode ? heap_.ptr
                                : view_;
  }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity() const {
    return mode_ == kHeapMode     ? heap_.cap
           : mode_ == kInlineMode ? kInline
                                  : size_;
  }
  const uint8_t* begin() const { return data(); }
  const uint8_t* end() const { return data() + size_; }

  void reserve(size_t n) {
    if (mode_ != kViewMode && n <= capacity()) return;
    Grow(std::max(n, size_t{size_}));
  }
  void clear() {
    if (mode_ == kViewMode) mode_ = kInlineMode;
    size_ = 0;
  }
  void push_back(uint8_t b) { append(&b, 1); }
  void append(const uint8_t* p, size_t n) {
    if (mode_ == kInlineMode && size_ + n <= kInline) {
      std::memcpy(inline_ + size_, p, n);
      size_ += static_cast<uint32_t>(n);
      return;
    }
    if (mode_ == kViewMode || size_ + n > capacity()) {
      Grow(std::max(size_ + n, 2 * size_t{size_}));
    }
    std::memcpy(mutable_data() + size_, p, n);
    size_ += static_cast<uint32_t>(n);
  }
  // append(p, n) where p holds kMax readable bytes (n <= kMax): inline, a
  // fixed-size copy of all kMax.
  template <size_t kMax>
  void append_from(const uint8_t* p, size_t n) {
    if (mode_ == kInlineMode && size_ + kMax <= kInline) {
      std::memcpy(inline_ + size_, p, kMax);
      size_ += static_cast<uint32_t>(n);
      return;
    }
    append(p, n);
  }
  void assign(const uint8_t* p, size_t n) {
    if (mode_ == kViewMode) mode_ = kInlineMode;
    size_ = 0;
    append(p, n);
  }

 private:
  enum Mode : uint8_t { kInlineMode, kHeapMode, kViewMode };

  uint8_t* mutable_data() { return mode_ == kInlineMode ? inline_ : heap_.ptr; }
  // Owns at least `n` bytes of room, keeping the current bytes.
  void Grow(size_t n) {
    if (n <= kInline && mode_ == kViewMode) {
      const uint8_t* p = view_;
      std::memmove(inline_, p, size_);
      mode_ = kInlineMode;
      return;
    }
    auto* p = new uint8_t[n];
    if (size_ > 0) std::memcpy(p, data(), size_);
    Free();
    heap_.ptr = p;
    heap_.cap = n;
    mode_ = kHeapMode;
  }
  void Free() {
    if (mode_ == kHeapMode) delete[] heap_.ptr;
    mode_ = kInlineMode;
  }
  // REQUIRES: this holds no heap bytes.
  void CopyFrom(const RowBytes& o) {
    if (o.mode_ == kInlineMode) {
      // The whole inline buffer: a fixed-size copy, cheaper than the
      // exact one.
      std::memcpy(inline_, o.inline_, kInline);
      size_ = o.size_;
      mode_ = kInlineMode;
    } else {
      size_ = 0;
      mode_ = kInlineMode;
      append(o.data(), o.size());
    }
  }
  // REQUIRES: this holds no heap bytes.
  void Take(RowBytes& o) {
    if (o.mode_ == kHeapMode) {
      heap_ = o.heap_;
      size_ = o.size_;
      mode_ = kHeapMode;
      o.mode_ = kInlineMode;
      o.size_ = 0;
    } else {
      CopyFrom(o);
    }
  }

  union {
    uint8_t inline_[kInline];
    struct {
      uint8_t* ptr;
      size_t cap;
    } heap_;
    const uint8_t* view_;
  };
  uint32_t size_ = 0;
  Mode mode_ = kInlineMode;
};

}  // namespace row_internal

class Row {
 public:
  // Small rows (the usual case for narrow products) need no allocation.
  static constexpr size_t kInlineBytes = row_internal::RowBytes::kInline;

  class Iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Datum;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = Datum;
    Iterator() = default;
    explicit Iterator(const uint8_t* p) : p_(p) {}
    Datum operator*() const { return Datum(p_); }
    Iterator& operator++() {
      p_ += Datum(p_).EncodedSize();
      return *this;
    }
    Iterator operator++(int) {
      Iterator old = *this;
      ++*this;
      return old;
    }
    friend bool operator==(Iterator a, Iterator b) { return a.p_ == b.p_; }

   private:
    const uint8_t* p_ = nullptr;
  };

  Row() = default;
  Row(std::initializer_list<Value> values);
  explicit Row(const std::vector<Value>& values);

  // A row that refers to the `n` bytes at `p` (a canonical encoding, such
  // as another row's bytes()) without copying them; valid while they live
  // unchanged. A copy or move of it owns its bytes again. Batches keep
  // their rows in one byte arena and hand out such views (engine/column.h).
  static Row View(const uint8_t* p, size_t n) { return Row(ViewTag{}, p, n); }
  // Makes this row such a view.
  void SetView(const uint8_t* p, size_t n) { bytes_.SetView(p, n); }
  bool is_view() const { return bytes_.is_view(); }

  // Reads a row from bytes of unknown origin (a store record, a message):
  // DataLoss naming `where` and the byte offset if they are not a
  // canonical encoding.
  static absl::StatusOr<Row> FromBytes(absl::string_view bytes,
                                       absl::string_view where);

  // Crosses processes as its bytes (engine/wire.h); bytes that are not a
  // canonical encoding do not decode.
  void WireEncode(WireWriter& writer) const {
    writer.Size(bytes_.size());
    writer.Bytes(bytes_.data(), bytes_.size());
  }
  bool WireDecode(WireReader& reader);

  // Number of values (a walk).
  size_t size() const;
  bool empty() const { return bytes_.empty(); }
  // REQUIRES: i < size().
  Datum operator[](size_t i) const;
  // Every value's view, for reading several columns of one row.
  absl::InlinedVector<Datum, 16> Unpack() const {
    absl::InlinedVector<Datum, 16> out;
    for (Datum d : *this) out.push_back(d);
    return out;
  }
  Iterator begin() const { return Iterator(bytes_.data()); }
  Iterator end() const { return Iterator(bytes_.data() + bytes_.size()); }

  void AppendNull() { bytes_.push_back(0x00); }
  void AppendBool(bool b) { bytes_.push_back(b ? 0x11 : 0x10); }
  void AppendInt64(int64_t i) { AppendInt(0x20, i); }
  void AppendDouble(double d);
  void AppendString(absl::string_view s);
  void AppendTimestamp(TimestampMicros t) { AppendInt(0x50, t.micros); }
  void push_back(const Value& v);
  void push_back(Datum d) { bytes_.append(d.data(), d.EncodedSize()); }
  // Appends every value of `other`.
  void Extend(const Row& other) {
    bytes_.append(other.bytes_.data(), other.bytes_.size());
  }
  void clear() { bytes_.clear(); }
  // Reserves room for `bytes` encoded bytes.
  void reserve(size_t bytes) { bytes_.reserve(bytes); }

  absl::string_view bytes() const {
    return absl::string_view(reinterpret_cast<const char*>(bytes_.data()),
                             bytes_.size());
  }
  // Bytes held on the heap (0 when inline or a view).
  size_t HeapBytes() const { return bytes_.heap_bytes(); }
  std::vector<Value> ToValues() const;

  // XXH3 of the bytes: the same in every process and run, so it can decide
  // which worker owns a row anywhere (engine/stable_hash.h).
  uint64_t StableHash() const;

  // A 64-bit summary of the row's place in the order, from its first value:
  // a < b implies a.SortPrefix() <= b.SortPrefix(), so sorting many rows can
  // compare integers first and whole rows only where prefixes tie. (The
  // type in the top three bits, then the first value's order-preserving
  // bits: an integer's or timestamp's whole value within (-2^60, 2^60), a
  // double's leading bits, a string's first bytes.) An empty row gives 0.
  uint64_t SortPrefix() const;

  friend std::strong_ordering operator<=>(const Row& a, const Row& b);
  friend bool operator==(const Row& a, const Row& b) {
    return a.bytes_.size() == b.bytes_.size() &&
           std::memcmp(a.bytes_.data(), b.bytes_.data(), a.bytes_.size()) == 0;
  }
  template <typename H>
  friend H AbslHashValue(H h, const Row& row) {
    return H::combine(std::move(h), row.StableHash());
  }

 private:
  struct ViewTag {};
  Row(ViewTag, const uint8_t* p, size_t n) { bytes_.SetView(p, n); }
  void AppendInt(uint8_t type_tag, int64_t i);
  row_internal::RowBytes bytes_;
};

std::string RowDebugString(const Row& row);

// Let test frameworks (gtest) print rows and datums readably.
void PrintTo(const Row& row, std::ostream* os);
void PrintTo(Datum datum, std::ostream* os);

}  // namespace diffmesh
