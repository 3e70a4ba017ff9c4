#include "catalog/live_dataflows.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/graph.h"
#include "operators/inspect.h"

namespace diffmesh {

LiveDataflows::LiveDataflows(Worker& worker, Graph* products_graph,
                             SharedArrangements* shared, Hooks hooks)
    : worker_(worker),
      products_graph_(products_graph),
      shared_(shared),
      hooks_(std::move(hooks)) {}

LiveDataflows::~LiveDataflows() {
  for (auto& [id, p] : products_) p.taps->clear();
}

LiveDataflows::TapList LiveDataflows::Feeds(const std::string& id) {
  return products_[id].taps;
}

void LiveDataflows::Captured(const std::string& id, Graph* graph,
                             Probe<uint64_t> capture) {
  Product& p = products_[id];
  p.graph = graph;
  p.capture = std::move(capture);
}

RowCollection LiveDataflows::Use(const std::string& id, uint64_t time,
                                 std::function<void(InputHandle<Row>&)> load) {
  if (current_ == nullptr) {
    current_ = &worker_.NewDataflow(absl::StrCat("mesh.live.", ++made_));
    current_->set_start_time(time);
  }
  auto [input, rows] = NewInput<Row>(*current_);
  Tap& tap = taps_.emplace_back();
  tap.upstream = id;
  tap.input = std::move(input);
  tap.graph = current_;
  tap.input.AdvanceTo(time);
  tap.rows = rows;
  // The rows as of the last closed time (at StartTime); the capture feeds
  // the changes from `time` on.
  tap.load = std::move(load);
  products_[id].taps->push_back(&tap);
  return rows;
}

void LiveDataflows::MaybeStopProductOf(const std::string& id) {
  auto it = products_.find(id);
  if (it != products_.end()) MaybeStop(it->second.graph);
}

void LiveDataflows::MaybeStop(Graph* graph) {
  if (graph == nullptr || graph == products_graph_ || graph == current_ ||
      std::find(stopping_.begin(), stopping_.end(), graph) != stopping_.end()) {
    return;
  }
  for (const auto& [id, p] : products_) {
    if (p.graph == graph && hooks_.active(id)) return;
  }
  for (const auto& [n, feed] : feeds_) {
    if (feed.graph == graph && feed.fed != nullptr) return;  // gathered
  }
  for (const Tap& tap : taps_) {
    if (tap.graph != graph && !tap.input.closed() &&
        products_[tap.upstream].graph == graph) {
      return;  // another dataflow reads its products
    }
  }
  std::vector<Graph*> upstream;
  for (Tap& tap : taps_) {
    if (tap.graph != graph) continue;
    CloseTap(&tap);
    upstream.push_back(products_[tap.upstream].graph);
  }
  shared_->StopImports(graph);
  for (auto& [id, p] : products_) {
    if (p.graph != graph) continue;
    hooks_.stopped(id);
    p.graph = nullptr;
    p.taps->clear();
  }
  stopping_.push_back(graph);
  std::erase(running_, graph);
  // A retired product that only this dataflow read stops now too.
  for (Graph* g : upstream) MaybeStop(g);
}

void LiveDataflows::CloseTap(Tap* tap) {
  std::vector<Tap*>& feeding = *products_[tap->upstream].taps;
  feeding.erase(std::remove(feeding.begin(), feeding.end(), tap),
                feeding.end());
  tap->input.Close();
  tap->load = nullptr;
}

bool LiveDataflows::StartTime() {
  for (Graph* graph : std::vector<Graph*>(running_)) MaybeStop(graph);
  if (current_ == nullptr) return false;
  for (Tap& tap : taps_) {
    if (tap.graph != current_ || tap.load == nullptr) continue;
    if (tap.rows.stream.port->connected()) {
      tap.load(tap.input);
      tap.load = nullptr;
    } else {
      CloseTap(&tap);  // nothing reads it
    }
  }
  running_.push_back(current_);
  current_ = nullptr;
  return true;
}

bool LiveDataflows::AdvanceTaps(uint64_t next, int* advanced) {
  bool waiting = false;
  for (auto& [n, gather] : gathers_) {
    if (!(gather.input.time() < next)) continue;
    bool behind = false;
    for (const Feed* feed : gather.feeds) {
      behind = behind || feed->probe.LessThan(next);
    }
    if (behind) {
      waiting = true;
    } else {
      gather.input.AdvanceTo(next);
      if (advanced != nullptr) ++*advanced;
    }
  }
  for (Tap& tap : taps_) {
    if (tap.input.closed() || !(tap.input.time() < next)) continue;
    if (products_[tap.upstream].capture.LessThan(next)) {
      waiting = true;
    } else {
      tap.input.AdvanceTo(next);
      if (advanced != nullptr) ++*advanced;
    }
  }
  return waiting;
}

void LiveDataflows::DropStopped(std::vector<Probe<uint64_t>>* probes) {
  for (auto it = stopping_.begin(); it != stopping_.end();) {
    Graph* graph = *it;
    if (!graph->Complete()) {
      ++it;
      continue;
    }
    std::erase_if(*probes, [&](const Probe<uint64_t>& probe) {
      return probe.graph() == graph;
    });
    taps_.remove_if([&](const Tap& tap) { return tap.graph == graph; });
    shared_->Forget(graph);
    std::erase_if(feeds_,
                  [&](const auto& feed) { return feed.second.graph == graph; });
    worker_.DropDataflow(graph);
    it = stopping_.erase(it);
  }
}

int LiveDataflows::NewGather(InputHandle<Row> input) {
  const int n = ++gathers_made_;
  gathers_[n].input = std::move(input);
  return n;
}

int LiveDataflows::Gather(int gather, const RowCollection& rows) {
  const int n = ++feeds_made_;
  Feed& feed = feeds_[n];
  feed.graph = rows.graph();
  feed.into = &gathers_.at(gather);
  feed.fed = std::make_shared<std::map<Row, int64_t>>();
  // The gather is not past the times the table starts at: it waits for
  // the table's probe (AdvanceTaps).
  auto watched = InspectBatch(
      rows, [fed = std::weak_ptr<std::map<Row, int64_t>>(feed.fed),
             input = &feed.into->input](
                const std::vector<Update<Row, uint64_t, int64_t>>& batch) {
        std::shared_ptr<std::map<Row, int64_t>> held = fed.lock();
        if (held == nullptr) return;  // ungathered
        for (const auto& [row, t, r] : batch) {
          // A dataflow added at time T starts there (Graph::start_time);
          // were anything earlier, it is its state as of T.
          input->UpdateAt(row, std::max(t, input->time()), r);
          if (((*held)[row] += r) == 0) held->erase(row);
        }
      });
  feed.probe = ProbeFrontier(watched.stream);
  feed.into->feeds.push_back(&feed);
  return n;
}

bool LiveDataflows::Ungather(int n) {
  auto it = feeds_.find(n);
  if (it == feeds_.end() || it->second.fed == nullptr) return false;
  Feed& feed = it->second;
  GatherInput& gather = *feed.into;
  for (const auto& [row, count] : *feed.fed) gather.input.Update(row, -count);
  feed.fed.reset();
  std::erase(gather.feeds, &feed);
  MaybeStop(feed.graph);
  return true;
}

}  // namespace diffmesh
