// PackedText: whatever is packed and appended (texts across block
// boundaries, many small appends, a copy grown apart from its original)
// unpacks to exactly the bytes given, and packs repetitive text smaller.
#include "catalog/internal/packed_text.h"

#include <random>
#include <string>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace diffmesh::internal {
namespace {

std::string RandomText(std::mt19937_64& rng, size_t n) {
  // CSV-like: a few distinct fields, so it packs.
  static const char* const kWords[] = {
      "2001-01-01 00:01:00", "LAS", "PHL", "33", "2176", ",", "\n", "\0x"};
  std::string out;
  while (out.size() < n) out += kWords[rng() % 8];
  out.resize(n);
  return out;
}

TEST(PackedTextTest, EmptyUnpacksEmpty) {
  PackedText text;
  EXPECT_TRUE(text.empty());
  EXPECT_EQ(text.Unpack(), "");
  EXPECT_EQ(PackedText::Pack("").Unpack(), "");
}

TEST(PackedTextTest, PackUnpacksToTheSameBytesAtEverySize) {
  std::mt19937_64 rng(7);
  const size_t block = PackedText::kBlock;
  for (size_t n :
       {size_t{1}, size_t{1000}, block - 1, block, block + 1, 3 * block + 17}) {
    const std::string original = RandomText(rng, n);
    PackedText packed = PackedText::Pack(original);
    EXPECT_EQ(packed.size(), n);
    EXPECT_EQ(packed.Unpack(), original) << n;
  }
}

TEST(PackedTextTest, AppendsInAnySizesEqualOnePack) {
  std::mt19937_64 rng(11);
  const std::string original = RandomText(rng, 2 * PackedText::kBlock + 999);
  PackedText grown = PackedText::Pack(original.substr(0, 12345));
  size_t at = 12345;
  while (at < original.size()) {
    // Mostly small appends, now and then one larger than a block.
    size_t n =
        rng() % 5 == 0 ? PackedText::kBlock + rng() % 1000 : rng() % 70000;
    n = std::min(n, original.size() - at);
    grown.Append(absl::string_view(original).substr(at, n));
    at += n;
  }
  EXPECT_EQ(grown.size(), original.size());
  EXPECT_EQ(grown.Unpack(), original);
}

TEST(PackedTextTest, CopiesGrowApart) {
  std::mt19937_64 rng(3);
  const std::string base = RandomText(rng, PackedText::kBlock + 10);
  PackedText a = PackedText::Pack(base);
  PackedText b = a;
  a.Append("first");
  b.Append("second");
  EXPECT_EQ(a.Unpack(), base + "first");
  EXPECT_EQ(b.Unpack(), base + "second");
}

TEST(PackedTextTest, RepetitiveTextIsHeldSmaller) {
  std::mt19937_64 rng(5);
  const std::string original = RandomText(rng, 4 * PackedText::kBlock);
  PackedText packed = PackedText::Pack(original);
  EXPECT_LT(packed.HeldBytes(), original.size() / 2);
}

}  // namespace
}  // namespace diffmesh::internal
