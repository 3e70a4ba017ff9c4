#include "storage/text_log.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace diffmesh {
namespace {

absl::Status LineError(absl::string_view name, size_t line,
                       absl::string_view reason) {
  return absl::InvalidArgumentError(
      absl::StrCat(name, ":", line, ": ", reason));
}

}  // namespace

absl::StatusOr<std::vector<LogUpdate>> ParseTextLog(absl::string_view text,
                                                    absl::string_view name,
                                                    int fields) {
  std::vector<LogUpdate> updates;
  size_t line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::vector<absl::string_view> tokens =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (tokens.empty() || tokens[0][0] == '#') continue;
    if (tokens.size() < 2)
      return LineError(name, line_number, "expected TIME DIFF FIELD...");
    LogUpdate u;
    if (tokens[0][0] == '-' || tokens[0][0] == '+' ||
        !absl::SimpleAtoi(tokens[0], &u.time)) {
      return LineError(name, line_number,
                       absl::StrCat("TIME '", tokens[0],
                                    "' is not an unsigned 64-bit integer"));
    }
    absl::string_view diff = tokens[1];
    if (diff[0] == '+') diff.remove_prefix(1);
    if (diff.empty() || diff[0] == '+' ||
        (diff[0] == '-' && tokens[1][0] == '+') ||
        !absl::SimpleAtoi(diff, &u.diff)) {
      return LineError(name, line_number,
                       absl::StrCat("DIFF '", tokens[1],
                                    "' is not a signed 64-bit integer"));
    }
    for (size_t i = 2; i < tokens.size(); ++i) {
      uint32_t f;
      if (tokens[i][0] == '-' || tokens[i][0] == '+' ||
          !absl::SimpleAtoi(tokens[i], &f)) {
        return LineError(name, line_number,
                         absl::StrCat("FIELD ", i - 1, " '", tokens[i],
                                      "' is not an unsigned 32-bit integer"));
      }
      u.fields.push_back(f);
    }
    if (fields >= 0 && u.fields.size() != static_cast<size_t>(fields)) {
      return LineError(name, line_number,
                       absl::StrCat("expected ", fields, " FIELDs, found ",
                                    u.fields.size()));
    }
    updates.push_back(std::move(u));
  }
  return updates;
}

absl::StatusOr<std::vector<LogUpdate>> ReadTextLog(const std::string& path,
                                                   int fields) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat(path, ": cannot open (", std::strerror(errno), ")"));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad())
    return absl::UnavailableError(absl::StrCat(path, ": read error"));
  return ParseTextLog(buffer.str(), path, fields);
}

std::string FormatTextLog(std::vector<LogUpdate> updates) {
  auto key = [](const LogUpdate& u) { return std::tie(u.time, u.fields); };
  std::sort(
      updates.begin(), updates.end(),
      [&](const LogUpdate& a, const LogUpdate& b) { return key(a) < key(b); });
  std::string out;
  auto line = [&](const LogUpdate& u, int64_t diff) {
    absl::StrAppend(&out, u.time, " ", diff);
    for (uint32_t f : u.fields) absl::StrAppend(&out, " ", f);
    out += '\n';
  };
  for (size_t i = 0; i < updates.size();) {
    // Summed wider than a diff: a total beyond 64 bits is printed as
    // several lines of the same time and fields (the largest diffs first),
    // which read back as the same total.
    __int128 sum = 0;
    size_t j = i;
    while (j < updates.size() && key(updates[j]) == key(updates[i]))
      sum += updates[j++].diff;
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
    for (; sum > kMax; sum -= kMax) line(updates[i], kMax);
    for (; sum < kMin; sum -= kMin) line(updates[i], kMin);
    if (sum != 0) line(updates[i], static_cast<int64_t>(sum));
    i = j;
  }
  return out;
}

}  // namespace diffmesh
