#include "catalog/mesh.h"

#include <algorithm>
#include <cctype>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "catalog/closure.h"
#include "engine/graph.h"
#include "engine/status_macros.h"
#include "operators/distinct.h"
#include "operators/flat_map.h"
#include "operators/inspect.h"
#include "operators/map.h"

namespace diffmesh {
namespace {

template <class K>
void AddCount(std::map<K, int64_t>* m, const K& key, int64_t diff) {
  int64_t& slot = (*m)[key];
  slot += diff;
  if (slot == 0) m->erase(key);
}

// Lower-case words of letters and digits ('_' and '.' split words too, and
// the whole dotted/underscored name is a token as well).
void AddWords(const std::string& text, std::set<std::string>* out) {
  std::string word;
  auto flush = [&] {
    if (!word.empty()) out->insert(word);
    word.clear();
  };
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      word.push_back(absl::ascii_tolower(c));
    } else {
      flush();
    }
  }
  flush();
}

std::set<std::string> SearchTokens(const ProductDescriptor& d) {
  std::set<std::string> tokens;
  tokens.insert(absl::AsciiStrToLower(d.id));
  AddWords(d.id, &tokens);
  AddWords(d.description, &tokens);
  for (const std::string& tag : d.tags) {
    tokens.insert(absl::AsciiStrToLower(tag));
    AddWords(tag, &tokens);
  }
  for (const Field& f : d.schema.fields()) {
    tokens.insert(absl::AsciiStrToLower(f.name));
    AddWords(f.name, &tokens);
  }
  return tokens;
}

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

bool SameColumns(const Schema& a, const Schema& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a.fields()[i].name != b.fields()[i].name ||
        a.fields()[i].type != b.fields()[i].type) {
      return false;
    }
  }
  return true;
}

}  // namespace

Mesh::Mesh(Worker& worker, MeshOptions options)
    : worker_(worker), options_(options) {}

Mesh::~Mesh() = default;

absl::StatusOr<std::unique_ptr<Mesh>> Mesh::Open(Worker& worker,
                                                 MeshOptions options) {
  if (worker.peers() != 1) {
    return absl::FailedPreconditionError(
        "Mesh runs on one worker; this worker has peers");
  }
  if (options.retained_versions < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "retained_versions must be >= 1, got ", options.retained_versions));
  }
  std::unique_ptr<Mesh> mesh(new Mesh(worker, options));
  mesh->products_graph_ = &worker.NewDataflow("mesh.products");
  mesh->catalog_graph_ = &worker.NewDataflow("mesh.catalog");
  mesh->BuildCatalogDataflow();
  absl::Status restored = mesh->Restore();
  if (!restored.ok()) return restored;
  return mesh;
}

void Mesh::BuildCatalogDataflow() {
  Graph& g = *catalog_graph_;
  auto [catalog_in, catalog] = NewInput<ProductDescriptor>(g);
  catalog_in_ = std::move(catalog_in);
  auto watched_catalog = Inspect(
      catalog, [this](const ProductDescriptor& d, uint64_t t, int64_t r) {
        AddCount(&catalog_, d, r);
        Record("catalog", t, r, DescribeDescriptor(d));
      });
  probes_.push_back(ProbeStream(watched_catalog.stream));

  auto tokens = Distinct(FlatMap(catalog, [](const ProductDescriptor& d) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const std::string& token : SearchTokens(d))
      out.emplace_back(token, d.id);
    return out;
  }));
  auto watched_tokens =
      Inspect(tokens, [this](const std::pair<std::string, std::string>& p,
                             uint64_t, int64_t r) {
        auto& ids = search_[p.first];
        AddCount(&ids, p.second, r);
        if (ids.empty()) search_.erase(p.first);
      });
  probes_.push_back(ProbeStream(watched_tokens.stream));

  auto [lineage_in, edges] = NewInput<LineageEdge>(g);
  lineage_in_ = std::move(lineage_in);
  auto watched_edges =
      Inspect(edges, [this](const LineageEdge& e, uint64_t t, int64_t r) {
        AddCount(&lineage_, e, r);
        Record("lineage", t, r, e.ToString());
      });
  probes_.push_back(ProbeStream(watched_edges.stream));

  auto pairs = Map(edges, [](const LineageEdge& e) {
    return std::pair<ColumnRef, ColumnRef>(e.from, e.to);
  });
  auto closure =
      Inspect(TransitiveClosure(pairs),
              [this](const std::pair<ColumnRef, ColumnRef>& p, uint64_t,
                     int64_t r) { AddCount(&closure_, p, r); });
  probes_.push_back(ProbeStream(closure.stream));
}

absl::Status Mesh::Restore() {
  if (options_.store == nullptr) return absl::OkStatus();
  absl::StatusOr<uint64_t> next = options_.store->ReadNextTime();
  if (!next.ok()) return next.status();
  time_ = *next;
  absl::StatusOr<std::vector<StoredProduct>> stored =
      options_.store->ReadProducts();
  if (!stored.ok()) return stored.status();
  for (StoredProduct& sp : *stored) {
    const std::string id = sp.descriptor.id;
    if (sp.active) {
      Product& p = products_[id];
      if (p.active) {
        return absl::DataLossError(
            absl::StrCat("store holds two active versions of ", id, ": ",
                         p.active->descriptor.version.ToString(), " and ",
                         sp.descriptor.version.ToString()));
      }
      p.active = sp;
      catalog_in_.Insert(sp.descriptor);
      for (const LineageEdge& e : sp.edges) lineage_in_.Insert(e);
    }
    versions_[sp.descriptor.VersionedId()] = std::move(sp);
  }
  // Restored entries sit at time 0; the mesh goes on where it stopped.
  catalog_in_.AdvanceTo(time_);
  lineage_in_.AdvanceTo(time_);
  return absl::OkStatus();
}

void Mesh::Record(std::string stream, uint64_t time, int64_t diff,
                  std::string text) {
  pending_.push_back({time, std::move(stream), diff, std::move(text)});
}

void Mesh::Capture(const std::string& id, const Table& table) {
  Product* p = &products_[id];
  p->captured = true;
  const std::string stream = absl::StrCat("product ", id);
  auto rows = Inspect(table.rows(),
                      [this, p, stream](const Row& row, uint64_t t, int64_t r) {
                        p->history.emplace_back(row, t, r);
                        p->changed_times.insert(t);
                        Record(stream, t, r, RowDebugString(row));
                      });
  probes_.push_back(ProbeStream(rows.stream));
  if (table.quarantine()) {
    const std::string qstream = absl::StrCat("quarantine ", id);
    auto quarantine =
        Inspect(*table.quarantine(),
                [this, p, qstream](const Row& row, uint64_t t, int64_t r) {
                  p->quarantine.emplace_back(row, t, r);
                  Record(qstream, t, r, RowDebugString(row));
                });
    probes_.push_back(ProbeStream(quarantine.stream));
  }
}

absl::StatusOr<Table> Mesh::Source(ProductDescriptor descriptor,
                                   SourceOptions options) {
  const std::string& id = descriptor.id;
  if (sources_.count(id)) {
    return absl::AlreadyExistsError(
        absl::StrCat("source ", id, " is already declared"));
  }
  if (products_graph_->sealed()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "source ", id, ": declare sources before the mesh's first Advance"));
  }
  if (!options.schema) {
    if (descriptor.schema.size() > 0) {
      options.schema = descriptor.schema;
    } else if (auto p = products_.find(id);
               p != products_.end() && p->second.active) {
      options.schema = p->second.active->descriptor.schema;
    }
  }
  absl::StatusOr<std::unique_ptr<FileSource>> files =
      FileSource::Open(std::move(options));
  if (!files.ok()) {
    return absl::Status(
        files.status().code(),
        absl::StrCat("source ", id, ": ", files.status().message()));
  }
  if (descriptor.schema.size() == 0) descriptor.schema = (*files)->schema();
  // Everything a publish could refuse is checked before operators exist.
  if (absl::Status valid = ValidateDescriptor(descriptor); !valid.ok()) {
    return valid;
  }
  std::vector<SourceBatch> logged;
  if (options_.store != nullptr) {
    absl::StatusOr<std::vector<SourceBatch>> batches =
        options_.store->ReadSourceBatches(id);
    if (!batches.ok()) return batches.status();
    logged = *std::move(batches);
    for (const SourceBatch& batch : logged) {
      // The batch is durable but the crash came before the next time was:
      // go on after it.
      time_ = std::max(time_, batch.time + 1);
      for (const auto& [row, diff] : batch.updates) {
        if (absl::Status fits = descriptor.schema.Validate(row); !fits.ok()) {
          return absl::DataLossError(absl::StrCat(
              "source log of ", id, " at time ", batch.time,
              " holds a row that does not fit the schema: ", fits.message()));
        }
      }
    }
  }
  SourceState state;
  state.files = *std::move(files);
  auto [rows_in, rows] = NewInput<Row>(*products_graph_);
  auto [quarantine_in, quarantine] = NewInput<Row>(*products_graph_);
  state.rows = std::move(rows_in);
  state.quarantine = std::move(quarantine_in);
  absl::StatusOr<Table> table = Table::FromProduct(id, rows, descriptor.schema);
  if (!table.ok()) return table.status();
  absl::StatusOr<Table> published = Publish(*table, descriptor);
  if (!published.ok()) return published.status();
  Product* p = &products_[id];
  const std::string qstream = absl::StrCat("quarantine ", id);
  auto watched = Inspect(
      quarantine, [this, p, qstream](const Row& row, uint64_t t, int64_t r) {
        p->quarantine.emplace_back(row, t, r);
        Record(qstream, t, r, RowDebugString(row));
      });
  probes_.push_back(ProbeStream(watched.stream));

  state.logged = std::move(logged);
  sources_[id] = std::move(state);
  return published;
}

absl::Status Mesh::Start(RefreshReport* report) {
  started_ = true;
  // Sources send their first rows only now, when every table reading them
  // is declared: an input sends what it holds when it advances (or when its
  // buffer fills), and a reader connected later would not see it.
  for (auto& [id, source] : sources_) {
    RowDiffs accumulated;
    for (const SourceBatch& batch : source.logged) {
      for (const auto& [row, diff] : batch.updates) {
        source.rows.UpdateAt(row, batch.time, diff);
        accumulated.emplace_back(row, diff);
      }
    }
    source.logged.clear();
    source.rows.AdvanceTo(time_);
    source.quarantine.AdvanceTo(time_);
    source.files->AssumeRows(accumulated);
    DM_RETURN_IF_ERROR(Feed(id, &source, report));
  }
  return absl::OkStatus();
}

absl::Status Mesh::Feed(const std::string& id, SourceState* source,
                        RefreshReport* report) {
  absl::StatusOr<SourceDiff> diff = source->files->Poll();
  if (!diff.ok()) {
    return absl::Status(
        diff.status().code(),
        absl::StrCat("source ", id, ": ", diff.status().message()));
  }
  if (!diff->rows.empty() && options_.store != nullptr) {
    // Durable before the dataflow (or anybody) sees it.
    DM_RETURN_IF_ERROR(
        options_.store->AppendSourceBatch(id, {time_, diff->rows}));
  }
  for (const auto& [row, n] : diff->rows) {
    source->rows.Update(row, n);
    (n > 0 ? report->rows_inserted : report->rows_retracted) += n > 0 ? n : -n;
  }
  for (const auto& [row, n] : diff->quarantine) {
    source->quarantine.Update(row, n);
    report->quarantine_changes += n > 0 ? n : -n;
  }
  report->files_changed.insert(report->files_changed.end(),
                               diff->files_changed.begin(),
                               diff->files_changed.end());
  return absl::OkStatus();
}

absl::StatusOr<Table> Mesh::Publish(const Table& table,
                                    ProductDescriptor descriptor) {
  const std::string& id = descriptor.id;
  const std::string what = absl::StrCat("publish ", descriptor.VersionedId());
  if (descriptor.schema.size() == 0) {
    descriptor.schema = table.schema();
  } else if (!SameColumns(descriptor.schema, table.schema())) {
    std::vector<std::string> want, have;
    for (const Field& f : descriptor.schema.fields()) {
      want.push_back(absl::StrCat(f.name, ":", ValueTypeName(f.type)));
    }
    for (const Field& f : table.schema().fields()) {
      have.push_back(absl::StrCat(f.name, ":", ValueTypeName(f.type)));
    }
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": the descriptor's columns (", absl::StrJoin(want, ", "),
        ") are not the table's (", absl::StrJoin(have, ", "), ")"));
  }
  std::vector<LineageEdge> edges;
  const std::vector<std::string> upstream = table.UpstreamProducts();
  const StoredProduct* newest = Newest(id);
  if (newest != nullptr && upstream == std::vector<std::string>{id}) {
    // The table is the product itself (what Publish returned): publishing
    // it again keeps the lineage the product was built with.
    edges = newest->edges;
    descriptor.upstream = newest->descriptor.upstream;
  }
  for (const std::string& up : upstream) {
    if (up == id) continue;
    descriptor.upstream.push_back(up);
    edges.push_back({{up, ""}, {id, ""}, TransformKind::kDirect});
  }
  for (size_t c = 0; c < table.schema().size(); ++c) {
    const ColumnRef to{id, descriptor.schema.fields()[c].name};
    for (const auto* sources :
         {&table.column_sources()[c], &table.table_sources()}) {
      for (const ColumnSource& s : *sources) {
        if (s.from.product == id) continue;
        edges.push_back({s.from, to, s.kind});
      }
    }
  }
  std::sort(edges.begin(), edges.end());
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
  if (absl::Status valid = ValidateDescriptor(descriptor); !valid.ok()) {
    return valid;
  }

  // Version rules.
  const std::string vid = descriptor.VersionedId();
  if (auto same = versions_.find(vid); same != versions_.end()) {
    if (!(same->second.descriptor.schema == descriptor.schema)) {
      return absl::FailedPreconditionError(absl::StrCat(
          what,
          ": this version is already published with another schema; "
          "versions are immutable (publish a new version)"));
    }
  } else {
    if (newest != nullptr) {
      const ProductVersion& prev = newest->descriptor.version;
      if (descriptor.version < prev) {
        return absl::FailedPreconditionError(
            absl::StrCat(what, ": version ", descriptor.version.ToString(),
                         " is older than the published ", prev.ToString()));
      }
      if (descriptor.version.major == prev.major) {
        absl::Status compatible =
            CheckCompatible(newest->descriptor.schema, descriptor.schema);
        if (!compatible.ok()) {
          return absl::FailedPreconditionError(absl::StrCat(
              what, " is incompatible with ", newest->descriptor.VersionedId(),
              ": ", compatible.message(), "; a breaking change needs version ",
              prev.major + 1, ".0"));
        }
      }
    }
  }
  Product& p = products_[id];
  if (!p.captured && products_graph_->sealed()) {
    return absl::FailedPreconditionError(
        absl::StrCat(what,
                     ": a new table cannot join a running dataflow; declare it "
                     "before the mesh's first Advance"));
  }
  if (table.rows().graph() != products_graph_) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": the table is not built from this mesh"));
  }

  StoredProduct next{descriptor, edges, true};
  if (!p.active || !(*p.active == next)) {
    if (options_.store != nullptr) {
      DM_RETURN_IF_ERROR(options_.store->PutProduct(next));
      if (p.active && p.active->descriptor.version != descriptor.version) {
        StoredProduct old = *p.active;
        old.active = false;
        DM_RETURN_IF_ERROR(options_.store->PutProduct(old));
        versions_[old.descriptor.VersionedId()] = old;
      }
    }
    if (p.active) {
      catalog_in_.Remove(p.active->descriptor);
      for (const LineageEdge& e : p.active->edges) lineage_in_.Remove(e);
    }
    catalog_in_.Insert(descriptor);
    for (const LineageEdge& e : edges) lineage_in_.Insert(e);
    versions_[vid] = next;
    p.active = next;
  }
  if (!p.captured) Capture(id, table);
  return Table::FromProduct(id, table.rows(), descriptor.schema);
}

const StoredProduct* Mesh::Newest(const std::string& id) const {
  const StoredProduct* newest = nullptr;
  for (auto it = versions_.lower_bound(id + "@");
       it != versions_.end() && it->second.descriptor.id == id; ++it) {
    if (newest == nullptr ||
        newest->descriptor.version < it->second.descriptor.version) {
      newest = &it->second;
    }
  }
  return newest;
}

absl::Status Mesh::UpdateDescriptor(ProductDescriptor descriptor) {
  auto it = products_.find(descriptor.id);
  if (it == products_.end() || !it->second.active) {
    return absl::NotFoundError(
        absl::StrCat("no active product ", descriptor.id));
  }
  Product& p = it->second;
  const ProductDescriptor& now = p.active->descriptor;
  if (descriptor.version != now.version) {
    return absl::FailedPreconditionError(absl::StrCat(
        "update ", descriptor.VersionedId(), ": the active version is ",
        now.version.ToString(), "; publish a table for a new version"));
  }
  if (descriptor.schema.size() == 0) {
    descriptor.schema = now.schema;
  } else if (!(descriptor.schema == now.schema)) {
    return absl::FailedPreconditionError(
        absl::StrCat("update ", descriptor.VersionedId(),
                     ": the schema of a published version cannot change"));
  }
  descriptor.upstream = now.upstream;
  DM_RETURN_IF_ERROR(ValidateDescriptor(descriptor));
  StoredProduct next{descriptor, p.active->edges, true};
  if (next == *p.active) return absl::OkStatus();
  if (options_.store != nullptr) {
    DM_RETURN_IF_ERROR(options_.store->PutProduct(next));
  }
  catalog_in_.Remove(now);
  catalog_in_.Insert(descriptor);
  versions_[descriptor.VersionedId()] = next;
  p.active = std::move(next);
  return absl::OkStatus();
}

absl::Status Mesh::Retire(const std::string& id) {
  auto it = products_.find(id);
  if (it == products_.end() || !it->second.active) {
    return absl::NotFoundError(absl::StrCat("no active product ", id));
  }
  Product& p = it->second;
  StoredProduct retired = *p.active;
  retired.active = false;
  if (options_.store != nullptr) {
    DM_RETURN_IF_ERROR(options_.store->PutProduct(retired));
  }
  catalog_in_.Remove(p.active->descriptor);
  for (const LineageEdge& e : p.active->edges) lineage_in_.Remove(e);
  versions_[retired.descriptor.VersionedId()] = retired;
  p.active.reset();
  return absl::OkStatus();
}

absl::StatusOr<RefreshReport> Mesh::Refresh() {
  RefreshReport report;
  report.time = time_;
  if (!started_) {
    DM_RETURN_IF_ERROR(Start(&report));
  } else {
    for (auto& [id, source] : sources_) {
      DM_RETURN_IF_ERROR(Feed(id, &source, &report));
    }
  }
  DM_RETURN_IF_ERROR(Advance());
  return report;
}

absl::Status Mesh::Advance() {
  if (!started_) {
    RefreshReport ignored;
    DM_RETURN_IF_ERROR(Start(&ignored));
  }
  const uint64_t next = time_ + 1;
  catalog_in_.AdvanceTo(next);
  lineage_in_.AdvanceTo(next);
  for (auto& [id, source] : sources_) {
    source.rows.AdvanceTo(next);
    source.quarantine.AdvanceTo(next);
  }
  const bool finished = worker_.StepWhile([&] {
    for (const auto& probe : probes_) {
      if (probe.LessThan(next)) return true;
    }
    return false;
  });
  if (!finished) {
    return absl::InternalError(
        absl::StrCat("the mesh's dataflows stalled at time ", time_));
  }
  for (auto& [id, p] : products_) {
    for (uint64_t t : p.changed_times) {
      // A time whose updates cancel out is not a new version.
      std::map<Row, int64_t> net;
      for (const auto& [row, time, diff] : p.history) {
        if (time == t) AddCount(&net, row, diff);
      }
      if (!net.empty()) p.versions.push_back({p.next_version++, t});
    }
    p.changed_times.clear();
    Compact(&p);
  }
  std::map<MeshChange, int64_t> net;
  for (MeshChange& c : pending_) {
    const int64_t diff = c.diff;
    c.diff = 0;
    AddCount(&net, c, diff);
  }
  pending_.clear();
  for (auto& [c, diff] : net) {
    MeshChange change = c;
    change.diff = diff;
    changes_.push_back(std::move(change));
  }
  time_ = next;
  if (options_.store != nullptr) {
    DM_RETURN_IF_ERROR(options_.store->PutNextTime(time_));
  }
  return absl::OkStatus();
}

void Mesh::Compact(Product* p) {
  const size_t keep = static_cast<size_t>(options_.retained_versions);
  if (p->versions.size() <= keep) return;
  p->versions.erase(p->versions.begin(), p->versions.end() - keep);
  const uint64_t since = p->versions.front().time;
  std::map<std::pair<Row, uint64_t>, int64_t> merged;
  for (auto& [row, time, diff] : p->history) {
    AddCount(&merged, {row, std::max(time, since)}, diff);
  }
  p->history.clear();
  for (auto& [key, diff] : merged) {
    p->history.emplace_back(key.first, key.second, diff);
  }
}

std::vector<Row> Mesh::Accumulate(const History& history, uint64_t upto) {
  std::map<Row, int64_t> net;
  for (const auto& [row, time, diff] : history) {
    if (time <= upto) AddCount(&net, row, diff);
  }
  std::vector<Row> rows;
  for (const auto& [row, n] : net) {
    for (int64_t i = 0; i < n; ++i) rows.push_back(row);
  }
  return rows;
}

std::vector<ProductDescriptor> Mesh::Catalog() const {
  std::vector<ProductDescriptor> out;
  for (const auto& [d, n] : catalog_) {
    if (n > 0) out.push_back(d);
  }
  return out;
}

absl::StatusOr<ProductDescriptor> Mesh::Descriptor(
    const std::string& id) const {
  auto it = products_.find(id);
  if (it == products_.end() || !it->second.active) {
    return absl::NotFoundError(absl::StrCat("no active product ", id));
  }
  return it->second.active->descriptor;
}

std::vector<std::string> Mesh::Search(const std::string& query) const {
  std::set<std::string> words;
  AddWords(query, &words);
  std::optional<std::set<std::string>> result;
  for (const std::string& word : words) {
    std::set<std::string> matches;
    for (auto it = search_.lower_bound(word);
         it != search_.end() && it->first.compare(0, word.size(), word) == 0;
         ++it) {
      for (const auto& [id, n] : it->second) matches.insert(id);
    }
    if (!result) {
      result = std::move(matches);
    } else {
      std::set<std::string> both;
      std::set_intersection(result->begin(), result->end(), matches.begin(),
                            matches.end(), std::inserter(both, both.end()));
      result = std::move(both);
    }
  }
  if (!result) return {};
  return {result->begin(), result->end()};
}

std::vector<LineageEdge> Mesh::Lineage() const {
  std::vector<LineageEdge> out;
  for (const auto& [e, n] : lineage_) {
    if (n > 0) out.push_back(e);
  }
  return out;
}

std::vector<ColumnRef> Mesh::Downstream(const ColumnRef& node) const {
  std::vector<ColumnRef> out;
  for (auto it = closure_.lower_bound({node, ColumnRef{}});
       it != closure_.end() && it->first.first == node; ++it) {
    out.push_back(it->first.second);
  }
  return out;
}

std::vector<ColumnRef> Mesh::Upstream(const ColumnRef& node) const {
  std::vector<ColumnRef> out;
  for (const auto& [pair, n] : closure_) {
    if (pair.second == node) out.push_back(pair.first);
  }
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<std::vector<Row>> Mesh::Read(const std::string& id) const {
  auto it = products_.find(id);
  if (it == products_.end() || !it->second.active) {
    return absl::NotFoundError(absl::StrCat("no active product ", id));
  }
  if (!it->second.captured) {
    return absl::FailedPreconditionError(
        absl::StrCat("product ", id,
                     " is in the catalog but not computed "
                     "in this run (declare it)"));
  }
  if (time_ == 0) return std::vector<Row>();
  return Accumulate(it->second.history, time_ - 1);
}

absl::StatusOr<std::vector<Row>> Mesh::ReadAsOf(const std::string& id,
                                                int data_version) const {
  auto it = products_.find(id);
  if (it == products_.end() || !it->second.captured) {
    return absl::NotFoundError(absl::StrCat("no data of product ", id));
  }
  const Product& p = it->second;
  for (const DataVersion& v : p.versions) {
    if (v.number == data_version) return Accumulate(p.history, v.time);
  }
  if (p.versions.empty()) {
    return absl::NotFoundError(
        absl::StrCat(id, " has no data version ", data_version, " (none yet)"));
  }
  return absl::NotFoundError(absl::StrCat(
      id, " has no retained data version ", data_version, " (retained: ",
      p.versions.front().number, " to ", p.versions.back().number, ")"));
}

std::vector<DataVersion> Mesh::DataVersions(const std::string& id) const {
  auto it = products_.find(id);
  if (it == products_.end()) return {};
  return it->second.versions;
}

std::vector<Row> Mesh::Quarantine(const std::string& id) const {
  auto it = products_.find(id);
  if (it == products_.end()) return {};
  return Accumulate(it->second.quarantine,
                    std::numeric_limits<uint64_t>::max());
}

int64_t Mesh::QuarantineCount(const std::string& id) const {
  return static_cast<int64_t>(Quarantine(id).size());
}

std::vector<MeshChange> Mesh::TakeChanges() {
  std::vector<MeshChange> out = std::move(changes_);
  changes_.clear();
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace diffmesh
