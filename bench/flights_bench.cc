// The product layer on a real file: how long a CSV or JSON file takes to
// become rows, to become a durable product with a downstream product, and
// what appending rows to the file then costs. bench/flights/run.sh runs it
// on vega's flights data next to DuckDB; it works on any CSV, JSON or JSON
// Lines file.
//
//   flights_bench read FILE                      # FileSource Open + Poll
//   flights_bench load FILE STORE_DIR [WORKERS]  # durable product, first
//                                                # answer (on WORKERS threads)
//   flights_bench append FILE STORE_DIR ROWS ROUNDS
//
// Each prints `key value` lines on stdout (progress goes to stderr):
//   read:   seconds, rows, mb_per_second
//   load:   seconds, rows, store_bytes (the store directory's files after
//           a flush)
//   append: the load's lines, then median_ms and p90_ms of ROUNDS rounds
//           that each append ROWS rows (copies of the file's first data
//           records) and Refresh.
//
// The products: the file as a raw source (`flights.raw`), and per origin
// (its first column of type string) the number of rows (`flights.by_origin`),
// so an append updates a product and a downstream aggregate. A copy of the
// file is appended to, never the file itself.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "catalog/mesh.h"
#include "catalog/source.h"
#include "engine/runtime.h"
#include "storage/rocks_mesh_store.h"

namespace diffmesh {
namespace {

// The figures in bench/README.md are measured with pinned workers.
constexpr RuntimeOptions kPinned{.pin_workers = true};

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "flights_bench: %s\n", status.ToString().c_str());
  return 1;
}

uint64_t DirectoryBytes(const std::string& dir) {
  uint64_t bytes = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) bytes += entry.file_size();
  }
  return bytes;
}

int Read(const std::string& file) {
  auto start = Clock::now();
  absl::StatusOr<std::unique_ptr<FileSource>> source =
      FileSource::Open({.path = file});
  if (!source.ok()) return Fail(source.status());
  absl::StatusOr<SourceDiff> diff = (*source)->Poll();
  if (!diff.ok()) return Fail(diff.status());
  double seconds = Seconds(start);
  int64_t rows = 0;
  for (const auto& [row, n] : diff->rows) rows += n;
  double mb = static_cast<double>(std::filesystem::file_size(file)) / 1e6;
  std::printf("seconds %.3f\nrows %lld\nmb_per_second %.1f\n", seconds,
              static_cast<long long>(rows), mb / seconds);
  return 0;
}

ProductDescriptor Describe(const std::string& id) {
  ProductDescriptor d;
  d.id = id;
  d.owner = "bench";
  return d;
}

struct Loaded {
  std::unique_ptr<RocksMeshStore> store;
  Worker worker;
  std::unique_ptr<Mesh> mesh;
};

// Declares both products over `file` on `mesh` (every worker of a mesh
// declares the same) and runs the first Advance; returns the rows the
// downstream product counts, its first answer.
absl::StatusOr<int64_t> DeclareAndAdvance(Mesh& mesh, const std::string& file) {
  absl::StatusOr<Table> raw =
      mesh.Source(Describe("flights.raw"), {.path = file});
  if (!raw.ok()) return raw.status();
  std::string origin;
  for (const Field& f : raw->schema().fields()) {
    if (f.type == ValueType::kString) {
      origin = f.name;
      break;
    }
  }
  if (origin.empty()) {
    return absl::InvalidArgumentError(file + ": no string column to group by");
  }
  absl::StatusOr<Table> by_origin =
      raw->GroupBy({origin}).Aggregate({Count("flights")});
  if (!by_origin.ok()) return by_origin.status();
  absl::Status published =
      mesh.Publish(*by_origin, Describe("flights.by_origin")).status();
  if (!published.ok()) return published;
  if (absl::Status advanced = mesh.Advance(); !advanced.ok()) return advanced;
  absl::StatusOr<std::vector<Row>> answer = mesh.Read("flights.by_origin");
  if (!answer.ok()) return answer.status();
  int64_t rows = 0;
  for (const Row& group : *answer) rows += group[1].as_int64();
  return rows;
}

// Flushes the store and prints the load's lines.
absl::Status Report(double seconds, int64_t rows, RocksMeshStore& store,
                    const std::string& store_dir) {
  if (absl::Status flushed = store.Flush(); !flushed.ok()) return flushed;
  std::printf("seconds %.3f\nrows %lld\nstore_bytes %llu\n", seconds,
              static_cast<long long>(rows),
              static_cast<unsigned long long>(DirectoryBytes(store_dir)));
  return absl::OkStatus();
}

// Opens the store and the mesh (one worker), declares both products over
// `file` and runs the first Advance; prints the load's lines.
absl::Status Load(const std::string& file, const std::string& store_dir,
                  Loaded* loaded) {
  auto start = Clock::now();
  absl::StatusOr<std::unique_ptr<RocksMeshStore>> store =
      RocksMeshStore::Open(store_dir);
  if (!store.ok()) return store.status();
  loaded->store = *std::move(store);
  absl::StatusOr<std::unique_ptr<Mesh>> mesh = Mesh::Open(
      loaded->worker, {.store = loaded->store.get(), .record_changes = false});
  if (!mesh.ok()) return mesh.status();
  loaded->mesh = *std::move(mesh);
  std::fprintf(stderr, "flights_bench: reading %s into a durable product\n",
               file.c_str());
  absl::StatusOr<int64_t> rows = DeclareAndAdvance(*loaded->mesh, file);
  if (!rows.ok()) return rows.status();
  return Report(Seconds(start), *rows, *loaded->store, store_dir);
}

// The load on `workers` workers (threads): the file is read once and its
// rows are spread over the workers, which arrange and count them in
// parallel.
absl::Status LoadOnWorkers(const std::string& file,
                           const std::string& store_dir, int workers) {
  auto start = Clock::now();
  absl::StatusOr<std::unique_ptr<RocksMeshStore>> store =
      RocksMeshStore::Open(store_dir);
  if (!store.ok()) return store.status();
  MeshGroup group;
  std::mutex mu;
  absl::Status failed;
  int64_t rows = 0;
  double seconds = 0;
  std::fprintf(stderr,
               "flights_bench: reading %s into a durable product on %d "
               "workers\n",
               file.c_str(), workers);
  absl::Status ran = Runtime::Execute(workers, kPinned, [&](Worker& worker) {
    absl::StatusOr<std::unique_ptr<Mesh>> mesh = Mesh::Open(
        worker,
        {.store = store->get(), .group = &group, .record_changes = false});
    absl::StatusOr<int64_t> answer =
        mesh.ok() ? DeclareAndAdvance(**mesh, file)
                  : absl::StatusOr<int64_t>(mesh.status());
    std::lock_guard<std::mutex> lock(mu);
    if (!answer.ok()) {
      failed.Update(answer.status());
    } else if (worker.index() == 0) {
      rows = *answer;
      seconds = Seconds(start);
    }
  });
  if (!ran.ok()) return ran;
  if (!failed.ok()) return failed;
  return Report(seconds, rows, **store, store_dir);
}

// The file's first `n` data records (after the header for CSV), repeated
// as needed, as text to append.
absl::StatusOr<std::string> RecordsToAppend(const std::string& file,
                                            int64_t n) {
  std::ifstream in(file);
  std::string line, header;
  bool csv = file.size() > 4 && file.substr(file.size() - 4) == ".csv";
  if (csv) std::getline(in, header);
  std::vector<std::string> records;
  while (static_cast<int64_t>(records.size()) < std::min<int64_t>(n, 1000) &&
         std::getline(in, line)) {
    if (!line.empty()) records.push_back(line);
  }
  if (records.empty()) {
    return absl::InvalidArgumentError(file + ": no records to append");
  }
  std::string text;
  for (int64_t i = 0; i < n; ++i) {
    text += records[i % records.size()];
    text += '\n';
  }
  return text;
}

int Append(const std::string& file, const std::string& store_dir, int64_t rows,
           int rounds) {
  // Appends go to a copy next to the store, never to the caller's file.
  std::filesystem::create_directories(store_dir);
  std::string copy =
      (std::filesystem::path(store_dir) /
       ("appended" + std::filesystem::path(file).extension().string()))
          .string();
  std::filesystem::copy_file(file, copy,
                             std::filesystem::copy_options::overwrite_existing);
  Loaded loaded;
  if (absl::Status s = Load(copy, store_dir + "/store", &loaded); !s.ok()) {
    return Fail(s);
  }
  absl::StatusOr<std::string> text = RecordsToAppend(copy, rows);
  if (!text.ok()) return Fail(text.status());
  std::vector<double> ms;
  for (int r = 0; r < rounds; ++r) {
    {
      std::ofstream out(copy, std::ios::app | std::ios::binary);
      out << *text;
    }
    auto start = Clock::now();
    absl::StatusOr<RefreshReport> report = loaded.mesh->Refresh();
    if (!report.ok()) return Fail(report.status());
    ms.push_back(Seconds(start) * 1e3);
    if (report->rows_inserted != rows) {
      return Fail(absl::InternalError(absl::StrCat("round ", r, " inserted ",
                                                   report->rows_inserted,
                                                   " rows, expected ", rows)));
    }
    std::fprintf(stderr, "flights_bench: round %d: %.2f ms\n", r, ms.back());
  }
  std::sort(ms.begin(), ms.end());
  std::printf("median_ms %.3f\np90_ms %.3f\n", ms[ms.size() / 2],
              ms[std::min(ms.size() - 1, ms.size() * 9 / 10)]);
  return 0;
}

int Usage() {
  std::fprintf(stderr,
               "usage: flights_bench read FILE\n"
               "       flights_bench load FILE STORE_DIR [WORKERS]\n"
               "       flights_bench append FILE STORE_DIR ROWS ROUNDS\n");
  return 2;
}

}  // namespace
}  // namespace diffmesh

int main(int argc, char** argv) {
  using namespace diffmesh;
  if (argc < 3) return Usage();
  std::string command = argv[1];
  if (command == "read" && argc == 3) return Read(argv[2]);
  if (command == "load" && argc == 4) {
    Loaded loaded;
    absl::Status s = Load(argv[2], argv[3], &loaded);
    return s.ok() ? 0 : Fail(s);
  }
  if (command == "load" && argc == 5) {
    const int workers = std::atoi(argv[4]);
    if (workers < 1 || workers > 64) return Usage();
    absl::Status s = LoadOnWorkers(argv[2], argv[3], workers);
    return s.ok() ? 0 : Fail(s);
  }
  if (command == "append" && argc == 6) {
    int64_t rows = std::atoll(argv[4]);
    int rounds = std::atoi(argv[5]);
    if (rows <= 0 || rounds <= 0) return Usage();
    return Append(argv[2], argv[3], rows, rounds);
  }
  return Usage();
}
