#include "catalog/subscription.h"

#include <algorithm>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "catalog/stored_versions.h"
#include "engine/status_macros.h"

namespace diffmesh {

const char* MeshStreamName(MeshStream stream) {
  switch (stream) {
    case MeshStream::kProductRows:
      return "rows";
    case MeshStream::kQuarantine:
      return "quarantine";
    case MeshStream::kCatalog:
      return "catalog";
    case MeshStream::kLineage:
      return "lineage";
    case MeshStream::kSourceStatus:
      return "source";
  }
  return "?";
}

size_t MeshUpdate::size() const {
  size_t n = sources.size();
  for (const ProductDelta& p : products) {
    if (p.rows) n += p.rows->size();
    if (p.quarantine) n += p.quarantine->size();
  }
  if (catalog) n += catalog->size();
  if (lineage) n += lineage->size();
  return n;
}

bool Subscription::Wants(MeshStream stream, const std::string& id) const {
  if (watch_ && stream == MeshStream::kProductRows &&
      !watch_->access_product.empty() && id == watch_->access_product) {
    return true;  // followed for changes of the view, never given
  }
  if (!options_.id.empty() && id != options_.id) return false;
  if ((stream == MeshStream::kProductRows ||
       stream == MeshStream::kQuarantine) &&
      !options_.rows_of.empty() &&
      std::find(options_.rows_of.begin(), options_.rows_of.end(), id) ==
          options_.rows_of.end()) {
    return false;
  }
  return options_.streams.empty() ||
         std::find(options_.streams.begin(), options_.streams.end(), stream) !=
             options_.streams.end();
}

template <class Block, class Item>
void Subscription::ForEachWanted(const MeshUpdate& u, Block block,
                                 Item item) const {
  for (const MeshUpdate::ProductDelta& p : u.products) {
    if (p.rows && Wants(MeshStream::kProductRows, p.id))
      block(MeshStream::kProductRows, p.id, *p.rows);
  }
  for (const MeshUpdate::ProductDelta& p : u.products) {
    if (p.quarantine && Wants(MeshStream::kQuarantine, p.id))
      block(MeshStream::kQuarantine, p.id, *p.quarantine);
  }
  if (u.catalog) {
    for (const auto& [d, diff] : *u.catalog)
      if (Wants(MeshStream::kCatalog, d.id))
        item(MeshStream::kCatalog, d.id, diff, d);
  }
  if (u.lineage) {
    for (const auto& [e, diff] : *u.lineage)
      if (Wants(MeshStream::kLineage, e.to.product))
        item(MeshStream::kLineage, e.to.product, diff, e);
  }
  for (const auto& [s, diff] : u.sources)
    if (Wants(MeshStream::kSourceStatus, s.id))
      item(MeshStream::kSourceStatus, s.id, diff, s);
}

size_t Subscription::Count(const MeshUpdate& u) const {
  size_t n = 0;
  ForEachWanted(
      u,
      [&](MeshStream, const std::string&, const auto& run) { n += run.size(); },
      [&](MeshStream, const std::string&, int64_t, const auto&) { ++n; });
  return n;
}

MeshEvents Subscription::Events(const MeshUpdate& u) const {
  MeshEvents out;
  out.time = u.time;
  auto add = [&](MeshStream stream, const std::string& id, int64_t diff,
                 const auto& record) {
    out.events.push_back({u.time, stream, id, diff, record});
  };
  ForEachWanted(
      u,
      [&](MeshStream stream, const std::string& id, const auto& run) {
        for (const auto& [row, diff] : run) add(stream, id, diff, row);
      },
      add);
  return out;
}

absl::StatusOr<MeshEvents> Subscription::WatchedEvents(const MeshUpdate& u) {
  std::lock_guard<std::mutex> lock(watch_mu_);
  AccessWatch& w = *watch_;
  const std::string& id = w.product.id;
  auto changed = [&](const std::string& what) {
    return absl::AbortedError(absl::StrCat(
        what, " changed at time ", u.time, ": read ", id,
        " again (ReadAs) and subscribe from that snapshot's time + 1"));
  };
  if (u.catalog) {
    for (const auto& [d, diff] : *u.catalog) {
      if (d.id == id && diff > 0 && !SameColumns(d.schema, w.product.schema)) {
        return changed(absl::StrCat("the columns of ", id));
      }
    }
  }
  const Row prefix{Value(options_.principal), Value(id)};
  MeshEvents out;
  out.time = u.time;
  for (const MeshUpdate::ProductDelta& p : u.products) {
    if (!p.rows || w.access_product.empty() || p.id != w.access_product) {
      continue;
    }
    bool touched = false;
    std::map<Row, int64_t> entries;
    for (const Row& e : w.entries) ++entries[e];
    for (const auto& [row, diff] : *p.rows) {
      if (!absl::StartsWith(row.bytes(), prefix.bytes())) continue;
      touched = true;
      if ((entries[row] += diff) == 0) entries.erase(row);
    }
    if (!touched) continue;
    std::vector<Row> now;
    for (const auto& [e, n] : entries) {
      for (int64_t i = 0; i < n; ++i) now.push_back(e);
    }
    absl::StatusOr<ProductView> view =
        ViewFromEntries(now, options_.principal, w.product);
    if (!view.ok() || !(*view == w.view)) {
      return changed(
          absl::StrCat("the access of ", options_.principal, " to ", id));
    }
    w.entries = std::move(now);
  }
  for (const MeshUpdate::ProductDelta& p : u.products) {
    if (!p.rows || p.id != id) continue;
    std::map<Row, int64_t> seen;
    for (const auto& [row, diff] : *p.rows) seen[w.view.Project(row)] += diff;
    for (auto& [row, diff] : seen) {
      if (diff != 0) {
        out.events.push_back(
            {u.time, MeshStream::kProductRows, id, diff, std::move(row)});
      }
    }
  }
  return out;
}

absl::StatusOr<MeshEvents> Subscription::Next(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  auto ready = [&] {
    return !pending_.empty() || !fell_behind_.ok() || hub_closed_;
  };
  if (timeout > absl::ZeroDuration() && !ready()) {
    ready_.wait_for(lock, absl::ToChronoNanoseconds(timeout), ready);
  }
  if (!fell_behind_.ok()) return fell_behind_;
  if (pending_.empty()) {
    if (hub_closed_) {
      return absl::CancelledError("the mesh is closed; every event was taken");
    }
    return absl::DeadlineExceededError(absl::StrCat(
        "no events from time ", std::max(taken_next_, closed_next_), " yet"));
  }
  std::shared_ptr<const MeshUpdate> update = std::move(pending_.front().first);
  const size_t counted = pending_.front().second;
  pending_.pop_front();
  lock.unlock();
  // Built outside the lock: the publisher is not held up by a consumer.
  absl::StatusOr<MeshEvents> events =
      watch_ ? WatchedEvents(*update) : Events(*update);
  lock.lock();
  if (!events.ok()) {
    // The principal's view changed: nothing more from this subscription.
    if (fell_behind_.ok()) fell_behind_ = events.status();
    pending_.clear();
    pending_events_ = 0;
    return events.status();
  }
  pending_events_ -= std::min(pending_events_, counted);
  taken_next_ = std::max(taken_next_, update->time + 1);
  return events;
}

uint64_t Subscription::next_time() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_.empty() ? std::max(taken_next_, closed_next_) : taken_next_;
}

SubscriptionHub::~SubscriptionHub() { Close(); }

absl::StatusOr<std::shared_ptr<Subscription>> SubscriptionHub::Subscribe(
    SubscribeOptions options, std::optional<AccessWatch> watch) {
  if (options.max_pending_events == 0) {
    return absl::InvalidArgumentError(
        "a subscription needs max_pending_events >= 1");
  }
  if (!options.principal.empty() != watch.has_value()) {
    return absl::InvalidArgumentError(
        "a principal's subscription is made by a MeshReader (or the mesh)");
  }
  // Held while older changes are read from the store, so none is
  // published meanwhile (resumes from the store are rare and short).
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t next = any_closed_ ? closed_ + 1 : 0;
  const uint64_t from = options.from.value_or(next);
  std::vector<std::shared_ptr<const MeshUpdate>> older;
  if (dropped_ && from <= dropped_through_) {
    DM_ASSIGN_OR_RETURN(older, StoredUpdates(options, from));
  }
  std::shared_ptr<Subscription> sub(
      new Subscription(std::move(options), from, std::move(watch)));
  for (const auto& update : older) Deliver(*sub, update);
  for (const auto& update : log_) {
    if (update->time >= from) Deliver(*sub, update);
  }
  {
    std::lock_guard<std::mutex> sub_lock(sub->mu_);
    sub->closed_next_ = std::max(sub->closed_next_, next);
  }
  if (closed_hub_) {
    std::lock_guard<std::mutex> sub_lock(sub->mu_);
    sub->hub_closed_ = true;
  }
  subs_.push_back(sub);
  return sub;
}

void SubscriptionHub::Deliver(Subscription& sub,
                              const std::shared_ptr<const MeshUpdate>& update) {
  const size_t n = sub.Count(*update);
  std::lock_guard<std::mutex> lock(sub.mu_);
  sub.closed_next_ = std::max(sub.closed_next_, update->time + 1);
  // A subscription from a time yet to come skips the times before it.
  if (n == 0 || !sub.fell_behind_.ok() || update->time < sub.from_) return;
  if (sub.pending_events_ + n > sub.options_.max_pending_events) {
    sub.fell_behind_ = absl::ResourceExhaustedError(absl::StrCat(
        "the subscription fell behind at time ", update->time, ": more than ",
        sub.options_.max_pending_events,
        " events waiting; subscribe again from time ", sub.taken_next_,
        " (while the mesh holds it) or from a snapshot's time + 1"));
    sub.pending_.clear();
    sub.pending_events_ = 0;
  } else {
    sub.pending_.emplace_back(update, n);
    sub.pending_events_ += n;
  }
  sub.ready_.notify_all();
}

void SubscriptionHub::Publish(std::shared_ptr<const MeshUpdate> update) {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = update->time;
  any_closed_ = true;
  size_t live = 0;
  for (size_t i = 0; i < subs_.size(); ++i) {
    if (std::shared_ptr<Subscription> sub = subs_[i].lock()) {
      Deliver(*sub, update);
      if (live != i) subs_[live] = std::move(subs_[i]);
      ++live;
    }
  }
  subs_.resize(live);
  const size_t n = update->size();
  if (n == 0) return;
  log_.push_back(std::move(update));
  logged_events_ += n;
  // The newest time stays whatever its size, so a resume from just before
  // it is served.
  while (log_.size() > 1 && logged_events_ > log_events_) {
    logged_events_ -= log_.front()->size();
    dropped_through_ = log_.front()->time;
    dropped_ = true;
    log_.pop_front();
  }
}

void SubscriptionHub::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_hub_ = true;
  for (auto& weak : subs_) {
    if (std::shared_ptr<Subscription> sub = weak.lock()) {
      std::lock_guard<std::mutex> sub_lock(sub->mu_);
      sub->hub_closed_ = true;
      sub->ready_.notify_all();
    }
  }
}

absl::StatusOr<std::vector<std::shared_ptr<const MeshUpdate>>>
SubscriptionHub::StoredUpdates(const SubscribeOptions& options,
                               uint64_t from) const {
  const std::string held = absl::StrCat("changes from time ", from,
                                        " are no longer held (held: from time ",
                                        dropped_through_ + 1, ")");
  const std::string retry = "; read a snapshot and subscribe from its time + 1";
  std::vector<std::string> products = options.rows_of;
  if (!options.id.empty()) products = {options.id};
  const bool rows_alone = options.streams.size() == 1 &&
                          options.streams[0] == MeshStream::kProductRows &&
                          !products.empty() && options.principal.empty();
  if (stored_ == nullptr || !rows_alone) {
    return absl::OutOfRangeError(absl::StrCat(
        held,
        stored_ == nullptr
            ? ""
            : " and only the rows of named products are kept in the store",
        retry));
  }
  if (stored_through_ < dropped_through_) {
    return absl::OutOfRangeError(absl::StrCat(
        held, " and the store holds them up to time ", stored_through_, retry));
  }
  std::map<uint64_t, MeshUpdate> updates;
  std::sort(products.begin(), products.end());
  products.erase(std::unique(products.begin(), products.end()), products.end());
  for (const std::string& id : products) {
    absl::StatusOr<std::vector<SourceBatch>> changes =
        stored_->Changes(id, from, dropped_through_);
    if (!changes.ok()) {
      return absl::Status(
          changes.status().code(),
          absl::StrCat(held, "; ", changes.status().message(), retry));
    }
    for (SourceBatch& batch : *changes) {
      MeshUpdate& u = updates[batch.time];
      u.time = batch.time;
      u.products.push_back({id,
                            std::make_shared<const CountedRuns<Row>::Run>(
                                std::move(batch.updates)),
                            nullptr});
    }
  }
  std::vector<std::shared_ptr<const MeshUpdate>> out;
  for (auto& [time, update] : updates) {
    out.push_back(std::make_shared<const MeshUpdate>(std::move(update)));
  }
  return out;
}

void SubscriptionHub::Stored(std::shared_ptr<const StoredVersions> stored,
                             uint64_t through) {
  std::lock_guard<std::mutex> lock(mu_);
  stored_ = std::move(stored);
  stored_through_ = through;
}

void SubscriptionHub::ForgetBefore(uint64_t time) {
  if (time == 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (!dropped_ || dropped_through_ < time - 1) {
    dropped_ = true;
    dropped_through_ = time - 1;
  }
}

size_t SubscriptionHub::subscribers() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& weak : subs_) n += weak.expired() ? 0 : 1;
  return n;
}

}  // namespace diffmesh
