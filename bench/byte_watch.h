// Where a worker's bytes are at its heaviest: samples the worker's held
// bytes by part (engine/held_bytes.h) beside the allocator's own counts, keeps
// the sample taken when the heap had the most bytes in use, and prints it as
// a table of MiB and bytes per held update.
//
//   ByteWatch watch(worker);
//   watch.Sample("load");          // as often as the peak may move
//   watch.Print(stdout);           // the heaviest sample
//   watch.PrintNow(stdout, "end"); // as things are now
//
// Thread compatibility: one per worker, on its thread. The allocator's
// counts are the whole process's (glibc's mallinfo2).
#pragma once

#include <malloc.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "engine/graph.h"
#include "engine/held_bytes.h"

namespace diffmesh::bench {

class ByteWatch {
 public:
  explicit ByteWatch(const Worker& worker) : worker_(worker) {}

  void Sample(const char* where) {
    ++samples_;
    Peak now = Take(where);
    if (now.in_use >= peak_.in_use) peak_ = now;
  }

  void Print(std::FILE* out) const {
    std::fprintf(out, "bytes at the heap's peak (%s, sample %zu of %zu):",
                 peak_.where.c_str(), peak_.sample, samples_);
    Table(out, peak_);
  }
  void PrintNow(std::FILE* out, const char* where) {
    std::fprintf(out, "bytes %s:", where);
    Table(out, Take(where));
  }

 private:
  struct Peak {
    HeldByteParts parts;
    size_t in_use = 0;
    size_t heap_free = 0;
    size_t resident = 0;
    std::string where = "none";
    size_t sample = 0;
  };

  Peak Take(const char* where) const {
    const struct mallinfo2 info = ::mallinfo2();
    Peak p;
    worker_.AddHeldBytes(&p.parts);
    p.in_use = info.uordblks + info.hblkhd;
    p.heap_free = info.fordblks;
    p.resident = Resident();
    p.where = where;
    p.sample = samples_;
    return p;
  }

  // MiB per part, and bytes per update held in sealed batches.
  static void Table(std::FILE* out, const Peak& at) {
    const HeldByteParts& h = at.parts;
    std::fprintf(out, " %zu updates held in %zu batches\n", h.updates,
                 h.batches);
    auto row = [&](const char* name, size_t bytes) {
      std::fprintf(out, "  %-34s %9.1f MiB", name,
                   static_cast<double>(bytes) / (1 << 20));
      if (h.updates > 0) {
        std::fprintf(
            out, " %8.2f B/update",
            static_cast<double>(bytes) / static_cast<double>(h.updates));
      }
      std::fprintf(out, "\n");
    };
    row("keys", h.keys);
    row("values", h.vals);
    row("key offsets", h.key_offsets);
    row("value offsets", h.val_offsets);
    row("times (plain)", h.times);
    row("diffs (plain)", h.diffs);
    row("(time, diff) codes", h.codes);
    row("(time, diff) dictionaries", h.dict);
    row("= sealed batches", h.InBatches());
    row("merges in progress (outputs)", h.merging);
    row("batches pinned for readers", h.pinned);
    row("batchers (not yet sealed)", h.batching);
    row("messages waiting at inputs", h.queued);
    row("other operator state", h.other);
    row("= counted", h.Total());
    const size_t uncounted = at.in_use > h.Total() ? at.in_use - h.Total() : 0;
    row("heap in use, not counted above", uncounted);
    row("heap free, kept by the allocator", at.heap_free);
    row("= heap", at.in_use + at.heap_free);
    row("resident at the sample", at.resident);
  }

  static size_t Resident() {
    std::FILE* f = std::fopen("/proc/self/statm", "r");
    if (f == nullptr) return 0;
    unsigned long long total = 0, resident = 0;
    const int n = std::fscanf(f, "%llu %llu", &total, &resident);
    std::fclose(f);
    return n == 2 ? resident * static_cast<size_t>(::sysconf(_SC_PAGESIZE)) : 0;
  }

  const Worker& worker_;
  Peak peak_;
  size_t samples_ = 0;
};

}  // namespace diffmesh::bench
