// Wire: how a value crosses a process boundary. The fabric encodes every
// message to a worker of another process (engine/fabric.h) with these
// functions and decodes it there.
//
//   std::string bytes;
//   WireWriter writer(&bytes);
//   WireEncode(writer, std::pair<std::string, int64_t>("ada", 7));
//   WireReader reader(bytes);
//   std::pair<std::string, int64_t> back;
//   bool ok = WireDecode(reader, back) && reader.done();
//
// Crossable types: trivially copyable ones (copied as their bytes: they must
// hold no pointer, so a struct of numbers is fine and one with a `const
// char*` is not), std::string, std::pair, std::tuple, std::optional,
// std::vector, std::array, absl::InlinedVector, and any type that names its
// fields with a static member
//
//   template <class Self> static auto WireFields(Self& self) {
//     return std::tie(self.name, self.count);
//   }
//
// (one list serves both directions), or that provides its own pair
//   void WireEncode(WireWriter&) const;
//   bool WireDecode(WireReader&);        // false on malformed bytes
// (Row, Value, Antichain). Anything else fails to compile where a message
// of it would be sent, with a message naming this header.
//
// Format: little-endian host bytes for trivially copyable values (every
// process of one run is the same build on the same kind of machine), sizes
// as LEB128 varints. Decoding never reads past the end: a short or
// malformed input makes WireDecode return false and the reader failed().
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace diffmesh {

class WireWriter {
 public:
  explicit WireWriter(std::string* out) : out_(out) {}
  void Bytes(const void* data, size_t size) {
    out_->append(static_cast<const char*>(data), size);
  }
  void Size(uint64_t n) {
    char buffer[10];
    int used = 0;
    while (n >= 0x80) {
      buffer[used++] = static_cast<char>((n & 0x7f) | 0x80);
      n >>= 7;
    }
    buffer[used++] = static_cast<char>(n);
    out_->append(buffer, used);
  }
  std::string* out() { return out_; }

 private:
  std::string* out_;
};

class WireReader {
 public:
  explicit WireReader(absl::string_view bytes)
      : at_(bytes.data()), end_(bytes.data() + bytes.size()) {}
  bool Bytes(void* data, size_t size) {
    if (failed_ || static_cast<size_t>(end_ - at_) < size) return Fail();
    std::memcpy(data, at_, size);
    at_ += size;
    return true;
  }
  // A view of the next `size` bytes, valid while the input lives.
  bool View(size_t size, absl::string_view* out) {
    if (failed_ || static_cast<size_t>(end_ - at_) < size) return Fail();
    *out = absl::string_view(at_, size);
    at_ += size;
    return true;
  }
  // A size: at most `limit` (more than the bytes left can hold is malformed,
  // which bounds what a decoder reserves).
  bool Size(uint64_t* n, uint64_t limit) {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (failed_ || at_ == end_) return Fail();
      const uint8_t byte = static_cast<uint8_t>(*at_++);
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        if (value > limit) return Fail();
        *n = value;
        return true;
      }
    }
    return Fail();
  }
  size_t remaining() const { return static_cast<size_t>(end_ - at_); }
  bool failed() const { return failed_; }
  // Everything was read and nothing was malformed.
  bool done() const { return !failed_ && at_ == end_; }
  bool Fail() {
    failed_ = true;
    return false;
  }

 private:
  const char* at_;
  const char* end_;
  bool failed_ = false;
};

template <class T>
concept HasWireFields = requires(T& t) {
  T::WireFields(t);
};

template <class T>
concept HasWireMembers = requires(const T& c, T& m, WireWriter& w,
                                  WireReader& r) {
  c.WireEncode(w);
  { m.WireDecode(r) } -> std::same_as<bool>;
};

// How T is written and read; specialized below for every crossable kind.
// Left undefined for the rest, which makes Crossable<T> false.
template <class T>
struct Wire;

template <class T>
concept Crossable = requires(const T& c, T& m, WireWriter& w, WireReader& r) {
  Wire<T>::Encode(w, c);
  { Wire<T>::Decode(r, m) } -> std::same_as<bool>;
};

template <class T>
void WireEncode(WireWriter& writer, const T& value) {
  static_assert(Crossable<T>,
                "this type cannot cross processes: make it trivially "
                "copyable, or give it WireFields or WireEncode/WireDecode "
                "(engine/wire.h)");
  Wire<T>::Encode(writer, value);
}
template <class T>
bool WireDecode(WireReader& reader, T& value) {
  static_assert(Crossable<T>,
                "this type cannot cross processes: make it trivially "
                "copyable, or give it WireFields or WireEncode/WireDecode "
                "(engine/wire.h)");
  return Wire<T>::Decode(reader, value);
}

namespace wire_internal {
template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};
// A trivially copyable type is copied as its bytes even when it names its
// fields (the same bytes, faster; a vector of them is one copy). Not a
// bool or an optional: their flags are checked when read.
template <class T>
inline constexpr bool kCopiedAsBytes =
    std::is_trivially_copyable_v<T> && !HasWireMembers<T> &&
    !std::is_pointer_v<T> && !std::is_member_pointer_v<T> &&
    !std::is_same_v<T, bool> && !IsOptional<T>::value;
}  // namespace wire_internal

template <class T>
requires wire_internal::kCopiedAsBytes<T>
struct Wire<T> {
  static void Encode(WireWriter& w, const T& v) { w.Bytes(&v, sizeof(T)); }
  static bool Decode(WireReader& r, T& v) { return r.Bytes(&v, sizeof(T)); }
};

template <class T>
requires HasWireMembers<T>
struct Wire<T> {
  static void Encode(WireWriter& w, const T& v) { v.WireEncode(w); }
  static bool Decode(WireReader& r, T& v) { return v.WireDecode(r); }
};

template <class T>
requires(HasWireFields<T> && !HasWireMembers<T> &&
         !wire_internal::kCopiedAsBytes<T>) struct Wire<T> {
  static void Encode(WireWriter& w, const T& v) {
    std::apply([&](const auto&... part) { (WireEncode(w, part), ...); },
               T::WireFields(const_cast<T&>(v)));
  }
  static bool Decode(WireReader& r, T& v) {
    return std::apply(
        [&](auto&... part) { return (WireDecode(r, part) && ...); },
        T::WireFields(v));
  }
};

// A byte other than 0 or 1 is not a bool.
template <>
struct Wire<bool> {
  static void Encode(WireWriter& w, bool b) {
    const uint8_t byte = b ? 1 : 0;
    w.Bytes(&byte, 1);
  }
  static bool Decode(WireReader& r, bool& b) {
    uint8_t byte;
    if (!r.Bytes(&byte, 1) || byte > 1) return r.Fail();
    b = byte == 1;
    return true;
  }
};

template <>
struct Wire<std::string> {
  static void Encode(WireWriter& w, const std::string& s) {
    w.Size(s.size());
    w.Bytes(s.data(), s.size());
  }
  static bool Decode(WireReader& r, std::string& s) {
    uint64_t n;
    if (!r.Size(&n, r.remaining())) return false;
    s.resize(n);
    return r.Bytes(s.data(), n);
  }
};

// A status crosses as its code and message (not its payloads); a code
// above absl::StatusCode's last (16) is malformed.
template <>
struct Wire<absl::Status> {
  static void Encode(WireWriter& w, const absl::Status& s) {
    w.Size(static_cast<uint64_t>(s.code()));
    if (!s.ok()) Wire<std::string>::Encode(w, std::string(s.message()));
  }
  static bool Decode(WireReader& r, absl::Status& s) {
    uint64_t code;
    if (!r.Size(&code, 16)) return false;
    if (code == 0) {
      s = absl::OkStatus();
      return true;
    }
    std::string message;
    if (!Wire<std::string>::Decode(r, message)) return false;
    s = absl::Status(static_cast<absl::StatusCode>(code), message);
    return true;
  }
};

template <class A, class B>
requires(Crossable<A>&& Crossable<B> &&
         !wire_internal::kCopiedAsBytes<
             std::pair<A, B>>) struct Wire<std::pair<A, B>> {
  static void Encode(WireWriter& w, const std::pair<A, B>& p) {
    WireEncode(w, p.first);
    WireEncode(w, p.second);
  }
  static bool Decode(WireReader& r, std::pair<A, B>& p) {
    return WireDecode(r, p.first) && WireDecode(r, p.second);
  }
};

template <class... A>
requires((Crossable<A> && ...) &&
         !wire_internal::kCopiedAsBytes<
             std::tuple<A...>>) struct Wire<std::tuple<A...>> {
  static void Encode(WireWriter& w, const std::tuple<A...>& t) {
    std::apply([&](const auto&... part) { (WireEncode(w, part), ...); }, t);
  }
  static bool Decode(WireReader& r, std::tuple<A...>& t) {
    return std::apply(
        [&](auto&... part) { return (WireDecode(r, part) && ...); }, t);
  }
};

template <class A>
requires(Crossable<A> && !wire_internal::kCopiedAsBytes<
                             std::optional<A>>) struct Wire<std::optional<A>> {
  static void Encode(WireWriter& w, const std::optional<A>& o) {
    const uint8_t present = o.has_value() ? 1 : 0;
    w.Bytes(&present, 1);
    if (o) WireEncode(w, *o);
  }
  static bool Decode(WireReader& r, std::optional<A>& o) {
    uint8_t present;
    if (!r.Bytes(&present, 1) || present > 1) return r.Fail();
    if (present == 0) {
      o.reset();
      return true;
    }
    o.emplace();
    return WireDecode(r, *o);
  }
};

namespace wire_internal {
// A sequence of crossable elements: its size, then each element (all at
// once when they are copied as bytes).
template <class Seq>
void EncodeSequence(WireWriter& w, const Seq& seq) {
  using E = typename Seq::value_type;
  w.Size(seq.size());
  if constexpr (kCopiedAsBytes<E>) {
    w.Bytes(seq.data(), seq.size() * sizeof(E));
  } else {
    for (const E& e : seq) WireEncode(w, e);
  }
}
template <class Seq>
bool DecodeSequence(WireReader& r, Seq& seq) {
  using E = typename Seq::value_type;
  uint64_t n;
  // Every element takes at least one byte, but a byte-copied one takes
  // sizeof(E): either bounds the size by what is left.
  if (!r.Size(&n, r.remaining() / (kCopiedAsBytes<E> ? sizeof(E) : 1))) {
    return false;
  }
  seq.clear();
  seq.resize(n);
  if constexpr (kCopiedAsBytes<E>) {
    // Copied, not read in place: the input is not aligned for E.
    return r.Bytes(seq.data(), n * sizeof(E));
  } else {
    for (E& e : seq) {
      if (!WireDecode(r, e)) return false;
    }
    return true;
  }
}

template <class T>
struct IsSequence : std::false_type {};
template <class A, class Alloc>
struct IsSequence<std::vector<A, Alloc>> : std::true_type {};
template <class A, size_t N>
struct IsSequence<absl::InlinedVector<A, N>> : std::true_type {};
}  // namespace wire_internal

// std::vector and absl::InlinedVector.
template <class Seq>
requires(wire_internal::IsSequence<Seq>::value&&
             Crossable<typename Seq::value_type>) struct Wire<Seq> {
  static void Encode(WireWriter& w, const Seq& seq) {
    wire_internal::EncodeSequence(w, seq);
  }
  static bool Decode(WireReader& r, Seq& seq) {
    return wire_internal::DecodeSequence(r, seq);
  }
};

template <class A, size_t N>
requires(Crossable<A> && !wire_internal::kCopiedAsBytes<
                             std::array<A, N>>) struct Wire<std::array<A, N>> {
  static void Encode(WireWriter& w, const std::array<A, N>& a) {
    for (const A& e : a) WireEncode(w, e);
  }
  static bool Decode(WireReader& r, std::array<A, N>& a) {
    for (A& e : a) {
      if (!WireDecode(r, e)) return false;
    }
    return true;
  }
};

}  // namespace diffmesh
