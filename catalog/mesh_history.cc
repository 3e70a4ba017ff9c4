#include "catalog/mesh_history.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace diffmesh {

std::string DescribeDescriptor(const ProductDescriptor& d) {
  std::vector<std::string> columns;
  for (const Field& f : d.schema.fields()) {
    columns.push_back(absl::StrCat(f.name, ":", ValueTypeName(f.type)));
  }
  return absl::StrCat(
      d.VersionedId(), " tier=", TierName(d.tier), " owner=", d.owner, " \"",
      d.description, "\"",
      d.tags.empty() ? "" : absl::StrCat(" tags=", absl::StrJoin(d.tags, ",")),
      " [", absl::StrJoin(columns, ", "), "]",
      d.upstream.empty()
          ? ""
          : absl::StrCat(" from ", absl::StrJoin(d.upstream, ", ")));
}

MeshHistory::MeshHistory(Options options)
    : options_(options),
      board_(std::make_shared<SnapshotBoard>()),
      hub_(std::make_shared<SubscriptionHub>(options.log_events)) {}

MeshHistory::~MeshHistory() { hub_->Close(); }

void MeshHistory::AddRow(const std::string& id, const Row& row, uint64_t time,
                         int64_t diff) {
  products_[id].open_rows.Add(row, time, diff);
}

void MeshHistory::AddRows(
    const std::string& id,
    const std::vector<Update<Row, uint64_t, int64_t>>& batch) {
  TimedChanges<Row>& open = products_[id].open_rows;
  for (const auto& [row, time, diff] : batch) open.Add(row, time, diff);
}

void MeshHistory::AddQuarantine(const std::string& id, const Row& row,
                                uint64_t time, int64_t diff) {
  products_[id].open_quarantine.Add(row, time, diff);
}

void MeshHistory::AddDescriptor(const ProductDescriptor& d, uint64_t time,
                                int64_t diff) {
  open_catalog_.Add(d, time, diff);
}

void MeshHistory::AddEdge(const LineageEdge& e, uint64_t time, int64_t diff) {
  open_lineage_.Add(e, time, diff);
}

void MeshHistory::AddToken(const std::pair<std::string, std::string>& token_id,
                           uint64_t time, int64_t diff) {
  open_search_.Add(token_id, time, diff);
}

void MeshHistory::AddReach(const std::pair<ColumnRef, ColumnRef>& from_to,
                           uint64_t time, int64_t diff) {
  open_closure_.Add(from_to, time, diff);
}

SourceStatus MeshHistory::RecordPoll(const std::string& id,
                                     const absl::Status& status,
                                     uint64_t time) {
  auto [it, added] = sources_.try_emplace(id, SourceStatus{.id = id});
  const SourceStatus before = it->second;
  if (ApplyPoll(&it->second, status, time)) {
    open_sources_.emplace_back(before, -1);
    open_sources_.emplace_back(it->second, +1);
  }
  if (added || !(before == it->second)) sources_changed_ = true;
  return it->second;
}

void MeshHistory::Declare(const std::string& id, bool rows_kept) {
  auto [it, added] = products_.try_emplace(id);
  if (added || it->second.now.rows_kept != rows_kept) {
    it->second.changed = true;
  }
  it->second.now.rows_kept = rows_kept;
}

std::optional<uint64_t> MeshHistory::OldestRetainedTime(
    const std::string& id) const {
  auto it = products_.find(id);
  if (it == products_.end() || it->second.now.versions.empty()) {
    return std::nullopt;
  }
  return it->second.now.versions.front().first.time;
}

MeshUpdate& MeshHistory::UpdateAt(std::map<uint64_t, MeshUpdate>* updates,
                                  uint64_t t) {
  MeshUpdate& u = (*updates)[t];
  u.time = t;
  return u;
}

void MeshHistory::SetRetention(const std::string& id,
                               std::optional<absl::Duration> max_age) {
  if (max_age) {
    retention_[id] = *max_age;
  } else {
    retention_.erase(id);
  }
}

void MeshHistory::Stored(uint64_t time,
                         std::shared_ptr<const StoredVersions> stored) {
  stored_through_ = time;
  hub_->Stored(stored, time);
  now_.stored = std::move(stored);
}

void MeshHistory::Close(
    uint64_t time, std::vector<MeshChange>* changes,
    std::vector<std::pair<std::string, SourceBatch>>* versions) {
  std::map<uint64_t, MeshUpdate> updates;
  const size_t retained = static_cast<size_t>(options_.retained_versions);
  const size_t in_memory = static_cast<size_t>(options_.versions_in_memory);
  const absl::Time now = options_.clock ? options_.clock() : absl::Now();
  bool products_changed = false;
  for (auto& [id, p] : products_) {
    const std::string& product = id;
    Product& state = p;
    p.open_rows.Close(time, [&](uint64_t t, CountedRuns<Row>::RunPtr delta) {
      if (delta->empty()) return;  // changes that cancel: no version
      state.now.rows = state.now.rows.With(delta);
      auto& kept = state.now.versions;
      kept.push_back(
          {DataVersion{state.next_version++, t, now}, state.now.rows});
      if (kept.size() > retained) {
        kept.erase(kept.begin());
        if (state.now.stored_only > 0) --state.now.stored_only;
      }
      if (in_memory > 0) {
        if (versions != nullptr) {
          versions->push_back({product, SourceBatch{t, *delta}});
        }
        // Rows leave memory once their version's change is stored.
        size_t& stored = state.now.stored_only;
        while (kept.size() - stored > in_memory && stored_through_ &&
               kept[stored].first.time <= *stored_through_) {
          kept[stored].second = CountedRuns<Row>();
          ++stored;
        }
      }
      state.changed = true;
      UpdateAt(&updates, t).products.push_back({product, delta, nullptr});
    });
    p.open_quarantine.Close(
        time, [&](uint64_t t, CountedRuns<Row>::RunPtr delta) {
          if (delta->empty()) return;
          state.now.quarantine = state.now.quarantine.With(delta);
          state.changed = true;
          std::vector<MeshUpdate::ProductDelta>& deltas =
              UpdateAt(&updates, t).products;
          if (deltas.empty() || deltas.back().id != product) {
            deltas.push_back({product, nullptr, nullptr});
          }
          deltas.back().quarantine = std::move(delta);
        });
    // Versions older than the product's retention are let go.
    if (auto r = retention_.find(id); r != retention_.end()) {
      auto& kept = p.now.versions;
      size_t old = 0;
      while (kept.size() - old > 1 &&
             kept[old].first.closed < now - r->second) {
        ++old;
      }
      if (old > 0) {
        kept.erase(kept.begin(),
                   kept.begin() + static_cast<std::ptrdiff_t>(old));
        p.now.stored_only -= std::min(p.now.stored_only, old);
        p.changed = true;
      }
    }
    products_changed = products_changed || p.changed;
  }
  open_catalog_.Close(time, [&](uint64_t t, auto delta) {
    if (delta->empty()) return;
    now_.catalog = now_.catalog.With(delta);
    UpdateAt(&updates, t).catalog = std::move(delta);
  });
  open_lineage_.Close(time, [&](uint64_t t, auto delta) {
    if (delta->empty()) return;
    now_.lineage = now_.lineage.With(delta);
    UpdateAt(&updates, t).lineage = std::move(delta);
  });
  open_search_.Close(time, [&](uint64_t, auto delta) {
    now_.search = now_.search.With(std::move(delta));
  });
  open_closure_.Close(time, [&](uint64_t, auto delta) {
    if (delta->empty()) return;
    auto reversed = std::make_shared<
        std::vector<std::pair<std::pair<ColumnRef, ColumnRef>, int64_t>>>();
    reversed->reserve(delta->size());
    for (const auto& [pair, n] : *delta) {
      reversed->push_back({{pair.second, pair.first}, n});
    }
    std::sort(reversed->begin(), reversed->end());
    now_.closure = now_.closure.With(std::move(delta));
    now_.reverse = now_.reverse.With(std::move(reversed));
  });
  if (sources_changed_) {
    now_.sources =
        std::make_shared<const std::map<std::string, SourceStatus>>(sources_);
    sources_changed_ = false;
  }
  if (!open_sources_.empty()) {
    UpdateAt(&updates, time).sources = std::move(open_sources_);
    open_sources_.clear();
  }

  // The snapshot first, then the updates: a reader that takes a snapshot
  // and subscribes after its time misses nothing and sees nothing twice.
  if (products_changed || now_.products == nullptr) {
    auto products = std::make_shared<MeshSnapshot::Products>(
        now_.products == nullptr ? MeshSnapshot::Products() : *now_.products);
    for (auto& [id, p] : products_) {
      if (!p.changed) continue;
      p.published = std::make_shared<const ProductRows>(p.now);
      (*products)[id] = p.published;
      p.changed = false;
    }
    now_.products = std::move(products);
  }
  now_.time = time;
  now_.empty = false;
  board_->Put(std::make_shared<const MeshSnapshot>(now_));

  UpdateAt(&updates, time);  // the closed time is published, events or not
  for (auto& entry : updates) {
    // Not a structured binding: lambdas below capture it (clang-14).
    const uint64_t t = entry.first;
    MeshUpdate& update = entry.second;
    if (changes != nullptr) {
      auto add = [&](std::string stream, int64_t diff, std::string text) {
        changes->push_back({t, std::move(stream), diff, std::move(text)});
      };
      for (const MeshUpdate::ProductDelta& p : update.products) {
        if (p.rows) {
          for (const auto& [row, n] : *p.rows)
            add(absl::StrCat("product ", p.id), n, RowDebugString(row));
        }
        if (p.quarantine) {
          for (const auto& [row, n] : *p.quarantine)
            add(absl::StrCat("quarantine ", p.id), n, RowDebugString(row));
        }
      }
      if (update.catalog) {
        for (const auto& [d, n] : *update.catalog)
          add("catalog", n, DescribeDescriptor(d));
      }
      if (update.lineage) {
        for (const auto& [e, n] : *update.lineage)
          add("lineage", n, e.ToString());
      }
      for (const auto& [s, n] : update.sources)
        add(absl::StrCat("source ", s.id), n, s.Describe());
    }
    hub_->Publish(std::make_shared<const MeshUpdate>(std::move(update)));
  }
}

}  // namespace diffmesh
