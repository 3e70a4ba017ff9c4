#include "catalog/descriptor.h"

#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace diffmesh {
namespace {

bool IsIdPart(absl::string_view part) {
  if (part.empty()) return false;
  for (char c : part) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return true;
}

std::strong_ordering CompareFields(const Field& a, const Field& b) {
  return std::tie(a.name, a.type, a.nullable, a.description, a.tags) <=>
         std::tie(b.name, b.type, b.nullable, b.description, b.tags);
}

std::strong_ordering CompareSchemas(const Schema& a, const Schema& b) {
  const auto& fa = a.fields();
  const auto& fb = b.fields();
  for (size_t i = 0; i < fa.size() && i < fb.size(); ++i) {
    if (auto c = CompareFields(fa[i], fb[i]); c != 0) return c;
  }
  return fa.size() <=> fb.size();
}

}  // namespace

const char* TierName(Tier tier) {
  switch (tier) {
    case Tier::kRaw:
      return "raw";
    case Tier::kCurated:
      return "curated";
    case Tier::kAuthoritative:
      return "authoritative";
  }
  return "?";
}

absl::StatusOr<Tier> ParseTier(absl::string_view text) {
  for (Tier t : {Tier::kRaw, Tier::kCurated, Tier::kAuthoritative}) {
    if (text == TierName(t)) return t;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown tier '", text, "' (expected raw, curated or authoritative)"));
}

absl::StatusOr<ProductVersion> ProductVersion::Parse(absl::string_view text) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, '.');
  ProductVersion v;
  if (parts.size() != 2 || parts[0].empty() || parts[1].empty() ||
      !absl::SimpleAtoi(parts[0], &v.major) ||
      !absl::SimpleAtoi(parts[1], &v.minor) || v.major < 0 || v.minor < 0 ||
      parts[0][0] == '+' || parts[1][0] == '+') {
    return absl::InvalidArgumentError(
        absl::StrCat("version '", text, "' is not MAJOR.MINOR (e.g. 1.0)"));
  }
  return v;
}

std::string ProductVersion::ToString() const {
  return absl::StrCat(major, ".", minor);
}

std::string ProductDescriptor::domain() const {
  return id.substr(0, id.find('.'));
}

std::string ProductDescriptor::VersionedId() const {
  return absl::StrCat(id, "@", version.ToString());
}

std::strong_ordering operator<=>(const ProductDescriptor& a,
                                 const ProductDescriptor& b) {
  if (auto c =
          std::tie(a.id, a.version, a.owner, a.tier, a.description, a.tags) <=>
          std::tie(b.id, b.version, b.owner, b.tier, b.description, b.tags);
      c != 0) {
    return c;
  }
  if (auto c = CompareSchemas(a.schema, b.schema); c != 0) return c;
  return a.upstream <=> b.upstream;
}

absl::Status ValidateDescriptor(const ProductDescriptor& d) {
  std::vector<absl::string_view> parts = absl::StrSplit(d.id, '.');
  if (parts.size() != 2 || !IsIdPart(parts[0]) || !IsIdPart(parts[1])) {
    return absl::InvalidArgumentError(
        absl::StrCat("product id '", d.id,
                     "' is not domain.name (lower-case letters, digits, '_')"));
  }
  if (d.owner.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("product ", d.VersionedId(), " has no owner"));
  }
  if (d.schema.size() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("product ", d.VersionedId(), " has an empty schema"));
  }
  absl::Status schema_ok = Schema::Make(d.schema.fields()).status();
  if (!schema_ok.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("product ", d.VersionedId(), ": ", schema_ok.message()));
  }
  return absl::OkStatus();
}

absl::Status CheckCompatible(const Schema& before, const Schema& after) {
  for (const Field& old : before.fields()) {
    std::optional<int> at = after.FieldIndex(old.name);
    if (!at) {
      return absl::FailedPreconditionError(
          absl::StrCat("field '", old.name, "' was removed"));
    }
    const Field& now = after.fields()[*at];
    if (now.type != old.type) {
      return absl::FailedPreconditionError(absl::StrCat(
          "field '", old.name, "' changed type from ", ValueTypeName(old.type),
          " to ", ValueTypeName(now.type)));
    }
    if (now.nullable && !old.nullable) {
      return absl::FailedPreconditionError(
          absl::StrCat("field '", old.name, "' became nullable"));
    }
  }
  return absl::OkStatus();
}

}  // namespace diffmesh
