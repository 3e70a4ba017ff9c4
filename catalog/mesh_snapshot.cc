#include "catalog/mesh_snapshot.h"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "catalog/stored_versions.h"
#include "engine/status_macros.h"

namespace diffmesh {

void AddSearchWords(const std::string& text, std::set<std::string>* out) {
  std::string word;
  auto flush = [&] {
    if (!word.empty()) out->insert(word);
    word.clear();
  };
  for (char c : text) {
    // Bytes of multi-byte UTF-8 characters are parts of words too.
    if (std::isalnum(static_cast<unsigned char>(c)) ||
        static_cast<unsigned char>(c) >= 0x80) {
      word.push_back(absl::ascii_tolower(c));
    } else {
      flush();
    }
  }
  flush();
}

std::vector<Row> ExpandRows(const CountedRuns<Row>& rows) {
  std::vector<Row> out;
  out.reserve(rows.stored());
  rows.ForEach([&](const Row& row, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out.push_back(row);
  });
  return out;
}

absl::Status MeshSnapshot::NotComputed(const std::string& id) const {
  return absl::NotFoundError(absl::StrCat("no rows of product ", id,
                                          " as of time ", parts_.time,
                                          " (not computed in this run)"));
}

void RoundStats::Add(double seconds) {
  size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  ++counts[i];
  ++count;
  sum_seconds += seconds;
}

std::vector<SourceStatus> MeshSnapshot::SourceStatuses() const {
  std::vector<SourceStatus> out;
  if (parts_.sources == nullptr) return out;
  for (const auto& [id, status] : *parts_.sources) out.push_back(status);
  return out;
}

std::optional<SourceStatus> MeshSnapshot::SourceStatusOf(
    const std::string& id) const {
  if (parts_.sources == nullptr) return std::nullopt;
  auto it = parts_.sources->find(id);
  if (it == parts_.sources->end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<std::pair<int64_t, int64_t>> MeshSnapshot::RowCounts(
    const std::string& id) const {
  DM_ASSIGN_OR_RETURN(const ProductRows* p, KeptRows(id));
  return std::pair<int64_t, int64_t>(p->rows.total(), p->quarantine.total());
}

absl::StatusOr<const ProductRows*> MeshSnapshot::KeptRows(
    const std::string& id) const {
  const ProductRows* p = Find(id);
  if (p == nullptr) return NotComputed(id);
  if (!p->rows_kept) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the rows of ", id,
        " are not kept by the mesh (a source opened with keep_rows = "
        "false): read the products built on it"));
  }
  return p;
}

const ProductRows* MeshSnapshot::Find(const std::string& id) const {
  if (parts_.products == nullptr) return nullptr;
  auto it = parts_.products->find(id);
  return it == parts_.products->end() ? nullptr : it->second.get();
}

std::vector<ProductDescriptor> MeshSnapshot::Catalog() const {
  std::vector<ProductDescriptor> out;
  parts_.catalog.ForEach([&](const ProductDescriptor& d, int64_t n) {
    if (n > 0) out.push_back(d);
  });
  return out;
}

absl::StatusOr<ProductDescriptor> MeshSnapshot::Descriptor(
    const std::string& id) const {
  ProductDescriptor start;
  start.id = id;
  start.version = {0, 0};  // sorts before every descriptor of `id`
  std::optional<ProductDescriptor> found;
  parts_.catalog.ForEachFrom(
      &start, [&](const ProductDescriptor& d) { return d.id == id; },
      [&](const ProductDescriptor& d, int64_t n) {
        if (n > 0) found = d;
      });
  if (!found) {
    return absl::NotFoundError(absl::StrCat(
        "no product ", id, " in the catalog as of time ", parts_.time));
  }
  return *found;
}

std::vector<std::string> MeshSnapshot::Search(const std::string& query) const {
  std::set<std::string> words;
  AddSearchWords(query, &words);
  std::optional<std::set<std::string>> result;
  for (const std::string& word : words) {
    std::set<std::string> matches;
    const std::pair<std::string, std::string> start(word, "");
    parts_.search.ForEachFrom(
        &start,
        [&](const std::pair<std::string, std::string>& entry) {
          return absl::StartsWith(entry.first, word);
        },
        [&](const std::pair<std::string, std::string>& entry, int64_t n) {
          if (n > 0) matches.insert(entry.second);
        });
    if (!result) {
      result = std::move(matches);
    } else {
      std::set<std::string> both;
      std::set_intersection(result->begin(), result->end(), matches.begin(),
                            matches.end(), std::inserter(both, both.end()));
      result = std::move(both);
    }
    if (result->empty()) break;
  }
  if (!result) return {};
  return {result->begin(), result->end()};
}

std::vector<LineageEdge> MeshSnapshot::Lineage() const {
  std::vector<LineageEdge> out;
  parts_.lineage.ForEach([&](const LineageEdge& e, int64_t n) {
    if (n > 0) out.push_back(e);
  });
  return out;
}

namespace {

// The nodes paired with `node` in a closure keyed by its first member.
std::vector<ColumnRef> Reachable(
    const CountedRuns<std::pair<ColumnRef, ColumnRef>>& pairs,
    const ColumnRef& node) {
  std::vector<ColumnRef> out;
  const std::pair<ColumnRef, ColumnRef> start(node, ColumnRef{});
  pairs.ForEachFrom(
      &start,
      [&](const std::pair<ColumnRef, ColumnRef>& p) { return p.first == node; },
      [&](const std::pair<ColumnRef, ColumnRef>& p, int64_t n) {
        if (n > 0) out.push_back(p.second);
      });
  return out;
}

}  // namespace

std::vector<ColumnRef> MeshSnapshot::Downstream(const ColumnRef& node) const {
  return Reachable(parts_.closure, node);
}

std::vector<ColumnRef> MeshSnapshot::Upstream(const ColumnRef& node) const {
  return Reachable(parts_.reverse, node);
}

absl::StatusOr<std::vector<Row>> MeshSnapshot::Read(
    const std::string& id) const {
  DM_ASSIGN_OR_RETURN(const ProductRows* p, KeptRows(id));
  return ExpandRows(p->rows);
}

absl::StatusOr<std::vector<Row>> MeshSnapshot::ReadPrefix(
    const std::string& id, const Row& prefix) const {
  DM_ASSIGN_OR_RETURN(const ProductRows* p, KeptRows(id));
  // Rows sort column by column and a prefix first, so the rows that start
  // with `prefix`'s values follow it, together; their bytes start with its
  // bytes (the encoding is canonical and self-delimiting).
  std::vector<Row> out;
  p->rows.ForEachFrom(
      &prefix,
      [&](const Row& row) {
        return absl::StartsWith(row.bytes(), prefix.bytes());
      },
      [&](const Row& row, int64_t n) {
        for (int64_t i = 0; i < n; ++i) out.push_back(row);
      });
  return out;
}

absl::StatusOr<int64_t> MeshSnapshot::Count(const std::string& id,
                                            const Row& row) const {
  DM_ASSIGN_OR_RETURN(const ProductRows* p, KeptRows(id));
  return p->rows.Count(row);
}

absl::StatusOr<std::vector<Row>> MeshSnapshot::ReadAsOf(
    const std::string& id, int data_version) const {
  const ProductRows* p = Find(id);
  if (p == nullptr) {
    return absl::NotFoundError(absl::StrCat("no data of product ", id));
  }
  DM_RETURN_IF_ERROR(KeptRows(id).status());
  for (size_t i = 0; i < p->versions.size(); ++i) {
    const auto& [v, rows] = p->versions[i];
    if (v.number != data_version) continue;
    if (i >= p->stored_only) return ExpandRows(rows);
    if (parts_.stored == nullptr) {
      return absl::InternalError(absl::StrCat(
          id, "'s data version ", data_version, " is kept in no store"));
    }
    return parts_.stored->RowsAsOf(id, v.time);
  }
  if (p->versions.empty()) {
    return absl::NotFoundError(
        absl::StrCat(id, " has no data version ", data_version, " (none yet)"));
  }
  return absl::NotFoundError(
      absl::StrCat(id, " has no retained data version ", data_version,
                   " (retained: ", p->versions.front().first.number, " to ",
                   p->versions.back().first.number, ")"));
}

absl::StatusOr<ProductView> MeshSnapshot::ViewFor(const std::string& principal,
                                                  const std::string& id) const {
  DM_ASSIGN_OR_RETURN(ProductDescriptor descriptor, Descriptor(id));
  if (parts_.access_product.empty()) {
    ProductView all;
    all.columns.assign(descriptor.schema.size(), ColumnVisibility::kShown);
    all.schema = descriptor.schema;
    return all;
  }
  const ProductRows* access = Find(parts_.access_product);
  if (access == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("the access product ", parts_.access_product,
                     " has no rows as of time ", parts_.time));
  }
  return ViewFromEntries(AccessEntries(access->rows, principal, id), principal,
                         descriptor);
}

absl::StatusOr<MeshSnapshot::VisibleRows> MeshSnapshot::ReadAs(
    const std::string& principal, const std::string& id,
    int data_version) const {
  DM_ASSIGN_OR_RETURN(ProductView view, ViewFor(principal, id));
  std::vector<Row> rows;
  if (data_version > 0) {
    DM_ASSIGN_OR_RETURN(rows, ReadAsOf(id, data_version));
  } else {
    DM_ASSIGN_OR_RETURN(rows, Read(id));
  }
  VisibleRows out{view.schema, {}};
  if (view.shows_all()) {
    out.rows = std::move(rows);
    return out;
  }
  out.rows.reserve(rows.size());
  for (const Row& row : rows) out.rows.push_back(view.Project(row));
  std::sort(out.rows.begin(), out.rows.end());
  return out;
}

std::vector<DataVersion> MeshSnapshot::DataVersions(
    const std::string& id) const {
  std::vector<DataVersion> out;
  if (const ProductRows* p = Find(id)) {
    for (const auto& [v, rows] : p->versions) out.push_back(v);
  }
  return out;
}

std::vector<Row> MeshSnapshot::Quarantine(const std::string& id) const {
  const ProductRows* p = Find(id);
  if (p == nullptr) return {};
  return ExpandRows(p->quarantine);
}

}  // namespace diffmesh
