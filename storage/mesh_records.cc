#include "storage/mesh_records.h"

#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "catalog/descriptor.h"
#include "catalog/lineage.h"
#include "catalog/row.h"
#include "catalog/row_codec.h"
#include "catalog/schema.h"
#include "schemas/mesh_generated.h"

namespace diffmesh {
namespace {

// mesh.fbs declares no file_identifier (it has two roots); these are the
// identifiers its comment documents.
constexpr char kStoredProductIdentifier[] = "DMSP";
constexpr char kSourceBatchIdentifier[] = "DMSB";

constexpr int kMaxTier = static_cast<int>(Tier::kAuthoritative);
constexpr int kMaxValueType = static_cast<int>(ValueType::kTimestamp);
constexpr int kMaxTransformKind = static_cast<int>(TransformKind::kMasking);

using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;
using StringVector = flatbuffers::Vector<Offset<flatbuffers::String>>;

std::string FinishedBytes(FlatBufferBuilder& builder) {
  return std::string(reinterpret_cast<const char*>(builder.GetBufferPointer()),
                     builder.GetSize());
}

// FlatBuffers reads scalars in place, and neither RocksDB values nor
// std::string promise alignment: decoding works on an 8-byte aligned copy.
class AlignedCopy {
 public:
  explicit AlignedCopy(absl::string_view bytes)
      : words_((bytes.size() + 7) / 8), size_(bytes.size()) {
    if (size_ != 0) std::memcpy(words_.data(), bytes.data(), size_);
  }
  const uint8_t* data() const {
    return reinterpret_cast<const uint8_t*>(words_.data());
  }
  size_t size() const { return size_; }

 private:
  std::vector<uint64_t> words_;
  size_t size_;
};

// The verified root of `bytes`, or null if they are not a `Root` buffer with
// `identifier`.
template <typename Root>
const Root* VerifiedRoot(const AlignedCopy& bytes, const char* identifier) {
  // The Verifier asserts on larger buffers rather than rejecting them.
  if (bytes.size() >= FLATBUFFERS_MAX_BUFFER_SIZE) return nullptr;
  flatbuffers::Verifier::Options options;
  // The default cap of one million tables would reject a large batch that was
  // written correctly; a table takes at least 4 bytes, so this cap cannot,
  // and it still bounds the work a hostile buffer can cause.
  options.max_tables =
      static_cast<flatbuffers::uoffset_t>(bytes.size() / 4 + 1);
  flatbuffers::Verifier verifier(bytes.data(), bytes.size(), options);
  if (!verifier.VerifyBuffer<Root>(identifier)) return nullptr;
  return flatbuffers::GetRoot<Root>(bytes.data());
}

std::string StringOrEmpty(const flatbuffers::String* s) {
  return s == nullptr ? std::string() : s->str();
}

std::vector<std::string> Strings(const StringVector* v) {
  std::vector<std::string> out;
  if (v == nullptr) return out;
  out.reserve(v->size());
  for (const flatbuffers::String* s : *v) out.push_back(s->str());
  return out;
}

Offset<fbs::ColumnRefRecord> BuildColumnRef(FlatBufferBuilder& builder,
                                            const ColumnRef& ref) {
  auto product = builder.CreateString(ref.product);
  auto column = builder.CreateString(ref.column);
  return fbs::CreateColumnRefRecord(builder, product, column);
}

ColumnRef ColumnRefFromRecord(const fbs::ColumnRefRecord& record) {
  return ColumnRef{record.product()->str(), StringOrEmpty(record.column())};
}

// The same layout catalog/row_codec.cc gives a standalone row, built inside
// a larger buffer.
}  // namespace

absl::Status CheckStorable(const StoredProduct& product) {
  const ProductDescriptor& d = product.descriptor;
  if (absl::Status s = ValidateDescriptor(d); !s.ok()) return s;
  if (d.version.major < 0 || d.version.minor < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "product ", d.VersionedId(), " has a negative version part"));
  }
  if (static_cast<int>(d.tier) > kMaxTier) {
    return absl::InvalidArgumentError(absl::StrCat("product ", d.VersionedId(),
                                                   " has unknown tier ",
                                                   static_cast<int>(d.tier)));
  }
  // Schema::Make rejects only the null type; a value cast from a wider
  // integer would otherwise be written and then refused on read.
  for (const Field& f : d.schema.fields()) {
    if (static_cast<int>(f.type) > kMaxValueType) {
      return absl::InvalidArgumentError(
          absl::StrCat("product ", d.VersionedId(), ": field '", f.name,
                       "' has unknown type ", static_cast<int>(f.type)));
    }
  }
  for (const LineageEdge& e : product.edges) {
    if (static_cast<int>(e.kind) > kMaxTransformKind) {
      return absl::InvalidArgumentError(
          absl::StrCat("product ", d.VersionedId(), ": lineage edge ",
                       e.from.ToString(), " -> ", e.to.ToString(),
                       " has unknown kind ", static_cast<int>(e.kind)));
    }
  }
  return absl::OkStatus();
}

std::string EncodeStoredProduct(const StoredProduct& product) {
  const ProductDescriptor& d = product.descriptor;
  FlatBufferBuilder builder(256 + d.schema.size() * 64 +
                            product.edges.size() * 64);
  std::vector<Offset<fbs::FieldRecord>> fields;
  fields.reserve(d.schema.size());
  for (const Field& f : d.schema.fields()) {
    auto name = builder.CreateString(f.name);
    auto description = builder.CreateString(f.description);
    auto tags = builder.CreateVectorOfStrings(f.tags);
    fields.push_back(fbs::CreateFieldRecord(builder, name,
                                            static_cast<uint8_t>(f.type),
                                            f.nullable, description, tags));
  }
  auto id = builder.CreateString(d.id);
  auto owner = builder.CreateString(d.owner);
  auto description = builder.CreateString(d.description);
  auto tags = builder.CreateVectorOfStrings(d.tags);
  auto field_vector = builder.CreateVector(fields);
  auto upstream = builder.CreateVectorOfStrings(d.upstream);
  auto descriptor = fbs::CreateDescriptorRecord(
      builder, id, d.version.major, d.version.minor, owner,
      static_cast<uint8_t>(d.tier), description, tags, field_vector, upstream);

  std::vector<Offset<fbs::LineageEdgeRecord>> edges;
  edges.reserve(product.edges.size());
  for (const LineageEdge& e : product.edges) {
    auto from = BuildColumnRef(builder, e.from);
    auto to = BuildColumnRef(builder, e.to);
    edges.push_back(fbs::CreateLineageEdgeRecord(builder, from, to,
                                                 static_cast<uint8_t>(e.kind)));
  }
  auto root = fbs::CreateStoredProductRecord(
      builder, descriptor, builder.CreateVector(edges), product.active);
  builder.Finish(root, kStoredProductIdentifier);
  return FinishedBytes(builder);
}

absl::StatusOr<StoredProduct> DecodeStoredProduct(absl::string_view bytes,
                                                  absl::string_view where) {
  AlignedCopy copy(bytes);
  const auto* record =
      VerifiedRoot<fbs::StoredProductRecord>(copy, kStoredProductIdentifier);
  if (record == nullptr) {
    return absl::DataLossError(absl::StrCat(where, ": not a stored product (",
                                            bytes.size(), " bytes)"));
  }
  const fbs::DescriptorRecord& dr = *record->descriptor();
  StoredProduct product;
  ProductDescriptor& d = product.descriptor;
  d.id = dr.id()->str();
  d.version = ProductVersion{dr.version_major(), dr.version_minor()};
  if (d.version.major < 0 || d.version.minor < 0) {
    return absl::DataLossError(absl::StrCat(where, ": product ", d.id,
                                            " has negative version ",
                                            d.version.ToString()));
  }
  d.owner = StringOrEmpty(dr.owner());
  if (dr.tier() > kMaxTier) {
    return absl::DataLossError(absl::StrCat(
        where, ": product ", d.id, " has unknown tier ", int{dr.tier()}));
  }
  d.tier = static_cast<Tier>(dr.tier());
  d.description = StringOrEmpty(dr.description());
  d.tags = Strings(dr.tags());
  d.upstream = Strings(dr.upstream());

  std::vector<Field> fields;
  if (dr.fields() != nullptr) {
    fields.reserve(dr.fields()->size());
    for (const fbs::FieldRecord* fr : *dr.fields()) {
      if (fr->type() > kMaxValueType) {
        return absl::DataLossError(absl::StrCat(
            where, ": product ", d.id, ": field '", fr->name()->str(),
            "' has unknown type ", int{fr->type()}));
      }
      fields.push_back(Field{
          fr->name()->str(), static_cast<ValueType>(fr->type()), fr->nullable(),
          StringOrEmpty(fr->description()), Strings(fr->tags())});
    }
  }
  absl::StatusOr<Schema> schema = Schema::Make(std::move(fields));
  if (!schema.ok()) {
    return absl::DataLossError(
        absl::StrCat(where, ": product ", d.id,
                     " has an invalid schema: ", schema.status().message()));
  }
  d.schema = *std::move(schema);

  if (record->edges() != nullptr) {
    product.edges.reserve(record->edges()->size());
    for (const fbs::LineageEdgeRecord* er : *record->edges()) {
      LineageEdge e{ColumnRefFromRecord(*er->from()),
                    ColumnRefFromRecord(*er->to())};
      if (er->kind() > kMaxTransformKind) {
        return absl::DataLossError(absl::StrCat(
            where, ": lineage edge ", e.from.ToString(), " -> ",
            e.to.ToString(), " has unknown kind ", int{er->kind()}));
      }
      e.kind = static_cast<TransformKind>(er->kind());
      product.edges.push_back(std::move(e));
    }
  }
  product.active = record->active();
  // What no encoder of a storable product writes (e.g. an id that is not
  // domain.name) is not ours to serve.
  if (absl::Status storable = CheckStorable(product); !storable.ok()) {
    return absl::DataLossError(
        absl::StrCat(where, ": not a storable product: ", storable.message()));
  }
  return product;
}

std::string EncodeSourceBatch(const SourceBatch& batch) {
  return EncodeSourceBatch(batch.time, batch.updates);
}

std::string EncodeSourceBatch(
    uint64_t time, absl::Span<const std::pair<Row, int64_t>> updates) {
  size_t bytes = 0;
  bool all_plus_one = true;
  for (const auto& [row, diff] : updates) {
    bytes += row.bytes().size();
    all_plus_one = all_plus_one && diff == 1;
  }
  FlatBufferBuilder builder(64 + bytes + updates.size() * 12);
  // Vectors are built before the table that points at them.
  uint8_t* packed = nullptr;
  auto rows = builder.CreateUninitializedVector(bytes, &packed);
  std::vector<uint32_t> ends;
  ends.reserve(updates.size());
  size_t at = 0;
  for (const auto& [row, diff] : updates) {
    std::memcpy(packed + at, row.bytes().data(), row.bytes().size());
    at += row.bytes().size();
    ends.push_back(static_cast<uint32_t>(at));
  }
  auto row_ends = builder.CreateVector(ends);
  Offset<flatbuffers::Vector<int64_t>> diffs;
  if (!all_plus_one) {
    std::vector<int64_t> values;
    values.reserve(updates.size());
    for (const auto& update : updates) values.push_back(update.second);
    diffs = builder.CreateVector(values);
  }
  auto root =
      fbs::CreateSourceBatchRecord(builder, time, rows, row_ends, diffs);
  builder.Finish(root, kSourceBatchIdentifier);
  return FinishedBytes(builder);
}

absl::StatusOr<SourceBatch> DecodeSourceBatch(absl::string_view bytes,
                                              absl::string_view where) {
  AlignedCopy copy(bytes);
  const auto* record =
      VerifiedRoot<fbs::SourceBatchRecord>(copy, kSourceBatchIdentifier);
  if (record == nullptr) {
    return absl::DataLossError(
        absl::StrCat(where, ": not a source batch (", bytes.size(), " bytes)"));
  }
  SourceBatch batch;
  batch.time = record->time();
  const size_t n = record->row_ends() ? record->row_ends()->size() : 0;
  const size_t packed = record->rows() ? record->rows()->size() : 0;
  if (record->diffs() != nullptr && record->diffs()->size() != n) {
    return absl::DataLossError(absl::StrCat(where, ": ", n, " rows but ",
                                            record->diffs()->size(), " diffs"));
  }
  // The verifier checks a vector's length field, 4-byte aligned; a writer
  // puts 8-byte elements on 8 bytes, so anything else was not written here.
  if (record->diffs() != nullptr &&
      reinterpret_cast<uintptr_t>(record->diffs()->data()) % alignof(int64_t) !=
          0) {
    return absl::DataLossError(
        absl::StrCat(where, ": the diffs are not 8-byte aligned"));
  }
  batch.updates.reserve(n);
  const char* data =
      packed ? reinterpret_cast<const char*>(record->rows()->data()) : "";
  size_t begin = 0;
  for (size_t i = 0; i < n; ++i) {
    const size_t end = record->row_ends()->Get(static_cast<uint32_t>(i));
    if (end < begin || end > packed) {
      return absl::DataLossError(absl::StrCat(
          where, ": update ", i, " ends at byte ", end, " of ", packed));
    }
    absl::StatusOr<Row> row =
        Row::FromBytes(absl::string_view(data + begin, end - begin),
                       absl::StrCat(where, ": update ", i));
    if (!row.ok()) return row.status();
    const int64_t diff =
        record->diffs() ? record->diffs()->Get(static_cast<uint32_t>(i)) : 1;
    batch.updates.emplace_back(*std::move(row), diff);
    begin = end;
  }
  if (begin != packed) {
    return absl::DataLossError(
        absl::StrCat(where, ": ", packed - begin, " bytes after the last row"));
  }
  return batch;
}

}  // namespace diffmesh
