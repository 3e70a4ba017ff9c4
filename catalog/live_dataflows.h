// LiveDataflows: the dataflows a mesh adds while it runs (Mesh::Use after
// the first Advance), and their stopping.
//
// A time in which products are used gets one new dataflow ("mesh.live.N");
// each product used there is a tap: an input of that dataflow, loaded with
// the product's rows as of the last closed time and from then on fed the
// product's changes, at their own times, by the product's capture. A tap
// advances to a time once the capture has passed it (AdvanceTaps), so the
// new dataflow never runs ahead of what it reads. A tap is loaded when its
// dataflow starts, and only if something reads it: a table that only joins
// the product imports the running arrangement instead
// (catalog/shared_arrangements.h), and its tap closes unread.
//
// A dataflow stops once every product it computes is retired and no other
// dataflow reads them: its taps close, each of its products is handed to
// the `stopped` hook (the mesh takes its rows out of the history), a
// retired upstream product that only it read stops too, and the dataflow is
// freed once complete (DropStopped). Every worker makes the same calls, so
// every worker adds and stops the same dataflows.
//
// Gathers go the other way: an input of the products' dataflow (made
// before it runs) fed with tables of dataflows added while running, at the
// same engine times. A gather advances to a time once every table feeding
// it has passed it (AdvanceTaps); a fed table keeps its dataflow running
// until it is ungathered, which takes its rows out again.
//
// Thread-safety: one worker's thread; the captures' callbacks (same
// thread) read the tap lists.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "catalog/row.h"
#include "catalog/shared_arrangements.h"
#include "catalog/table.h"
#include "engine/collection.h"
#include "engine/input.h"
#include "engine/probe.h"

namespace diffmesh {

class Graph;
class Worker;

class LiveDataflows {
 public:
  struct Tap {
    std::string upstream;
    InputHandle<Row> input;
    Graph* graph = nullptr;  // the dataflow it feeds
    RowCollection rows;      // what it feeds there
    // Puts the product's rows as of the last closed time in, when the
    // dataflow starts; null once done.
    std::function<void(InputHandle<Row>&)> load;
  };
  // The taps a product's capture feeds; shared with the capture's callback.
  using TapList = std::shared_ptr<std::vector<Tap*>>;
  struct Hooks {
    // Whether product `id` is active.
    std::function<bool(const std::string&)> active;
    // Product `id`, computed by a dataflow that stops now, leaves.
    std::function<void(const std::string&)> stopped;
  };

  // `shared` (the arrangements tables share; it outlives this) is told
  // when a dataflow stops and when it is freed.
  LiveDataflows(Worker& worker, Graph* products_graph,
                SharedArrangements* shared, Hooks hooks);
  // The captures outlive this (inside the worker); the taps do not.
  ~LiveDataflows();
  LiveDataflows(const LiveDataflows&) = delete;
  LiveDataflows& operator=(const LiveDataflows&) = delete;

  // The taps product `id`'s capture is to feed.
  TapList Feeds(const std::string& id);
  // Product `id` is computed in `graph`; `capture` is its capture's
  // frontier.
  void Captured(const std::string& id, Graph* graph, Probe<uint64_t> capture);
  // This time's new dataflow, or null when nothing was used yet this time.
  Graph* current() const { return current_; }
  // A tap on product `id` in this time's new dataflow (made now if
  // needed), at `time`; `load` puts the product's current rows in it when
  // the dataflow starts, if something reads them.
  RowCollection Use(const std::string& id, uint64_t time,
                    std::function<void(InputHandle<Row>&)> load);
  // Stops the dataflow computing product `id` if it can (see above).
  void MaybeStopProductOf(const std::string& id);
  // At an Advance, before it steps: a dataflow whose products were all
  // retired in the time it was added stops; this time's new dataflow
  // starts (it takes no more operators). Returns whether one started.
  bool StartTime();
  // Advances to `next` every tap whose product's capture has passed it
  // (counted in *advanced); returns whether some tap still waits.
  bool AdvanceTaps(uint64_t next, int* advanced = nullptr);
  // Frees the stopped dataflows that completed, and their probes in
  // `*probes`.
  void DropStopped(std::vector<Probe<uint64_t>>* probes);

  // A gather of the products' dataflow: `input` (at the mesh's time) is
  // fed from now on. Returns its number.
  int NewGather(InputHandle<Row> input);
  // Feeds `rows` (of this time's new dataflow, not started yet) into
  // gather `gather`, from the time they start at. Returns the feed's
  // number. REQUIRES: `gather` was made, current() is `rows`' graph.
  int Gather(int gather, const RowCollection& rows);
  // Takes feed `feed`'s rows out of its gather at the gather's time, and
  // lets its dataflow stop. Whether there was such a feed.
  bool Ungather(int feed);
  bool has_gather(int gather) const { return gathers_.count(gather) > 0; }

 private:
  struct Product {
    Graph* graph = nullptr;  // where its rows are computed
    Probe<uint64_t> capture;
    TapList taps = std::make_shared<std::vector<Tap*>>();
  };
  void MaybeStop(Graph* graph);
  // No longer fed nor loaded.
  void CloseTap(Tap* tap);
  struct Feed;
  struct GatherInput {
    InputHandle<Row> input;
    std::vector<Feed*> feeds;  // the active ones
  };
  struct Feed {
    Graph* graph = nullptr;
    GatherInput* into = nullptr;
    Probe<uint64_t> probe;
    // The rows it fed (Row -> count), to take out; null once ungathered
    // (the dataflow may still pass updates: they are dropped).
    std::shared_ptr<std::map<Row, int64_t>> fed;
  };

  Worker& worker_;
  Graph* products_graph_;
  SharedArrangements* shared_;
  Hooks hooks_;
  std::map<std::string, Product> products_;
  std::list<Tap> taps_;       // stable addresses, for the captures
  Graph* current_ = nullptr;  // this time's new dataflow, if any
  int made_ = 0;
  // Added while running, have run, not stopped yet.
  std::vector<Graph*> running_;
  // Stopped: no longer fed, freed once complete.
  std::vector<Graph*> stopping_;
  std::map<int, GatherInput> gathers_;
  std::map<int, Feed> feeds_;
  int gathers_made_ = 0;
  int feeds_made_ = 0;
};

}  // namespace diffmesh
