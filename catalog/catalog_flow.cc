#include "catalog/catalog_flow.h"

#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "catalog/mesh_history.h"
#include "catalog/mesh_snapshot.h"
#include "catalog/process_replicas.h"
#include "engine/graph.h"
#include "operators/distinct.h"
#include "operators/flat_map.h"
#include "operators/inspect.h"
#include "operators/map.h"
#include "operators/transitive_closure.h"

namespace diffmesh {
namespace {

std::set<std::string> SearchTokens(const ProductDescriptor& d) {
  std::set<std::string> tokens;
  tokens.insert(absl::AsciiStrToLower(d.id));
  AddSearchWords(d.id, &tokens);
  AddSearchWords(d.description, &tokens);
  for (const std::string& tag : d.tags) {
    tokens.insert(absl::AsciiStrToLower(tag));
    AddSearchWords(tag, &tokens);
  }
  for (const Field& f : d.schema.fields()) {
    tokens.insert(absl::AsciiStrToLower(f.name));
    AddSearchWords(f.name, &tokens);
  }
  return tokens;
}

}  // namespace

CatalogFlow::CatalogFlow(Graph& g, Graph& products, bool feeds, std::mutex* mu,
                         MeshHistory* history, std::shared_ptr<const void> keep)
    : feeds_(feeds) {
  auto [metadata_descriptors, descriptors] =
      NewInput<ProductDescriptor>(products);
  auto [metadata_edges, lineage] = NewInput<LineageEdge>(products);
  metadata_descriptors_ = std::move(metadata_descriptors);
  metadata_edges_ = std::move(metadata_edges);
  metadata_ = {descriptors, lineage};
  // Each output's changes go to the history under the lock.
  auto into_history = [mu, history, keep](auto add) {
    return [mu, history, keep, add](const auto& record, uint64_t t, int64_t r) {
      std::lock_guard<std::mutex> lock(*mu);
      add(*history, record, t, r);
    };
  };
  auto [descriptors_in, catalog] = NewInput<ProductDescriptor>(g);
  descriptors_ = std::move(descriptors_in);
  auto watched_catalog = Inspect(
      ToEveryProcess(catalog),
      into_history([](MeshHistory& h, const ProductDescriptor& d, uint64_t t,
                      int64_t r) { h.AddDescriptor(d, t, r); }));
  probes_.push_back(ProbeStream(watched_catalog.stream));

  auto tokens = Distinct(FlatMap(catalog, [](const ProductDescriptor& d) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const std::string& token : SearchTokens(d)) {
      out.emplace_back(token, d.id);
    }
    return out;
  }));
  auto watched_tokens = Inspect(
      ToEveryProcess(tokens),
      into_history([](MeshHistory& h,
                      const std::pair<std::string, std::string>& token,
                      uint64_t t, int64_t r) { h.AddToken(token, t, r); }));
  probes_.push_back(ProbeStream(watched_tokens.stream));

  auto [edges_in, edges] = NewInput<LineageEdge>(g);
  edges_ = std::move(edges_in);
  auto watched_edges =
      Inspect(ToEveryProcess(edges),
              into_history([](MeshHistory& h, const LineageEdge& e, uint64_t t,
                              int64_t r) { h.AddEdge(e, t, r); }));
  probes_.push_back(ProbeStream(watched_edges.stream));

  auto pairs = Map(edges, [](const LineageEdge& e) {
    return std::pair<ColumnRef, ColumnRef>(e.from, e.to);
  });
  auto closure = Inspect(
      ToEveryProcess(TransitiveClosure(pairs)),
      into_history([](MeshHistory& h,
                      const std::pair<ColumnRef, ColumnRef>& reach, uint64_t t,
                      int64_t r) { h.AddReach(reach, t, r); }));
  probes_.push_back(ProbeStream(closure.stream));
}

void CatalogFlow::Insert(const ProductDescriptor& descriptor,
                         const std::vector<LineageEdge>& edges) {
  if (!feeds_) return;
  descriptors_.Insert(descriptor);
  metadata_descriptors_.Insert(descriptor);
  AddEdges(edges);
}

void CatalogFlow::Remove(const ProductDescriptor& descriptor,
                         const std::vector<LineageEdge>& edges) {
  if (!feeds_) return;
  descriptors_.Remove(descriptor);
  metadata_descriptors_.Remove(descriptor);
  for (const LineageEdge& e : edges) {
    edges_.Remove(e);
    metadata_edges_.Remove(e);
  }
}

void CatalogFlow::Replace(const ProductDescriptor& before,
                          const ProductDescriptor& after) {
  if (!feeds_) return;
  for (InputHandle<ProductDescriptor>* in :
       {&descriptors_, &metadata_descriptors_}) {
    in->Remove(before);
    in->Insert(after);
  }
}

void CatalogFlow::AddEdges(const std::vector<LineageEdge>& edges) {
  if (!feeds_) return;
  for (const LineageEdge& e : edges) {
    edges_.Insert(e);
    metadata_edges_.Insert(e);
  }
}

void CatalogFlow::RemoveEdges(const std::vector<LineageEdge>& edges) {
  if (!feeds_) return;
  for (const LineageEdge& e : edges) {
    edges_.Remove(e);
    metadata_edges_.Remove(e);
  }
}

void CatalogFlow::AdvanceTo(uint64_t time) {
  descriptors_.AdvanceTo(time);
  edges_.AdvanceTo(time);
  metadata_descriptors_.AdvanceTo(time);
  metadata_edges_.AdvanceTo(time);
}

bool CatalogFlow::Behind(uint64_t time) const {
  for (const Probe<uint64_t>& probe : probes_) {
    if (probe.LessThan(time)) return true;
  }
  return false;
}

}  // namespace diffmesh
