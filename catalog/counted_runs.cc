#include "catalog/counted_runs.h"

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

// The sum of two runs, zeros dropped.
template <class K>
std::vector<std::pair<K, int64_t>> Merge(
    const std::vector<std::pair<K, int64_t>>& older,
    const std::vector<std::pair<K, int64_t>>& newer) {
  std::vector<std::pair<K, int64_t>> merged;
  merged.reserve(older.size() + newer.size());
  size_t i = 0, j = 0;
  while (i < older.size() || j < newer.size()) {
    if (j == newer.size() ||
        (i < older.size() && older[i].first < newer[j].first)) {
      merged.push_back(older[i++]);
    } else if (i == older.size() || newer[j].first < older[i].first) {
      merged.push_back(newer[j++]);
    } else {
      const int64_t sum = older[i].second + newer[j].second;
      if (sum != 0) merged.emplace_back(older[i].first, sum);
      ++i;
      ++j;
    }
  }
  merged.shrink_to_fit();
  return merged;
}

}  // namespace

template <class K>
CountedRuns<K> CountedRuns<K>::With(RunPtr delta) const {
  CountedRuns out = *this;
  if (delta == nullptr || delta->empty()) return out;
  for (const auto& entry : *delta) out.total_ += entry.second;
  out.runs_.push_back(std::move(delta));
  // Merges the newest run into the one before while it is at least half
  // its size: the runs' sizes fall geometrically.
  while (out.runs_.size() > 1 && 2 * out.runs_.back()->size() >=
                                     out.runs_[out.runs_.size() - 2]->size()) {
    RunPtr newer = std::move(out.runs_.back());
    out.runs_.pop_back();
    auto merged = std::make_shared<const Run>(Merge(*out.runs_.back(), *newer));
    out.runs_.back() = std::move(merged);
    if (out.runs_.back()->empty()) out.runs_.pop_back();
  }
  return out;
}

template <class K>
size_t CountedRuns<K>::LowerBound(const Run& run, const K& key) {
  return std::lower_bound(
             run.begin(), run.end(), key,
             [](const auto& entry, const K& k) { return entry.first < k; }) -
         run.begin();
}

template <class K>
int64_t CountedRuns<K>::Count(const K& key) const {
  int64_t sum = 0;
  for (const RunPtr& run : runs_) {
    const size_t i = LowerBound(*run, key);
    if (i < run->size() && (*run)[i].first == key) sum += (*run)[i].second;
  }
  return sum;
}

template <class K>
size_t CountedRuns<K>::stored() const {
  size_t n = 0;
  for (const RunPtr& run : runs_) n += run->size();
  return n;
}

template <class K>
void TimedChanges<K>::Close(
    uint64_t upto,
    const std::function<void(uint64_t, typename CountedRuns<K>::RunPtr)>&
        on_time) {
  // The times to close, and how many changes each has (so a time's delta
  // is allocated once, at its size).
  std::vector<std::pair<uint64_t, size_t>> times;
  size_t last = 0;  // changes come in runs of one time: try the last first
  for (const auto& chunk : chunks_) {
    for (const auto& [key, time, diff] : chunk) {
      if (time > upto) continue;
      if (last < times.size() && times[last].first == time) {
        ++times[last].second;
        continue;
      }
      auto it = std::lower_bound(
          times.begin(), times.end(), time,
          [](const auto& entry, uint64_t t) { return entry.first < t; });
      if (it == times.end() || it->first != time) {
        it = times.insert(it, {time, 0});
      }
      ++it->second;
      last = static_cast<size_t>(it - times.begin());
    }
  }
  if (times.empty()) return;
  if (times.size() == 1) {
    // One time (the usual case): every chunk is taken and freed in turn.
    typename CountedRuns<K>::Run delta;
    delta.reserve(times[0].second);
    std::vector<std::vector<std::tuple<K, uint64_t, int64_t>>> later;
    for (auto& chunk : chunks_) {
      for (auto& [key, time, diff] : chunk) {
        if (time <= upto) {
          delta.emplace_back(std::move(key), diff);
        } else {
          if (later.empty() || later.back().size() == kChunk)
            later.emplace_back();
          later.back().emplace_back(std::move(key), time, diff);
        }
      }
      std::vector<std::tuple<K, uint64_t, int64_t>>().swap(chunk);
    }
    chunks_ = std::move(later);
    Consolidate(&delta);
    on_time(
        times[0].first,
        std::make_shared<const typename CountedRuns<K>::Run>(std::move(delta)));
    return;
  }
  // Several times (a restart's replay of logged batches): one pass each.
  for (const auto& [t, count] : times) {
    typename CountedRuns<K>::Run delta;
    delta.reserve(count);
    for (auto& chunk : chunks_) {
      for (auto& [key, time, diff] : chunk) {
        if (time == t) delta.emplace_back(key, diff);
      }
    }
    Consolidate(&delta);
    on_time(t, std::make_shared<const typename CountedRuns<K>::Run>(
                   std::move(delta)));
  }
  std::vector<std::vector<std::tuple<K, uint64_t, int64_t>>> later;
  for (auto& chunk : chunks_) {
    for (auto& change : chunk) {
      if (std::get<1>(change) > upto) {
        if (later.empty() || later.back().size() == kChunk)
          later.emplace_back();
        later.back().push_back(std::move(change));
      }
    }
  }
  chunks_ = std::move(later);
}

// The record types the mesh captures.
template class CountedRuns<Row>;
template class CountedRuns<ProductDescriptor>;
template class CountedRuns<LineageEdge>;
template class CountedRuns<std::pair<std::string, std::string>>;
template class CountedRuns<std::pair<ColumnRef, ColumnRef>>;
template class TimedChanges<Row>;
template class TimedChanges<ProductDescriptor>;
template class TimedChanges<LineageEdge>;
template class TimedChanges<std::pair<std::string, std::string>>;
template class TimedChanges<std::pair<ColumnRef, ColumnRef>>;

}  // namespace diffmesh
