#include "catalog/internal/packed_text.h"

#include <lz4.h>

#include <algorithm>

#include "engine/check.h"
#include "tbb/parallel_for.h"

namespace diffmesh::internal {

std::shared_ptr<const PackedText::Block> PackedText::PackBlock(
    absl::string_view bytes) {
  auto block = std::make_shared<Block>();
  block->size = bytes.size();
  block->packed.resize(
      static_cast<size_t>(LZ4_compressBound(static_cast<int>(bytes.size()))));
  const int n = LZ4_compress_default(bytes.data(), block->packed.data(),
                                     static_cast<int>(bytes.size()),
                                     static_cast<int>(block->packed.size()));
  DM_CHECK_MSG(n > 0, "LZ4 could not pack a block");
  block->packed.resize(static_cast<size_t>(n));
  block->packed.shrink_to_fit();
  return block;
}

PackedText PackedText::Pack(absl::string_view text) {
  PackedText out;
  const size_t whole = text.size() / kBlock;
  out.blocks_.resize(whole);
  tbb::parallel_for(size_t{0}, whole, [&](size_t i) {
    out.blocks_[i] = PackBlock(text.substr(i * kBlock, kBlock));
  });
  out.tail_ = std::string(text.substr(whole * kBlock));
  out.size_ = text.size();
  return out;
}

void PackedText::Append(absl::string_view bytes) {
  size_ += bytes.size();
  while (!bytes.empty()) {
    const size_t take = std::min(bytes.size(), kBlock - tail_.size());
    tail_.append(bytes.data(), take);
    bytes.remove_prefix(take);
    if (tail_.size() == kBlock) {
      blocks_.push_back(PackBlock(tail_));
      tail_.clear();
    }
  }
}

std::string PackedText::Unpack() const {
  std::string out(size_, '\0');
  std::vector<size_t> starts(blocks_.size() + 1, 0);
  for (size_t i = 0; i < blocks_.size(); ++i) {
    starts[i + 1] = starts[i] + blocks_[i]->size;
  }
  tbb::parallel_for(size_t{0}, blocks_.size(), [&](size_t i) {
    const Block& block = *blocks_[i];
    const int n = LZ4_decompress_safe(
        block.packed.data(), out.data() + starts[i],
        static_cast<int>(block.packed.size()), static_cast<int>(block.size));
    DM_CHECK_MSG(n == static_cast<int>(block.size),
                 "a packed block does not unpack to its size");
  });
  tail_.copy(out.data() + starts.back(), tail_.size());
  return out;
}

size_t PackedText::HeldBytes() const {
  size_t n = tail_.capacity();
  for (const auto& block : blocks_) n += block->packed.capacity();
  return n;
}

}  // namespace diffmesh::internal
