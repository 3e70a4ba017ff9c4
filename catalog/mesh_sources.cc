#include "catalog/mesh_sources.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "catalog/mesh.h"
#include "engine/status_macros.h"

namespace diffmesh {

absl::StatusOr<MeshSources::Opened> MeshSources::Open(
    const std::string& id, const SourceOptions& options, const Schema& declared,
    MeshStore* store) {
  Opened o;
  absl::StatusOr<std::unique_ptr<FileSource>> source =
      FileSource::Open(options);
  if (!source.ok()) {
    return absl::Status(
        source.status().code(),
        absl::StrCat("source ", id, ": ", source.status().message()));
  }
  o.files = *std::move(source);
  o.schema = o.files->schema();
  if (store == nullptr) return o;
  DM_ASSIGN_OR_RETURN(o.logged, store->ReadSourceBatches(id));
  const Schema& schema = declared.size() > 0 ? declared : o.schema;
  for (const SourceBatch& batch : o.logged) {
    o.after_log = std::max(o.after_log, batch.time + 1);
    for (const auto& [row, diff] : batch.updates) {
      if (absl::Status fits = schema.Validate(row); !fits.ok()) {
        // Not corruption: the log holds rows of another schema (the
        // source's schema changed between runs), which cannot be replayed.
        return absl::FailedPreconditionError(absl::StrCat(
            "source ", id, ": its log holds rows of another schema (at time ",
            batch.time, ": ", fits.message(),
            "); a source's schema cannot change across a restart"));
      }
    }
  }
  return o;
}

std::vector<std::string> MeshSources::Ids() const {
  std::vector<std::string> ids;
  for (const auto& [id, source] : sources_) ids.push_back(id);
  return ids;
}

void MeshSources::Add(const std::string& id, std::unique_ptr<FileSource> files,
                      InputHandle<Row> rows, InputHandle<Row> quarantine,
                      std::vector<SourceBatch> logged) {
  Source& s = sources_[id];
  s.files = std::move(files);
  s.rows = std::move(rows);
  s.quarantine = std::move(quarantine);
  s.logged_since_checkpoint = logged.size();
  s.logged = std::move(logged);
}

void MeshSources::Replay(uint64_t time, bool feeder) {
  for (auto& [id, source] : sources_) {
    if (source.replayed) continue;
    source.replayed = true;
    if (feeder) {
      RowDiffs accumulated;
      for (const SourceBatch& batch : source.logged) {
        for (const auto& [row, diff] : batch.updates) {
          source.rows.UpdateAt(row, batch.time, diff);
          accumulated.emplace_back(row, diff);
        }
      }
      source.files->AssumeRows(accumulated);
    }
    source.logged.clear();
    source.rows.AdvanceTo(time);
    source.quarantine.AdvanceTo(time);
  }
}

absl::Status MeshSources::Poll(uint64_t time, MeshStore* store,
                               const Health& health, RefreshReport* report) {
  struct Peeked {
    const std::string* id;
    Source* source;
    SourceDiff diff;
    SourceBatch batch;
  };
  std::vector<Peeked> peeked;
  peeked.reserve(sources_.size());
  for (auto& [id, source] : sources_) {
    absl::StatusOr<SourceDiff> diff = source.files->Peek();
    absl::Status status = diff.status();
    if (!status.ok()) {
      status = absl::Status(
          status.code(), absl::StrCat("source ", id, ": ", status.message()));
    }
    health(id, status);
    if (!status.ok()) continue;
    Peeked& p = peeked.emplace_back(Peeked{&id, &source, *std::move(diff), {}});
    p.batch.time = time;
    p.batch.updates = std::move(p.diff.rows);
  }
  if (store != nullptr) {
    std::vector<SourceAppend> appends;
    for (const Peeked& p : peeked) {
      if (!p.batch.updates.empty()) appends.push_back({*p.id, &p.batch});
    }
    if (!appends.empty()) {
      DM_RETURN_IF_ERROR(store->AppendSourceBatches(appends));
    }
  }
  for (Peeked& p : peeked) {
    p.source->files->Commit();
    if (!p.batch.updates.empty()) ++p.source->logged_since_checkpoint;
    for (const auto& [row, n] : p.batch.updates) {
      p.source->rows.Update(row, n);
      (n > 0 ? report->rows_inserted : report->rows_retracted) +=
          n > 0 ? n : -n;
    }
    for (const auto& [row, n] : p.diff.quarantine) {
      p.source->quarantine.Update(row, n);
      report->quarantine_changes += n > 0 ? n : -n;
    }
    report->files_changed.insert(report->files_changed.end(),
                                 p.diff.files_changed.begin(),
                                 p.diff.files_changed.end());
  }
  return absl::OkStatus();
}

void MeshSources::AdvanceTo(uint64_t next) {
  for (auto& [id, source] : sources_) {
    source.rows.AdvanceTo(next);
    source.quarantine.AdvanceTo(next);
  }
}

absl::Status MeshSources::Checkpoint(
    MeshStore* store, size_t after,
    const std::function<std::optional<uint64_t>(const std::string&)>& oldest) {
  if (store == nullptr || after == 0) return absl::OkStatus();
  for (auto& [id, source] : sources_) {
    if (source.logged_since_checkpoint < after) continue;
    const std::optional<uint64_t> upto = oldest(id);
    if (!upto) continue;
    DM_RETURN_IF_ERROR(store->CheckpointSource(id, *upto));
    source.logged_since_checkpoint = 0;
  }
  return absl::OkStatus();
}

absl::Status MeshSources::AcceptFiles(const std::string& id) {
  auto it = sources_.find(id);
  if (it == sources_.end()) {
    return absl::NotFoundError(absl::StrCat("no source ", id));
  }
  if (it->second.files != nullptr) it->second.files->AcceptFiles();
  return absl::OkStatus();
}

}  // namespace diffmesh
