#include "catalog/product_captures.h"

#include <utility>

#include "catalog/process_replicas.h"
#include "engine/graph.h"
#include "operators/inspect.h"

namespace diffmesh {

ProductCaptures::ProductCaptures(std::mutex* mu, MeshHistory* history,
                                 std::shared_ptr<const void> keep,
                                 LiveDataflows* live)
    : mu_(mu), history_(history), keep_(std::move(keep)), live_(live) {}

RowCollection ProductCaptures::Capture(
    const std::string& id, const RowCollection& rows,
    const std::optional<RowCollection>& quarantine) {
  Computed& product = computed_[id];
  product.captured = true;
  const bool kept = product.rows_kept;
  product.rows_port = rows.stream.port;
  LiveDataflows::TapList taps = live_->Feeds(id);
  std::mutex* mu = mu_;
  MeshHistory* history = history_;
  std::shared_ptr<const void> keep = keep_;
  {
    std::lock_guard<std::mutex> lock(*mu);
    history->Declare(id, kept);
  }
  // Across processes every process's first worker captures all the rows
  // into its replica (catalog/process_replicas.h); within one process each
  // worker captures its share here.
  const bool replicated = rows.graph()->fabric() != nullptr &&
                          rows.graph()->fabric()->link() != nullptr;
  if (kept && replicated) {
    auto replica = InspectBatch(
        ToEveryProcess(rows),
        [mu, history, keep,
         id](const std::vector<Update<Row, uint64_t, int64_t>>& batch) {
          std::lock_guard<std::mutex> lock(*mu);
          history->AddRows(id, batch);
        });
    probes_.push_back(ProbeStream(replica.stream));
  }
  // The rows pass through the capture to the tables built on the
  // published product, and the probe reads only the frontier: a product
  // read by one table hands its rows on without a copy.
  const bool kept_here = kept && !replicated;
  auto watched = InspectBatch(
      rows, [mu, history, keep, id, taps, kept_here](
                const std::vector<Update<Row, uint64_t, int64_t>>& batch) {
        if (kept_here) {
          std::lock_guard<std::mutex> lock(*mu);
          history->AddRows(id, batch);
        }
        // Dataflows added since read the product's changes here, at their
        // own times (a tap's input is never ahead of them: see AdvanceTaps).
        for (LiveDataflows::Tap* tap : *taps) {
          for (const auto& [row, t, r] : batch) tap->input.UpdateAt(row, t, r);
        }
      });
  Probe<uint64_t> capture = ProbeFrontier(watched.stream);
  probes_.push_back(capture);
  live_->Captured(id, rows.graph(), std::move(capture));
  product.through = watched;
  if (quarantine) CaptureQuarantine(id, *quarantine);
  return watched;
}

void ProductCaptures::CaptureQuarantine(const std::string& id,
                                        const RowCollection& quarantine) {
  std::mutex* mu = mu_;
  MeshHistory* history = history_;
  std::shared_ptr<const void> keep = keep_;  // see Capture
  auto watched =
      Inspect(ToEveryProcess(quarantine),
              [mu, history, keep, id](const Row& row, uint64_t t, int64_t r) {
                std::lock_guard<std::mutex> lock(*mu);
                history->AddQuarantine(id, row, t, r);
              });
  probes_.push_back(ProbeStream(watched.stream));
}

void ProductCaptures::Stopped(const std::string& id,
                              const MeshSnapshot* snapshot, uint64_t time) {
  if (snapshot != nullptr) {
    // Its rows leave with it, at this time (published again, it starts
    // afresh from Use).
    if (const ProductRows* found = snapshot->Find(id)) {
      std::lock_guard<std::mutex> lock(*mu_);
      found->rows.ForEach([&](const Row& row, int64_t n) {
        history_->AddRow(id, row, time, -n);
      });
      found->quarantine.ForEach([&](const Row& row, int64_t n) {
        history_->AddQuarantine(id, row, time, -n);
      });
    }
  }
  computed_[id] = Computed{};
}

bool ProductCaptures::captured(const std::string& id) const {
  auto it = computed_.find(id);
  return it != computed_.end() && it->second.captured;
}

bool ProductCaptures::Behind(uint64_t time) const {
  for (const auto& probe : probes_) {
    if (probe.LessThan(time)) return true;
  }
  return false;
}

}  // namespace diffmesh
