// The demo's sample data: four files of the vega-datasets package (airports,
// routes, 20,000 flights, movies) read from a directory, or data of the same
// shapes generated when they are not there; and the replay that turns the
// flights into a change log, one simulated hour per step.
//
//   absl::StatusOr<Sample> sample = ReadSample(dir);   // NotFound: generate
//   if (!sample.ok()) sample = GenerateSample(/*seed=*/1);
//   std::vector<ReplayStep> steps = Replay(sample->flights);
//   // steps[i].records: change-log lines (diff,date,delay,...) to append
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace diffmesh::demo {

struct Flight {
  std::string date;              // "YYYY/MM/DD HH:MM"
  std::optional<int64_t> delay;  // minutes; null when unknown
  int64_t distance = 0;          // miles
  std::string origin;
  std::string destination;
  friend bool operator==(const Flight&, const Flight&) = default;
};

// The files the demo mesh reads, as text, and the flights the replay
// writes out step by step.
struct Sample {
  std::string airports_csv;  // iata,name,city,state,country,latitude,longitude
  std::string routes_csv;    // origin,destination,count
  std::string movies_json;   // an array of objects (vega's movies.json)
  std::vector<Flight> flights;  // sorted by date
  // Flights of the file that could not be used, with the first reason.
  int64_t skipped_flights = 0;
  std::string first_skip_reason;
  bool generated = false;
};

// The names of the files ReadSample needs in its directory.
const std::vector<std::string>& SampleFiles();

// Reads airports.csv, flights-airport.csv, flights-20k.json and movies.json
// from `dir`. NotFound naming the first missing file; InvalidArgument
// naming the file and the cause when flights-20k.json is not a JSON array
// of objects. A flight record without a date, origin or destination
// string, or with a non-numeric delay or distance, is skipped and counted
// (Sample::skipped_flights), never dropped silently.
absl::StatusOr<Sample> ReadSample(const std::string& dir);

// The flights of vega's flights-20k.json text (`path` names it in
// errors): InvalidArgument when it is not a JSON array; unusable records
// are skipped and counted as ReadSample says.
absl::StatusOr<Sample> ParseFlights(const std::string& text,
                                    const std::string& path);

// Data of the same shapes (about 60 airports with "ORD" among them, routes,
// `flights` flights over the hours of two months, 300 movies with nulls and
// mixed types), the same for the same seed.
Sample GenerateSample(uint64_t seed, int flights = 20000);

// One step of the replay: the flights of one simulated hour arrive; now and
// then an earlier flight's delay is corrected or an earlier flight is
// retracted.
struct ReplayStep {
  std::string hour;  // "YYYY/MM/DD HH"
  int added = 0;
  int corrected = 0;
  int retracted = 0;
  std::string records;  // lines of the flights change log, '\n'-ended
};

// The header line of the flights change log.
constexpr char kFlightsLogHeader[] =
    "diff,date,delay,distance,origin,destination\n";

// The steps, in order; the same for the same flights.
std::vector<ReplayStep> Replay(const std::vector<Flight>& flights);

}  // namespace diffmesh::demo
