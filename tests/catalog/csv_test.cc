// CSV sources: RFC 4180 quoting, embedded line breaks, CRLF, unicode, empty
// files, schema inference, and bad records quarantined with the line they
// start on while every good record is kept.
#include "catalog/csv.h"

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "catalog/csv_writer.h"
#include "gtest/gtest.h"
#include "tests/catalog/random_rows.h"
#include "tests/status_matchers.h"

namespace diffmesh {
namespace {

using testing::IsOk;
using testing::StatusIs;

TEST(CsvTest, QuotingAndEmbeddedLineBreaks) {
  auto table = ParseCsv(
      "id,text,note\r\n"
      "1,\"a,b\",\"say \"\"hi\"\"\"\r\n"
      "2,\"two\nlines\",x\n"
      "\n"
      "3,plain,\n",
      "t.csv");
  ASSERT_THAT(table.status(), IsOk());
  EXPECT_EQ(table->header, (std::vector<std::string>{"id", "text", "note"}));
  ASSERT_EQ(table->records.size(), 3u);
  EXPECT_EQ(table->records[0].fields,
            (std::vector<std::string>{"1", "a,b", "say \"hi\""}));
  EXPECT_EQ(table->records[0].line, 2);
  EXPECT_EQ(table->records[1].fields,
            (std::vector<std::string>{"2", "two\nlines", "x"}));
  EXPECT_EQ(table->records[1].line, 3);
  EXPECT_EQ(table->records[2].line, 6);  // after a two-line record and a gap
  EXPECT_EQ(table->records[2].fields[2], "");
  EXPECT_TRUE(table->quarantine.empty());
}

TEST(CsvTest, UnicodeIsKeptByteForByte) {
  auto table = ParseCsv("name,city\nJosé,Zürich\n李,東京", "u.csv");
  ASSERT_THAT(table.status(), IsOk());
  ASSERT_EQ(table->records.size(), 2u);
  EXPECT_EQ(table->records[0].fields[1], "Zürich");
  EXPECT_EQ(table->records[1].fields[0], "李");
  EXPECT_EQ(table->records[1].fields[1], "東京");  // no final line break
}

TEST(CsvTest, EmptyFileAndBadHeaderAreErrorsNamingTheFile) {
  auto empty = ParseCsv("", "empty.csv");
  EXPECT_THAT(empty.status(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_NE(empty.status().message().find("empty.csv"), std::string::npos);
  EXPECT_THAT(ParseCsv("a,a\n1,2\n", "dup.csv").status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  auto header_only = ParseCsv("a,b\n", "h.csv");
  ASSERT_THAT(header_only.status(), IsOk());
  EXPECT_TRUE(header_only->records.empty());
}

TEST(CsvTest, BadRecordsAreQuarantinedWithTheirLines) {
  auto table = ParseCsv(
      "id,qty\n"     // 1
      "1,5\n"        // 2
      "2,5,extra\n"  // 3: too many fields
      "3,ab\"c\n"    // 4: stray quote
      "4,\"x\"y\n"   // 5: text after closing quote
      "5,x\n"        // 6: fine for the parser, not an int64
      "6,7\n"        // 7
      "7,\"never closed\n"
      "8,9\n",  // swallowed by the open quote of line 8
      "orders.csv");
  ASSERT_THAT(table.status(), IsOk());
  ASSERT_EQ(table->quarantine.size(), 4u);
  EXPECT_EQ(table->quarantine[0].line, 3);
  EXPECT_EQ(table->quarantine[0].ToString(),
            "orders.csv:3: has 3 fields, the header has 2");
  EXPECT_EQ(table->quarantine[1].line, 4);
  EXPECT_EQ(table->quarantine[2].line, 5);
  EXPECT_EQ(table->quarantine[3].line, 8);
  EXPECT_NE(table->quarantine[3].reason.find("never closed"),
            std::string::npos);

  Schema schema(
      {{"id", ValueType::kInt64, false}, {"qty", ValueType::kInt64, false}});
  CsvRows rows = ToRows(*table, schema);
  ASSERT_EQ(rows.rows.size(), 2u);
  EXPECT_EQ(rows.rows[0].first, 2);
  EXPECT_EQ(rows.rows[1].first, 7);
  EXPECT_EQ(rows.rows[1].second, (Row{Value(int64_t{6}), Value(int64_t{7})}));
  ASSERT_EQ(rows.quarantine.size(), 5u);  // the parser's four and line 6
  EXPECT_EQ(rows.quarantine[4].ToString(),
            "orders.csv:6: field 'qty' expects int64, got 'x'");
}

TEST(CsvTest, InfersTypesAndNullability) {
  auto table = ParseCsv(
      "i,d,b,t,s,n,e\n"
      "1,1.5,true,2000-02-29T12:00:00.5Z,x,,\n"
      "-2,3,FALSE,1970-01-01T00:00:00Z,7,4,\n",
      "infer.csv");
  ASSERT_THAT(table.status(), IsOk());
  Schema schema = InferSchema(*table);
  ASSERT_EQ(schema.size(), 7u);
  auto type = [&](int c) { return schema.fields()[c].type; };
  EXPECT_EQ(type(0), ValueType::kInt64);
  EXPECT_EQ(type(1), ValueType::kDouble);
  EXPECT_EQ(type(2), ValueType::kBool);
  EXPECT_EQ(type(3), ValueType::kTimestamp);
  EXPECT_EQ(type(4), ValueType::kString);
  EXPECT_EQ(type(5), ValueType::kInt64);
  EXPECT_TRUE(schema.fields()[5].nullable);
  EXPECT_FALSE(schema.fields()[0].nullable);
  EXPECT_EQ(type(6), ValueType::kString);  // never filled in
  CsvRows rows = ToRows(*table, schema);
  ASSERT_EQ(rows.rows.size(), 2u);
  EXPECT_TRUE(rows.quarantine.empty());
  EXPECT_EQ(rows.rows[0].second[3].as_timestamp().micros,
            int64_t{951825600500000});
  EXPECT_EQ(rows.rows[1].second[3].as_timestamp().micros, 0);
  EXPECT_TRUE(rows.rows[0].second[5].is_null());
  EXPECT_EQ(rows.rows[1].second[2], Value(false));
}

// Timestamps without a zone (UTC) in the forms real files use, such as
// vega's flights ("2001/01/14 21:55"), and dates alone.
TEST(CsvTest, TimestampForms) {
  auto micros = [](absl::string_view text) -> int64_t {
    absl::StatusOr<Value> v = ParseField(text, ValueType::kTimestamp);
    EXPECT_THAT(v.status(), IsOk()) << text;
    return v.ok() ? v->as_timestamp().micros : -1;
  };
  const int64_t day = 86'400'000'000;
  // 2000-02-29 is day 11016 after the epoch.
  EXPECT_EQ(micros("2000-02-29"), 11016 * day);
  EXPECT_EQ(micros("2000-02-29T12:00:00.5Z"), 11016 * day + 43'200'500'000);
  EXPECT_EQ(micros("2000-02-29 12:00:00.5"), 11016 * day + 43'200'500'000);
  EXPECT_EQ(micros("2000-02-29 12:00:01"), 11016 * day + 43'201'000'000);
  EXPECT_EQ(micros("2000/02/29 12:00"), 11016 * day + 43'200'000'000);
  EXPECT_EQ(micros("2000/02/29 12:00:07"), 11016 * day + 43'207'000'000);
  for (const char* bad :
       {"2000-02-29T12:00:00", "2000-02-29 12:00:00Z", "2000-02-29 12:00",
        "2000/02/29", "2000/02/29T12:00", "2000/02/29 12:00:00.5", "2000-02/29",
        "2001-02-29", "2000-02-29 ", "2000-02-29 24:00:00",
        "2000/02/29 12:60"}) {
    EXPECT_THAT(ParseField(bad, ValueType::kTimestamp).status(),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << bad;
  }
  // Inference takes them as timestamps; a column mixing forms too.
  auto table = ParseCsv(
      "date,delay\n2001/01/14 21:55,3\n2001-01-15,4\n2001-01-16 01:02:03,5\n",
      "flights.csv");
  ASSERT_THAT(table.status(), IsOk());
  EXPECT_EQ(InferSchema(*table).fields()[0].type, ValueType::kTimestamp);
}

TEST(CsvTest, FieldParsersRejectWhatTheyShould) {
  EXPECT_THAT(
      ParseField("2001-02-29T00:00:00Z", ValueType::kTimestamp).status(),
      StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(
      ParseField("2000-13-01T00:00:00Z", ValueType::kTimestamp).status(),
      StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseField("nan", ValueType::kDouble).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseField("99999999999999999999", ValueType::kInt64).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseField("yes", ValueType::kBool).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  auto null = ParseField("", ValueType::kInt64);
  ASSERT_THAT(null.status(), IsOk());
  EXPECT_TRUE(null->is_null());
}

}  // namespace
}  // namespace diffmesh

namespace diffmesh {
namespace {

// Quote-free text is split line by line (memchr); the record scanner must
// find the same records, lines and texts. A quoted record appended after a
// line end sends the text through the scanner without moving the others.
TEST(CsvTest, QuoteFreeSplitEqualsTheScanner) {
  std::mt19937_64 rng(3);
  const char alphabet[] = {'a', 'b', ',', '\n', '\r', ' '};
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    const size_t length = rng() % 40;
    for (size_t i = 0; i < length; ++i) text += alphabet[rng() % 6];
    if (!text.empty() && text.back() == '\r') continue;  // CR LF once joined
    const std::vector<CsvSpan> fast = SplitCsv(text);
    const std::string quoted = text + "\n\"q\"";
    std::vector<CsvSpan> scanned = SplitCsv(quoted);
    ASSERT_FALSE(scanned.empty());
    ASSERT_EQ(scanned.back().text, "\"q\"");
    scanned.pop_back();
    ASSERT_EQ(fast.size(), scanned.size()) << text;
    for (size_t i = 0; i < fast.size(); ++i) {
      EXPECT_EQ(fast[i].line, scanned[i].line) << text;
      EXPECT_EQ(fast[i].text, scanned[i].text) << text;
    }
  }
}

// Numbers in plain spellings take the quick parser; everything else the
// general one: a row must not depend on which.
TEST(CsvTest, QuickAndGeneralFieldParsersAgree) {
  const Schema schema({{"i", ValueType::kInt64, true, "", {}},
                       {"d", ValueType::kDouble, true, "", {}}});
  for (const char* record :
       {"12,1.5", "+12,+1.5", " 7,2", "-0,-0.0", "9223372036854775807,1e308",
        "9223372036854775808,1", "1,1e400", "1,nan", "1,inf", "1,-inf",
        "0x10,1", "1,0x1p3", "1,.5", "1,5.", "007,1E-3", ",", "1,"}) {
    Row quick;
    const std::string quick_error = CsvRecordToRow(record, 2, schema, &quick);
    // The same record with a quote goes the general way.
    Row general;
    std::vector<std::string> fields;
    ASSERT_EQ(ReadCsvRecord(record, 2, &fields), "");
    const std::string general_error = CsvFieldsToRow(fields, schema, &general);
    EXPECT_EQ(quick_error, general_error) << record;
    if (quick_error.empty()) {
      EXPECT_EQ(quick, general) << record;
    }
  }
}

}  // namespace
}  // namespace diffmesh

namespace diffmesh {
namespace {

std::vector<Row> RowsOf(const CsvRows& read) {
  std::vector<Row> rows;
  for (const auto& [line, row] : read.rows) rows.push_back(row);
  return rows;
}

// Round trip: rows written by WriteCsv read back as the same rows, for
// random rows of every type (strings with commas, quotes, line breaks and
// spaces; integers and doubles at their extremes; timestamps before 1970
// and with fractions; nulls).
TEST(CsvWriterTest, WrittenRowsReadBackTheSame) {
  const Schema schema = testing::EveryTypeSchema();
  const std::vector<std::string> strings = {
      "ada", "a,b", "say \"hi\"", "two\nlines", "cr\r\nlf",   " padded ", "zoë",
      "\"",  ",",   "null",       "12",         "2001-01-01", "x\ty"};
  const std::vector<double> doubles = {
      0.0,
      0.1,
      -2.5,
      1e300,
      5e-324,
      123456789.0,
      -1e-7,
      std::numeric_limits<double>::infinity(),
      -std::numeric_limits<double>::infinity()};
  std::mt19937_64 rng(17);
  for (int round = 0; round < 50; ++round) {
    const std::vector<Row> rows =
        testing::RandomEveryTypeRows(rng, 40, strings, doubles);
    const std::string text = WriteCsv(schema, rows);
    absl::StatusOr<CsvTable> table = ParseCsv(text, "written.csv");
    ASSERT_THAT(table.status(), IsOk());
    const CsvRows read = ToRows(*table, schema);
    ASSERT_TRUE(read.quarantine.empty()) << read.quarantine[0].reason << "\n"
                                         << text;
    ASSERT_EQ(RowsOf(read), rows) << text;
  }
}

// A file in other spellings (TRUE, 1e3, a slash timestamp, quoted plain
// fields, CRLF) reads, writes and reads again as the same rows, and the
// written text infers the same schema.
TEST(CsvWriterTest, AFileReadWrittenAndReadAgainIsTheSame) {
  const std::string file =
      "name,qty,price,ok,at\r\n"
      "\"ada\",+3,1e3,TRUE,2001/01/02 03:04\r\n"
      "bob,,2,false,2001-01-02 03:04:05.5\r\n"
      "\"c, d\",-7,,True,2001-01-02\r\n"
      ",0,-0.25,,\r\n";
  absl::StatusOr<CsvTable> first = ParseCsv(file, "f.csv");
  ASSERT_THAT(first.status(), IsOk());
  const Schema schema = InferSchema(*first);
  const CsvRows rows = ToRows(*first, schema);
  ASSERT_TRUE(rows.quarantine.empty());
  ASSERT_EQ(rows.rows.size(), 4u);
  const std::string written = WriteCsv(schema, RowsOf(rows));
  absl::StatusOr<CsvTable> second = ParseCsv(written, "g.csv");
  ASSERT_THAT(second.status(), IsOk());
  EXPECT_EQ(InferSchema(*second), schema) << written;
  const CsvRows again = ToRows(*second, schema);
  EXPECT_TRUE(again.quarantine.empty());
  EXPECT_EQ(RowsOf(again), RowsOf(rows)) << written;
}

}  // namespace
}  // namespace diffmesh
