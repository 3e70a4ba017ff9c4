// Product descriptors: what the catalog says about a data product.
//
//   DM_ASSIGN_OR_RETURN(ProductVersion v, ProductVersion::Parse("1.2"));
//   ProductDescriptor d{.id = "sales.orders", .version = v, .owner = "ana",
//                       .tier = Tier::kCurated, .schema = schema};
//   DM_RETURN_IF_ERROR(ValidateDescriptor(d));
//
// A product id is `domain.name` (lower-case letters, digits and '_' in each
// part); it names the product without naming a place. A version
// `MAJOR.MINOR` binds a schema: once published, `id@MAJOR.MINOR` never
// changes, and a new minor version must stay compatible with the previous
// one (CheckCompatible); a breaking change needs a new major version.
//
// Descriptors are engine data (ordered, hashable), so the catalog is a
// collection of them.
// Thread-safety: value types (like std::string: const methods from any
// thread; one writer at a time); the functions read only their arguments.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "catalog/schema.h"
#include "engine/stable_hash.h"

namespace diffmesh {

// Certification tiers, in increasing order of trust.
enum class Tier : uint8_t { kRaw = 0, kCurated = 1, kAuthoritative = 2 };

// "raw", "curated", "authoritative".
const char* TierName(Tier tier);
absl::StatusOr<Tier> ParseTier(absl::string_view text);

struct ProductVersion {
  int major = 1;
  int minor = 0;

  // InvalidArgument unless `text` is MAJOR.MINOR with non-negative decimal
  // parts.
  static absl::StatusOr<ProductVersion> Parse(absl::string_view text);
  std::string ToString() const;  // "1.2"

  friend auto operator<=>(const ProductVersion&,
                          const ProductVersion&) = default;
  uint64_t StableHash() const {
    return StableCombine(diffmesh::StableHash(major),
                         diffmesh::StableHash(minor));
  }
  template <typename H>
  friend H AbslHashValue(H h, const ProductVersion& v) {
    return H::combine(std::move(h), v.major, v.minor);
  }
};

struct ProductDescriptor {
  std::string id;  // domain.name
  ProductVersion version;
  std::string owner;
  Tier tier = Tier::kRaw;
  std::string description;
  std::vector<std::string> tags;
  Schema schema;
  // The products this one is computed from (filled in by the mesh from the
  // recorded lineage; empty for sources).
  std::vector<std::string> upstream;

  // The part of the id before the first '.'.
  std::string domain() const;
  // "domain.name@MAJOR.MINOR".
  std::string VersionedId() const;

  friend std::strong_ordering operator<=>(const ProductDescriptor& a,
                                          const ProductDescriptor& b);
  friend bool operator==(const ProductDescriptor& a,
                         const ProductDescriptor& b) {
    return (a <=> b) == 0;
  }
  template <class Self>
  static auto WireFields(Self& self) {
    return std::tie(self.id, self.version, self.owner, self.tier,
                    self.description, self.tags, self.schema, self.upstream);
  }
  // Reads the parts AbslHashValue reads (equal descriptors agree on them).
  uint64_t StableHash() const {
    return StableCombine(diffmesh::StableHash(id), version.StableHash());
  }
  template <typename H>
  friend H AbslHashValue(H h, const ProductDescriptor& d) {
    return H::combine(std::move(h), d.id, d.version);
  }
};

// InvalidArgument naming the descriptor and the cause: a malformed id, an
// empty owner, an empty or invalid schema.
absl::Status ValidateDescriptor(const ProductDescriptor& descriptor);

// OK if readers of `before` can read rows of `after`: every field of
// `before` is still there with the same type, and none became nullable.
// Adding fields is compatible. FailedPrecondition naming the field
// otherwise.
absl::Status CheckCompatible(const Schema& before, const Schema& after);

}  // namespace diffmesh
