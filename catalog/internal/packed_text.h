// PackedText: bytes held LZ4-compressed in independent blocks, grown by
// appends and read back whole. For text that is kept in case it is needed
// and then rarely read: a file source keeps the text it last read this
// way, so an edit in place can be compared with it (about a third of the
// text's size for CSV, instead of a row per record).
//
//   PackedText kept = PackedText::Pack(text);  // blocks packed in parallel
//   kept.Append(appended_bytes);
//   std::string again = kept.Unpack();         // == text + appended_bytes
//
// Costs: Pack and Unpack are linear (LZ4 packs hundreds of MB/s per core,
// unpacks GB/s); Append copies the bytes into an unpacked tail and packs
// each kBlock of it as the tail fills. Copies share the packed blocks.
// Invariants: Unpack() is the concatenation of every byte given, in order;
// size() is its length.
// Thread compatibility: const methods may run concurrently.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace diffmesh::internal {

class PackedText {
 public:
  static constexpr size_t kBlock = size_t{1} << 20;

  PackedText() = default;
  static PackedText Pack(absl::string_view text);

  void Append(absl::string_view bytes);
  std::string Unpack() const;
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Bytes held: the packed blocks and the unpacked tail.
  size_t HeldBytes() const;

 private:
  struct Block {
    std::string packed;
    size_t size = 0;  // unpacked
  };
  static std::shared_ptr<const Block> PackBlock(absl::string_view bytes);

  std::vector<std::shared_ptr<const Block>> blocks_;
  std::string tail_;  // fewer than kBlock bytes, not packed yet
  size_t size_ = 0;
};

}  // namespace diffmesh::internal
