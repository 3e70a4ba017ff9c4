// MeshSnapshot: everything a mesh shows -- product rows and their retained
// data versions, quarantine, the catalog, search, lineage and its closure --
// as of one closed time, immutable, readable from any thread.
//
//   std::shared_ptr<const MeshSnapshot> s = mesh->Snapshot();  // or a
//   MeshReader's Latest(), on another thread
//   DM_ASSIGN_OR_RETURN(std::vector<Row> rows, s->Read("sales.orders"));
//   std::vector<ColumnRef> down = s->Downstream({"sales.orders", ""});
//
// A snapshot is made of shared sorted runs (catalog/counted_runs.h): taking
// one is a pointer copy, and holding it keeps its runs alive while the
// mesh goes on. Reads cost what they return: Read(id) the product's size,
// Downstream/Upstream/Search/Descriptor a seek per run plus the answer,
// Count and ReadPrefix a seek; nothing copies the whole mesh.
// Thread-safety: immutable; any number of threads may read one at once.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "catalog/column_access.h"
#include "catalog/counted_runs.h"
#include "catalog/descriptor.h"
#include "catalog/lineage.h"
#include "catalog/row.h"
#include "catalog/source_health.h"

namespace diffmesh {

class StoredVersions;  // catalog/stored_versions.h

struct DataVersion {
  int number = 0;     // 1, 2, ...
  uint64_t time = 0;  // the engine time whose changes it includes, last
  // When that time closed, by the mesh's clock (MeshOptions::clock).
  absl::Time closed = absl::InfinitePast();
};

// How long the mesh's rounds took (each Advance, timed on worker 0 from
// its start to the close of its time), cumulative since the mesh opened:
// a histogram with fixed bucket bounds, in seconds.
struct RoundStats {
  static constexpr std::array<double, 10> kBounds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5};
  // counts[i]: rounds that took at most kBounds[i] and more than the bound
  // before; counts[kBounds.size()]: the rest.
  std::array<uint64_t, kBounds.size() + 1> counts{};
  uint64_t count = 0;
  double sum_seconds = 0;
  void Add(double seconds);
};

// One product's captured rows as of a time, with its retained versions.
struct ProductRows {
  CountedRuns<Row> rows;
  CountedRuns<Row> quarantine;
  // The retained data versions, oldest first, with the rows at each; the
  // first `stored_only` of them hold no rows here, their rows are read
  // from the store (MeshSnapshot::Parts::stored).
  std::vector<std::pair<DataVersion, CountedRuns<Row>>> versions;
  size_t stored_only = 0;
  // false: its rows are not kept, only its quarantine
  // (SourceOptions::keep_rows).
  bool rows_kept = true;
};

// The lower-case words of `text` a search matches (letters, digits and
// bytes of multi-byte UTF-8 characters; anything else splits words).
void AddSearchWords(const std::string& text, std::set<std::string>* out);

class MeshSnapshot {
 public:
  using Products = std::map<std::string, std::shared_ptr<const ProductRows>>;
  struct Parts {
    uint64_t time = 0;
    bool empty = true;  // nothing closed yet
    std::shared_ptr<const Products> products;
    CountedRuns<ProductDescriptor> catalog;
    CountedRuns<LineageEdge> lineage;
    CountedRuns<std::pair<std::string, std::string>> search;  // (token, id)
    CountedRuns<std::pair<ColumnRef, ColumnRef>> closure;     // (from, to)
    CountedRuns<std::pair<ColumnRef, ColumnRef>> reverse;     // (to, from)
    // The product whose rows decide ReadAs (catalog/column_access.h);
    // empty: every principal sees everything.
    std::string access_product;
    // Every source's status as of the last poll, by product id.
    std::shared_ptr<const std::map<std::string, SourceStatus>> sources;
    RoundStats rounds;
    // Where the versions kept out of memory are read (none: no such).
    std::shared_ptr<const StoredVersions> stored;
  };
  explicit MeshSnapshot(Parts parts) : parts_(std::move(parts)) {}

  // The closed engine time whose results this shows (meaningless while
  // empty()).
  uint64_t time() const { return parts_.time; }
  // No time closed yet: every read is empty.
  bool empty() const { return parts_.empty; }

  // The active descriptors, by id.
  std::vector<ProductDescriptor> Catalog() const;
  // NotFound if `id` is not in the catalog at this time.
  absl::StatusOr<ProductDescriptor> Descriptor(const std::string& id) const;
  // Ids of products matching every word of `query` (see Mesh::Search).
  std::vector<std::string> Search(const std::string& query) const;
  std::vector<LineageEdge> Lineage() const;
  std::vector<ColumnRef> Downstream(const ColumnRef& node) const;
  std::vector<ColumnRef> Upstream(const ColumnRef& node) const;

  // The product's rows, sorted, a row as often as it is present. NotFound
  // if its rows are not captured in this run.
  absl::StatusOr<std::vector<Row>> Read(const std::string& id) const;
  // The rows whose leading columns are `prefix`'s values, sorted (a seek).
  absl::StatusOr<std::vector<Row>> ReadPrefix(const std::string& id,
                                              const Row& prefix) const;
  // How often `row` is in the product (0 when absent; a seek).
  absl::StatusOr<int64_t> Count(const std::string& id, const Row& row) const;
  // NotFound for a version not retained, naming those that are. A
  // version kept in the store only is read from it: its errors (and
  // FailedPrecondition once the mesh closed) as StoredVersions::RowsAsOf.
  absl::StatusOr<std::vector<Row>> ReadAsOf(const std::string& id,
                                            int data_version) const;
  std::vector<DataVersion> DataVersions(const std::string& id) const;
  std::vector<Row> Quarantine(const std::string& id) const;

  // Reads for a principal. The reads above are the mesh's own (its
  // program's); a server reads for the principal it serves with these,
  // which apply the access product's decisions at this snapshot's time
  // (catalog/column_access.h; Mesh::EnforceAccess names the product).
  struct VisibleRows {
    Schema schema;          // the columns the principal sees
    std::vector<Row> rows;  // projected, sorted
  };
  // Product `id`'s rows as `principal` sees them, now or, for a
  // data_version > 0, as of that retained version (under today's
  // decisions). Errors: those of Read and ReadAsOf; NotFound for a product
  // not in the catalog; PermissionDenied when the principal may see no
  // column of it.
  absl::StatusOr<VisibleRows> ReadAs(const std::string& principal,
                                     const std::string& id,
                                     int data_version = 0) const;
  // What `principal` sees of product `id`: every column without an access
  // product. Errors as ReadAs; FailedPrecondition when the access
  // product's rows are not there.
  absl::StatusOr<ProductView> ViewFor(const std::string& principal,
                                      const std::string& id) const;

  // The product's captured rows, or null if they are not captured in
  // this run.
  // Every source's status as of this time's poll, by id; nullopt for an
  // id that is not a source's.
  std::vector<SourceStatus> SourceStatuses() const;
  std::optional<SourceStatus> SourceStatusOf(const std::string& id) const;
  const RoundStats& rounds() const { return parts_.rounds; }
  // Rows of product `id` (counted with multiplicity), its quarantined rows;
  // NotFound as Read. O(1) (CountedRuns::total).
  absl::StatusOr<std::pair<int64_t, int64_t>> RowCounts(
      const std::string& id) const;

  const ProductRows* Find(const std::string& id) const;
  const Parts& parts() const { return parts_; }

 private:
  // NotFound: product `id` has no rows here.
  absl::Status NotComputed(const std::string& id) const;
  // Product `id`'s captured rows: NotComputed, or FailedPrecondition when
  // its rows are not kept.
  absl::StatusOr<const ProductRows*> KeptRows(const std::string& id) const;

  Parts parts_;
};

// Every row `rows` holds, as often as it is there, in order.
std::vector<Row> ExpandRows(const CountedRuns<Row>& rows);

}  // namespace diffmesh
