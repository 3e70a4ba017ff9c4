// ForwardingStore: a MeshStore that hands every call to another store.
// Tests derive from it to watch, count or fail the calls they are about.
//
//   class FailingStore : public ForwardingStore {
//     using ForwardingStore::ForwardingStore;
//     absl::Status PutNextTime(uint64_t) override { return ...; }
//   };
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "catalog/mesh_store.h"

namespace diffmesh::testing {

class ForwardingStore : public MeshStore {
 public:
  explicit ForwardingStore(MeshStore* inner) : inner_(inner) {}

  absl::Status AppendSourceBatches(
      const std::vector<SourceAppend>& appends) override {
    return inner_->AppendSourceBatches(appends);
  }
  absl::StatusOr<std::vector<SourceBatch>> ReadSourceBatches(
      const std::string& source) override {
    return inner_->ReadSourceBatches(source);
  }
  absl::Status CheckpointSource(const std::string& source,
                                uint64_t upto) override {
    return inner_->CheckpointSource(source, upto);
  }
  absl::Status PutProducts(const std::vector<StoredProduct>& p) override {
    return inner_->PutProducts(p);
  }
  absl::StatusOr<std::vector<StoredProduct>> ReadProducts() override {
    return inner_->ReadProducts();
  }
  absl::Status PutNextTime(uint64_t time) override {
    return inner_->PutNextTime(time);
  }
  absl::StatusOr<uint64_t> ReadNextTime() override {
    return inner_->ReadNextTime();
  }
  absl::Status AppendProductChanges(
      const std::vector<ProductAppend>& appends) override {
    return inner_->AppendProductChanges(appends);
  }
  absl::StatusOr<std::vector<SourceBatch>> ReadProductChanges(
      const std::string& product, uint64_t upto) override {
    return inner_->ReadProductChanges(product, upto);
  }
  absl::Status CheckpointProductChanges(const std::string& product,
                                        uint64_t upto) override {
    return inner_->CheckpointProductChanges(product, upto);
  }
  absl::Status DropProductChanges() override {
    return inner_->DropProductChanges();
  }

 protected:
  MeshStore* inner_;
};

}  // namespace diffmesh::testing
