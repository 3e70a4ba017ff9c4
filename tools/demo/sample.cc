#include "tools/demo/sample.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/status_macros.h"
#include "nlohmann/json.hpp"

namespace diffmesh::demo {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": not found"));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  return text.str();
}

// One element of flights-20k.json, or why it cannot be used.
absl::StatusOr<Flight> ToFlight(const nlohmann::json& e) {
  if (!e.is_object()) return absl::InvalidArgumentError("not an object");
  Flight f;
  for (const char* key : {"date", "origin", "destination"}) {
    auto it = e.find(key);
    if (it == e.end() || !it->is_string() || it->get<std::string>().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", key, "' is not a non-empty string"));
    }
  }
  f.date = e["date"].get<std::string>();
  f.origin = e["origin"].get<std::string>();
  f.destination = e["destination"].get<std::string>();
  for (const std::string* s : {&f.date, &f.origin, &f.destination}) {
    if (s->find_first_of(",\"\r\n") != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", *s, "' holds a comma, quote or line end"));
    }
  }
  auto delay = e.find("delay");
  if (delay != e.end() && !delay->is_null()) {
    if (!delay->is_number_integer() ||
        (delay->is_number_unsigned() &&
         delay->get<uint64_t>() > uint64_t{INT64_MAX})) {
      return absl::InvalidArgumentError("'delay' is not an integer");
    }
    f.delay = delay->get<int64_t>();
  }
  auto distance = e.find("distance");
  if (distance == e.end() || !distance->is_number_integer() ||
      (distance->is_number_unsigned() &&
       distance->get<uint64_t>() > uint64_t{INT64_MAX})) {
    return absl::InvalidArgumentError("'distance' is not an integer");
  }
  f.distance = distance->get<int64_t>();
  return f;
}

std::string FlightFields(const Flight& f) {
  return absl::StrCat(f.date, ",",
                      f.delay ? absl::StrCat(*f.delay) : std::string(), ",",
                      f.distance, ",", f.origin, ",", f.destination);
}

}  // namespace

const std::vector<std::string>& SampleFiles() {
  static const std::vector<std::string> files = {
      "airports.csv", "flights-airport.csv", "flights-20k.json", "movies.json"};
  return files;
}

absl::StatusOr<Sample> ReadSample(const std::string& dir) {
  Sample s;
  std::vector<std::string> text;
  for (const std::string& name : SampleFiles()) {
    absl::StatusOr<std::string> t = ReadFile(absl::StrCat(dir, "/", name));
    if (!t.ok()) return t.status();
    text.push_back(*std::move(t));
  }
  s.airports_csv = std::move(text[0]);
  s.routes_csv = std::move(text[1]);
  s.movies_json = std::move(text[3]);
  DM_ASSIGN_OR_RETURN(
      Sample parsed,
      ParseFlights(text[2], absl::StrCat(dir, "/flights-20k.json")));
  s.flights = std::move(parsed.flights);
  s.skipped_flights = parsed.skipped_flights;
  s.first_skip_reason = std::move(parsed.first_skip_reason);
  return s;
}

absl::StatusOr<Sample> ParseFlights(const std::string& text,
                                    const std::string& path) {
  Sample s;
  nlohmann::json flights = nlohmann::json::parse(text, nullptr, false);
  if (flights.is_discarded() || !flights.is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a JSON array"));
  }
  size_t index = 0;
  for (const nlohmann::json& e : flights) {
    ++index;
    absl::StatusOr<Flight> f = ToFlight(e);
    if (f.ok()) {
      s.flights.push_back(*std::move(f));
    } else if (s.skipped_flights++ == 0) {
      s.first_skip_reason =
          absl::StrCat(path, ": record ", index, ": ", f.status().message());
    }
  }
  std::stable_sort(
      s.flights.begin(), s.flights.end(),
      [](const Flight& a, const Flight& b) { return a.date < b.date; });
  return s;
}

Sample GenerateSample(uint64_t seed, int flights) {
  std::mt19937_64 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  Sample s;
  s.generated = true;
  // Airports: ORD and 59 three-letter codes.
  std::vector<std::string> codes = {"ORD"};
  std::set<std::string> taken = {"ORD"};
  while (codes.size() < 60) {
    std::string c;
    for (int i = 0; i < 3; ++i) c += static_cast<char>('A' + pick(26));
    if (taken.insert(c).second) codes.push_back(c);
  }
  static const char* kStates[] = {"IL", "CA", "NY", "TX", "WA", "FL", "CO"};
  s.airports_csv = "iata,name,city,state,country,latitude,longitude\n";
  for (size_t i = 0; i < codes.size(); ++i) {
    absl::StrAppendFormat(
        &s.airports_csv, "%s,%s Field,City %d,%s,%s,%.4f,%.4f\n", codes[i],
        codes[i], static_cast<int>(i), kStates[pick(7)],
        i % 15 == 14 ? "Canada" : "USA", 25.0 + pick(2000) / 100.0,
        -70.0 - pick(5000) / 100.0);
  }
  // Routes: a hub-and-spoke core and a few random links; the last five
  // airports have no route in (they are unreachable from the hub).
  std::set<std::pair<int, int>> routes;
  const int n = static_cast<int>(codes.size());
  for (int i = 1; i < n - 5; ++i) {
    if (i < 20) routes.insert({0, i});
    routes.insert({i, 0});
    routes.insert({i, 1 + pick(n - 6)});
  }
  s.routes_csv = "origin,destination,count\n";
  std::vector<std::pair<int, int>> route_list;
  for (const auto& [a, b] : routes) {
    if (a == b) continue;
    route_list.push_back({a, b});
    absl::StrAppend(&s.routes_csv, codes[a], ",", codes[b], ",", 1 + pick(900),
                    "\n");
  }
  // Flights over two months, about 14 an hour, sorted by date.
  const int hours = std::max(1, flights / 14);
  for (int i = 0; i < flights; ++i) {
    const int hour =
        static_cast<int>(static_cast<int64_t>(i) * hours / flights);
    // Day of the year to month and day (2001 is not a leap year).
    static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int day = (hour / 24) % 365, month = 0;
    while (day >= kDays[month]) day -= kDays[month++];
    Flight f;
    f.date = absl::StrFormat("2001/%02d/%02d %02d:%02d", month + 1, day + 1,
                             hour % 24, pick(60));
    const auto& [a, b] = route_list[pick(static_cast<int>(route_list.size()))];
    f.origin = codes[a];
    f.destination = codes[b];
    f.distance = 100 + pick(2600);
    if (pick(40) != 0) f.delay = static_cast<int64_t>(pick(90)) - 15;
    s.flights.push_back(std::move(f));
  }
  std::stable_sort(
      s.flights.begin(), s.flights.end(),
      [](const Flight& a, const Flight& b) { return a.date < b.date; });
  // Movies: vega's column names; nulls and a title that is a number.
  static const char* kRatings[] = {"G", "PG", "PG-13", "R", "Not Rated"};
  static const char* kGenres[] = {"Drama", "Comedy", "Action", "Thriller"};
  nlohmann::json movies = nlohmann::json::array();
  for (int i = 0; i < 300; ++i) {
    nlohmann::json m;
    if (i % 97 == 5) {
      m["Title"] = 1776 + i;
    } else {
      m["Title"] = absl::StrCat("Movie ", i);
    }
    m["US Gross"] = pick(100000000);
    m["Worldwide Gross"] = pick(300000000);
    m["Production Budget"] = 100000 + pick(90000000);
    m["Release Date"] =
        absl::StrFormat("Jan %02d %d", 1 + pick(28), 1990 + pick(20));
    m["MPAA Rating"] = pick(10) == 0 ? nlohmann::json() : kRatings[pick(5)];
    m["Running Time min"] =
        pick(4) == 0 ? nlohmann::json() : nlohmann::json(80 + pick(80));
    m["Major Genre"] = kGenres[pick(4)];
    m["Director"] = pick(3) == 0
                        ? nlohmann::json()
                        : nlohmann::json(absl::StrCat("Director ", pick(50)));
    m["Rotten Tomatoes Rating"] =
        pick(3) == 0 ? nlohmann::json() : nlohmann::json(pick(101));
    m["IMDB Rating"] =
        pick(8) == 0 ? nlohmann::json() : nlohmann::json(2.0 + pick(80) / 10.0);
    m["IMDB Votes"] = pick(200000);
    movies.push_back(std::move(m));
  }
  s.movies_json = movies.dump(1);
  return s;
}

std::vector<ReplayStep> Replay(const std::vector<Flight>& flights) {
  std::vector<ReplayStep> steps;
  // The flights as they stand now, per step: (index, current value).
  std::vector<std::vector<std::pair<size_t, Flight>>> live;
  size_t i = 0;
  while (i < flights.size()) {
    ReplayStep step;
    step.hour = flights[i].date.substr(0, 13);
    std::vector<std::pair<size_t, Flight>> arrived;
    for (; i < flights.size() && flights[i].date.substr(0, 13) == step.hour;
         ++i) {
      absl::StrAppend(&step.records, "1,", FlightFields(flights[i]), "\n");
      arrived.push_back({i, flights[i]});
      ++step.added;
    }
    const size_t n = steps.size();
    // Every 7th hour, the first flight still held from three hours ago
    // gets a corrected delay (an unknown one becomes known).
    if (n % 7 == 6 && n >= 3) {
      for (auto& [index, f] : live[n - 3]) {
        if (index == SIZE_MAX) continue;
        Flight fixed = f;
        fixed.delay = f.delay ? *f.delay + 45 : 30;
        absl::StrAppend(&step.records, "-1,", FlightFields(f), "\n1,",
                        FlightFields(fixed), "\n");
        f = std::move(fixed);
        ++step.corrected;
        break;
      }
    }
    // Every 11th hour, the last flight still held from five hours ago is
    // retracted (it never flew).
    if (n % 11 == 10 && n >= 5) {
      for (auto it = live[n - 5].rbegin(); it != live[n - 5].rend(); ++it) {
        if (it->first == SIZE_MAX) continue;
        absl::StrAppend(&step.records, "-1,", FlightFields(it->second), "\n");
        it->first = SIZE_MAX;
        ++step.retracted;
        break;
      }
    }
    live.push_back(std::move(arrived));
    steps.push_back(std::move(step));
  }
  return steps;
}

}  // namespace diffmesh::demo
