#include "catalog/timed_counts.h"

#include <algorithm>
#include <string>
#include <type_traits>

#include "catalog/descriptor.h"
#include "catalog/lineage.h"
#include "catalog/row.h"
#include "catalog/source.h"

namespace diffmesh {
namespace {

// Sorts `counts` by key, adds up equal keys and drops zeros.
template <class K>
void Consolidate(std::vector<std::pair<K, int64_t>>* counts) {
  if constexpr (std::is_same_v<K, Row>) {
    ConsolidateRowDiffs(counts);  // in parallel, by sort prefix
  } else {
    std::sort(counts->begin(), counts->end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    size_t out = 0;
    for (size_t i = 0; i < counts->size();) {
      size_t j = i;
      int64_t sum = 0;
      for (; j < counts->size() && (*counts)[j].first == (*counts)[i].first;
           ++j) {
        sum += (*counts)[j].second;
      }
      if (sum != 0) {
        if (out != i) (*counts)[out] = std::move((*counts)[i]);
        (*counts)[out].second = sum;
        ++out;
      }
      i = j;
    }
    counts->resize(out);
  }
}

}  // namespace

template <class K>
std::vector<std::pair<K, int64_t>> TimedCounts<K>::AsOf(uint64_t upto) const {
  std::vector<std::pair<K, int64_t>> out;
  if (settled_.size() == 1) out = settled_[0];
  const size_t sorted = out.size();
  if (settled_.size() > 1) {
    for (const auto& run : settled_)
      out.insert(out.end(), run.begin(), run.end());
  }
  for (const auto& chunk : recent_) {
    for (const auto& [key, time, diff] : chunk) {
      if (time <= upto) out.emplace_back(key, diff);
    }
  }
  if (out.size() > sorted) Consolidate(&out);
  return out;
}

template <class K>
void TimedCounts<K>::Settle(uint64_t upto, size_t after) {
  // Times arrive in order, so the marks_ at or before `upto` are a prefix
  // (a late one would only be counted_ late: the counts decide when to
  // fold, not what).
  for (; counted_ < marks_.size() && marks_[counted_].time <= upto;
       ++counted_) {
    old_count_ += marks_[counted_].count;
    old_net_ += marks_[counted_].net;
  }
  const size_t adds_up_to =
      static_cast<size_t>(old_net_ < 0 ? -old_net_ : old_net_);
  if (old_count_ == 0 || old_count_ < after || old_count_ <= 2 * adds_up_to) {
    return;
  }
  std::vector<std::vector<std::tuple<K, uint64_t, int64_t>>> later;
  std::vector<std::pair<K, int64_t>> run;
  for (auto& chunk : recent_) {
    for (auto& [key, time, diff] : chunk) {
      if (time <= upto) {
        run.emplace_back(std::move(key), diff);
      } else {
        if (later.empty() || later.back().size() == kChunk)
          later.emplace_back();
        later.back().emplace_back(std::move(key), time, diff);
      }
    }
    // Each chunk is freed once taken.
    std::vector<std::tuple<K, uint64_t, int64_t>>().swap(chunk);
  }
  recent_ = std::move(later);
  // The marks_ of what is left, counted_ afresh.
  marks_.clear();
  for (const auto& chunk : recent_) {
    for (const auto& [key, time, diff] : chunk) CountMark(time, diff);
  }
  counted_ = 0;
  old_count_ = 0;
  old_net_ = 0;
  Consolidate(&run);
  if (run.empty()) return;
  settled_.push_back(std::move(run));
  // Merges the newest run into the one before while it is at least half
  // its size, consolidating keys that meet.
  while (settled_.size() > 1 &&
         2 * settled_.back().size() >= settled_[settled_.size() - 2].size()) {
    std::vector<std::pair<K, int64_t>> newer = std::move(settled_.back());
    settled_.pop_back();
    std::vector<std::pair<K, int64_t>>& older = settled_.back();
    std::vector<std::pair<K, int64_t>> merged;
    merged.reserve(older.size() + newer.size());
    size_t i = 0, j = 0;
    while (i < older.size() || j < newer.size()) {
      if (j == newer.size() ||
          (i < older.size() && older[i].first < newer[j].first)) {
        merged.push_back(std::move(older[i++]));
      } else if (i == older.size() || newer[j].first < older[i].first) {
        merged.push_back(std::move(newer[j++]));
      } else {
        const int64_t sum = older[i].second + newer[j].second;
        if (sum != 0) merged.emplace_back(std::move(older[i].first), sum);
        ++i;
        ++j;
      }
    }
    older = std::move(merged);
    if (older.empty()) settled_.pop_back();
  }
}

// The record types the mesh captures.
template class TimedCounts<Row>;
template class TimedCounts<ProductDescriptor>;
template class TimedCounts<LineageEdge>;
template class TimedCounts<std::pair<std::string, std::string>>;
template class TimedCounts<std::pair<ColumnRef, ColumnRef>>;

}  // namespace diffmesh
