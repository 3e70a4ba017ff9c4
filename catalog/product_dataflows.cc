#include "catalog/product_dataflows.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/graph.h"

namespace diffmesh {

ProductDataflows::ProductDataflows(Options options)
    : options_(std::move(options)),
      products_graph_(&options_.worker->NewDataflow("mesh.products")),
      shared_(std::make_shared<SharedArrangements>(products_graph_)) {
  live_ = std::make_unique<LiveDataflows>(
      *options_.worker, products_graph_, shared_.get(),
      LiveDataflows::Hooks{
          .active = options_.active,
          .stopped = [this](const std::string& id) { Stopped(id); }});
  captures_ = std::make_unique<ProductCaptures>(options_.mu, options_.history,
                                                options_.keep, live_.get());
}

bool ProductDataflows::running() const { return products_graph_->sealed(); }

absl::Status ProductDataflows::CheckComputable(const std::string& id,
                                               const Table& table,
                                               const std::string& what) {
  const ProductCaptures::Computed& p = captures_->At(id);
  Graph* graph = table.rows().graph();
  if (!p.captured && graph != products_graph_ && graph != live_->current()) {
    return absl::InvalidArgumentError(absl::StrCat(
        what,
        ": the table is not built from this mesh's products of this time "
        "(after an Advance, build on Use(id) again)"));
  }
  if (!p.captured && graph->sealed()) {
    return absl::FailedPreconditionError(absl::StrCat(
        what,
        ": a new table cannot join a running dataflow; build it on "
        "Use(id)"));
  }
  if (p.captured && table.rows().stream.port != p.rows_port &&
      table.rows().stream.port != p.through->stream.port) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": ", id,
                     " is computed by another table in this run; a product's "
                     "computation is fixed once published"));
  }
  return absl::OkStatus();
}

RowCollection ProductDataflows::Compute(const std::string& id,
                                        const Table& table) {
  ProductCaptures::Computed& p = captures_->At(id);
  if (!p.captured) captures_->Capture(id, table.rows(), table.quarantine());
  return *p.through;
}

void ProductDataflows::CaptureQuarantine(const std::string& id,
                                         const RowCollection& quarantine) {
  captures_->CaptureQuarantine(id, quarantine);
}

void ProductDataflows::KeepRows(const std::string& id, bool keep) {
  captures_->At(id).rows_kept = keep;
}

bool ProductDataflows::computed(const std::string& id) const {
  return captures_->captured(id);
}

absl::StatusOr<RowCollection> ProductDataflows::Use(const std::string& id) {
  const ProductCaptures::Computed& p = captures_->At(id);
  if (!p.captured) {
    return absl::FailedPreconditionError(
        absl::StrCat("product ", id,
                     " is in the catalog but not computed in this run "
                     "(declare it)"));
  }
  if (!running()) return *p.through;
  if (!p.rows_kept) {
    return absl::FailedPreconditionError(absl::StrCat(
        "Use(", id,
        "): its rows are not kept by the mesh (a source opened "
        "with keep_rows = false), so a dataflow added while running cannot "
        "start from them"));
  }
  return live_->Use(id, *options_.time, [this, id](InputHandle<Row>& input) {
    if (!options_.feeder) return;
    std::shared_ptr<const MeshSnapshot> snapshot = options_.history->Latest();
    if (const ProductRows* found = snapshot->Find(id)) {
      found->rows.ForEach(
          [&](const Row& row, int64_t n) { input.Update(row, n); });
    }
  });
}

void ProductDataflows::Retired(const std::string& id) {
  live_->MaybeStopProductOf(id);
}

void ProductDataflows::Stopped(const std::string& id) {
  std::shared_ptr<const MeshSnapshot> snapshot;
  if (options_.keeper) snapshot = options_.history->Latest();
  captures_->Stopped(id, snapshot.get(), *options_.time);
}

absl::StatusOr<ProductDataflows::NewGathered> ProductDataflows::NewGather() {
  if (running()) {
    return absl::FailedPreconditionError(
        "a gather joins the mesh's dataflow before the first Advance only");
  }
  auto [input, rows] = NewInput<Row>(*products_graph_);
  input.AdvanceTo(*options_.time);
  return NewGathered{.gather = live_->NewGather(std::move(input)),
                     .rows = rows};
}

absl::StatusOr<int> ProductDataflows::Gather(int gather, const Table& table) {
  if (!live_->has_gather(gather)) {
    return absl::NotFoundError(absl::StrCat("no gather ", gather));
  }
  if (!running()) {
    return absl::FailedPreconditionError(
        "gather: the mesh has not run yet; build on its products' own "
        "tables before the first Advance");
  }
  if (table.rows().graph() == nullptr ||
      table.rows().graph() != live_->current()) {
    return absl::InvalidArgumentError(
        "gather: the table is not built on Use in this time (after an "
        "Advance, build on Use(id) again)");
  }
  return live_->Gather(gather, table.rows());
}

absl::Status ProductDataflows::Ungather(int feed) {
  if (!live_->Ungather(feed)) {
    return absl::NotFoundError(absl::StrCat("no gathered feed ", feed));
  }
  return absl::OkStatus();
}

absl::Status ProductDataflows::Close(const std::function<bool()>& behind) {
  const uint64_t next = *options_.time + 1;
  Worker& worker = *options_.worker;
  // Dataflows added while the mesh runs take each product's changes of
  // this time once its capture has seen all of them.
  // A dataflow whose products were all retired in the time it was added
  // (so its rows were not in the history yet) stops now.
  // This time's new dataflow starts now, also when nothing was published
  // from it.
  if (live_->StartTime()) worker.Step();
  auto unfinished = [&] {
    const bool taps_waiting = live_->AdvanceTaps(next);
    if (behind()) return true;
    return captures_->Behind(next) || taps_waiting;
  };
  bool finished = worker.StepWhile(unfinished);
  // A single worker reports a stall when a step did nothing; a tap that
  // could advance only then is no stall.
  for (int advanced = 0; !finished; advanced = 0) {
    live_->AdvanceTaps(next, &advanced);
    if (advanced == 0) break;
    finished = worker.StepWhile(unfinished);
  }
  if (!finished) {
    return absl::InternalError(
        absl::StrCat("the mesh's dataflows stalled at time ", *options_.time));
  }
  live_->DropStopped(captures_->probes());
  return absl::OkStatus();
}

}  // namespace diffmesh
