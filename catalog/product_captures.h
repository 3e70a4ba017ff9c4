// ProductCaptures: how a mesh's worker computes its products in this run --
// each product's rows (and quarantine) captured into the group's history as
// they pass, handed on to the tables built on the product and to the taps
// of dataflows added while running, and taken out of the history when the
// dataflow computing them stops.
//
//   ProductCaptures captures(&group->mu, group->history.get(), keep, live);
//   RowCollection through = captures.Capture("sales.orders", rows, quarantine);
//   if (captures.Behind(next)) ... step ...
//
// Thread-safety: one worker's thread; the history is written under `mu`
// (the capture callbacks run on the same thread).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "catalog/live_dataflows.h"
#include "catalog/mesh_history.h"
#include "catalog/mesh_snapshot.h"
#include "catalog/table.h"
#include "engine/probe.h"

namespace diffmesh {

class ProductCaptures {
 public:
  struct Computed {
    bool captured = false;                 // its rows are captured
    bool rows_kept = true;                 // ... into the history
    const void* rows_port = nullptr;       // from this stream
    std::optional<RowCollection> through;  // the rows past the capture
  };

  // `keep` is held by the captures' callbacks (which live as long as the
  // worker): it keeps `mu` and `history` alive. `live` outlives this.
  ProductCaptures(std::mutex* mu, MeshHistory* history,
                  std::shared_ptr<const void> keep, LiveDataflows* live);

  // Captures product `id`'s rows (and quarantine) into the history; returns
  // them as they pass through the capture.
  RowCollection Capture(const std::string& id, const RowCollection& rows,
                        const std::optional<RowCollection>& quarantine);
  // Quarantine rows of `id` (a table's, or a source's) into the history.
  void CaptureQuarantine(const std::string& id,
                         const RowCollection& quarantine);
  // Product `id`'s dataflow stopped: its rows (as `snapshot` holds them;
  // null on workers that do not feed) leave the history at `time`, and it
  // is no longer computed.
  void Stopped(const std::string& id, const MeshSnapshot* snapshot,
               uint64_t time);

  // How `id` is computed; a product not computed here reads as not
  // captured.
  Computed& At(const std::string& id) { return computed_[id]; }
  bool captured(const std::string& id) const;
  // Whether some capture has not passed `time` yet.
  bool Behind(uint64_t time) const;
  std::vector<Probe<uint64_t>>* probes() { return &probes_; }

 private:
  std::mutex* mu_;
  MeshHistory* history_;
  std::shared_ptr<const void> keep_;
  LiveDataflows* live_;
  std::map<std::string, Computed> computed_;
  std::vector<Probe<uint64_t>> probes_;  // the captures'
};

}  // namespace diffmesh
