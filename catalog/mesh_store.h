// MeshStore: where a mesh keeps what must survive a restart. The catalog
// layer defines the interface; storage/ implements it on RocksDB
// (storage/rocks_mesh_store.h), so the catalog does not depend on storage.
//
//   std::unique_ptr<MeshStore> store = ...;   // e.g. RocksMeshStore::Open
//   DM_RETURN_IF_ERROR(store->AppendSourceBatch("sales.orders_raw", batch));
//   DM_RETURN_IF_ERROR(store->AppendSourceBatches({{"a", &batch_a},
//                                                  {"b", &batch_b}}));
//   DM_ASSIGN_OR_RETURN(auto batches,
//   store->ReadSourceBatches("sales.orders_raw"));
//
// Contract for implementations: a call that returns OK is durable (it
// survives a crash of the process); a call that writes several records
// writes all of them or none, also when the process dies inside it; a record
// that cannot be decoded is reported as DataLoss naming its key, never skipped
// or crashed on. Thread compatibility: one caller at a time, except for
// ReadProductChanges (any thread, any time).
#pragma once

#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "catalog/descriptor.h"
#include "catalog/lineage.h"
#include "catalog/row.h"

namespace diffmesh {

// Row changes a source received at one engine time.
struct SourceBatch {
  uint64_t time = 0;
  std::vector<std::pair<Row, int64_t>> updates;  // (row, diff)

  friend bool operator==(const SourceBatch&, const SourceBatch&) = default;
};

// One published version of a product, with the lineage edges that lead into
// it, and whether it is the product's current (active) version.
struct StoredProduct {
  ProductDescriptor descriptor;
  std::vector<LineageEdge> edges;
  bool active = true;

  friend bool operator==(const StoredProduct&, const StoredProduct&) = default;
  template <class Self>
  static auto WireFields(Self& self) {
    return std::tie(self.descriptor, self.edges, self.active);
  }
};

// A batch to append to a source's log (not owned).
struct SourceAppend {
  std::string source;
  const SourceBatch* batch = nullptr;
};

// A product's row changes at one engine time (a data version's delta) to
// append to its change log (not owned).
struct ProductAppend {
  std::string product;
  const SourceBatch* batch = nullptr;
};

class MeshStore {
 public:
  virtual ~MeshStore() = default;

  // Appends each batch to its source's durable input log, all of them or
  // none: the changes several sources received at one time become durable
  // together, so no crash leaves one time half-logged. Batches of one
  // source are read back in append order.
  virtual absl::Status AppendSourceBatches(
      const std::vector<SourceAppend>& appends) = 0;
  absl::Status AppendSourceBatch(const std::string& source,
                                 const SourceBatch& batch) {
    return AppendSourceBatches({{source, &batch}});
  }
  virtual absl::StatusOr<std::vector<SourceBatch>> ReadSourceBatches(
      const std::string& source) = 0;
  // Folds the source's logged batches at times up to `upto` into one
  // checkpoint: their consolidated sum, at the time of the last of them,
  // replacing them all at once (the log then reads back as the checkpoint
  // and the batches after it). Nothing to fold: OK. A store may keep its
  // whole log instead (this default).
  virtual absl::Status CheckpointSource(const std::string& source,
                                        uint64_t upto) {
    (void)source;
    (void)upto;
    return absl::OkStatus();
  }

  // Inserts or replaces the record of each descriptor.VersionedId(), all
  // of them or none.
  virtual absl::Status PutProducts(
      const std::vector<StoredProduct>& products) = 0;
  absl::Status PutProduct(const StoredProduct& product) {
    return PutProducts({product});
  }
  // Every stored product version, ordered by (id, version).
  virtual absl::StatusOr<std::vector<StoredProduct>> ReadProducts() = 0;

  // Products' change logs: the data versions a mesh keeps on disk rather
  // than in memory (MeshOptions::versions_in_memory), for the run that
  // wrote them. A store that keeps none returns Unimplemented from every
  // call but CheckpointProductChanges (these defaults).
  //
  // Appends each product's changes to its log, all or none, as
  // AppendSourceBatches; times never decrease within a log.
  virtual absl::Status AppendProductChanges(
      const std::vector<ProductAppend>& appends) {
    (void)appends;
    return NoProductChanges();
  }
  // The product's logged changes at times up to `upto`, in append order
  // (the first may be a checkpoint: the sum of every change up to its
  // time). An unknown product has none. Unlike every other call, this one
  // may run on any thread while other calls run.
  virtual absl::StatusOr<std::vector<SourceBatch>> ReadProductChanges(
      const std::string& product, uint64_t upto) {
    (void)product;
    (void)upto;
    return NoProductChanges();
  }
  // Folds the product's changes at times up to `upto` into one checkpoint,
  // as CheckpointSource.
  virtual absl::Status CheckpointProductChanges(const std::string& product,
                                                uint64_t upto) {
    (void)product;
    (void)upto;
    return absl::OkStatus();
  }
  // Forgets every product's changes (a new run numbers its versions anew).
  virtual absl::Status DropProductChanges() { return NoProductChanges(); }

  // The next engine time the mesh will use (0 when never set).
  virtual absl::Status PutNextTime(uint64_t time) = 0;
  virtual absl::StatusOr<uint64_t> ReadNextTime() = 0;

 private:
  static absl::Status NoProductChanges() {
    return absl::UnimplementedError("this mesh store keeps no product changes");
  }
};

}  // namespace diffmesh
