// Fuzzes what one process reads from another (engine/fabric.h,
// engine/wire.h): a batch split into frames by ParseFrames, and each
// frame's bytes decoded as the messages that travel (progress batches,
// data messages of rows and of keyed values, end-of-run failures, the
// mesh's relayed calls and the records they carry: statuses, stored
// products, source statuses).
// Besides not crashing or reading past the input, it asserts:
// - a refused batch is DataLoss naming the byte offset;
// - a message that decodes, encoded again, decodes to the same value, and
//   that encoding is stable (it encodes to itself).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "catalog/agreement_relay.h"
#include "catalog/mesh_store.h"
#include "catalog/row.h"
#include "catalog/source_health.h"
#include "catalog/value.h"
#include "engine/fabric.h"
#include "engine/lattice.h"
#include "engine/port.h"
#include "engine/progress_exchange.h"
#include "engine/update.h"
#include "engine/wire.h"
#include "tools/fuzz/fuzz_check.h"

namespace diffmesh {
namespace {

template <class T>
std::string Encode(const T& value) {
  std::string bytes;
  WireWriter writer(&bytes);
  WireEncode(writer, value);
  return bytes;
}

// Decodes `bytes` as T; if that works, checks the round trip.
template <class T, class Same>
void Decode(absl::string_view bytes, Same same) {
  WireReader reader(bytes);
  T value{};
  if (!WireDecode(reader, value) || !reader.done()) return;
  const std::string again = Encode(value);
  WireReader reader2(again);
  T back{};
  FUZZ_CHECK(WireDecode(reader2, back) && reader2.done(),
             "a decoded message does not decode after encoding");
  FUZZ_CHECK(same(value, back), "a message changed on a round trip");
  FUZZ_CHECK(Encode(back) == again, "a message's encoding is not stable");
}

using RowMessage =
    Message<uint64_t, std::vector<Update<Row, uint64_t, int64_t>>>;
using KeyedMessage =
    Message<Product<uint64_t, uint64_t>,
            std::vector<Update<std::pair<std::string, Value>,
                               Product<uint64_t, uint64_t>, int64_t>>>;

void FuzzBatch(absl::string_view batch) {
  absl::Status status = ParseFrames(
      batch, 4, [](const FrameHeader& header, absl::string_view bytes) {
        FUZZ_CHECK(header.size == bytes.size(), "a frame's size is wrong");
        Decode<ProgressBatch>(bytes, [](const auto& a, const auto& b) {
          if (a.from != b.from || a.overflow != b.overflow ||
              a.changes.size() != b.changes.size()) {
            return false;
          }
          for (size_t i = 0; i < a.changes.size(); ++i) {
            const ProgressChange& x = a.changes[i];
            const ProgressChange& y = b.changes[i];
            if (x.is_source != y.is_source || x.index != y.index ||
                !(x.time == y.time) || x.delta != y.delta) {
              return false;
            }
          }
          return true;
        });
        auto same_message = [](const auto& a, const auto& b) {
          return a.time == b.time && a.payload == b.payload;
        };
        Decode<RowMessage>(bytes, same_message);
        Decode<KeyedMessage>(bytes, same_message);
        Decode<std::vector<WorkerFailure>>(
            bytes, [](const auto& a, const auto& b) {
              if (a.size() != b.size()) return false;
              for (size_t i = 0; i < a.size(); ++i) {
                if (a[i].worker != b[i].worker || a[i].code != b[i].code ||
                    a[i].message != b[i].message) {
                  return false;
                }
              }
              return true;
            });
        auto equal = [](const auto& a, const auto& b) { return a == b; };
        Decode<AgreementRelay::Call>(bytes, [](const auto& a, const auto& b) {
          return a.number == b.number && a.what == b.what && a.value == b.value;
        });
        Decode<absl::Status>(bytes, equal);
        Decode<StoredProduct>(bytes, equal);
        Decode<std::vector<SourceStatus>>(bytes, equal);
      });
  if (!status.ok()) {
    FUZZ_CHECK(status.code() == absl::StatusCode::kDataLoss,
               "a batch refused with a code other than DataLoss");
    FUZZ_CHECK(absl::StrContains(status.message(), "byte"),
               "the refusal does not name the byte offset");
  }
}

}  // namespace
}  // namespace diffmesh

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  diffmesh::FuzzBatch(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
