// AgreementRelay: how worker 0's mesh results reach the workers of other
// processes. Within a process the workers of a mesh learn what worker 0
// read or wrote from their MeshGroup (WorkerAgreement); across processes
// worker 0 also sends each result, encoded (engine/wire.h), to the first
// worker of every other process, which waits for it and publishes it to
// its own process's workers through its own MeshGroup.
//
//   // worker 0, after computing call `number`:
//   relay.Send(number, "Advance", status);
//   // the first worker of another process:
//   absl::StatusOr<absl::Status> s = relay.Receive<absl::Status>(number,
//                                                                "Advance");
//
// A receiver whose call differs from worker 0's, or whose worker 0 left
// (its Mesh was destroyed: SendLeft), gets FailedPrecondition naming the
// calls. Results travel on a fabric channel of their own, outside every
// dataflow, in the order sent.
//
// Thread-safety: one worker's thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/fabric.h"
#include "engine/wire.h"

namespace diffmesh {

class AgreementRelay {
 public:
  // For worker `worker` of `fabric`, which spans processes, and the mesh
  // opened when the worker had made `dataflows` dataflows (every worker
  // opens its meshes at the same point, so this names the mesh's channel).
  AgreementRelay(Fabric* fabric, int worker, int dataflows);

  // Worker 0: call `number`, named `what`, had `value`.
  template <class T>
  void Send(uint64_t number, const std::string& what, const T& value) {
    std::string bytes;
    WireWriter writer(&bytes);
    WireEncode(writer, value);
    SendEncoded(Call{number, what, std::move(bytes)});
  }
  // Worker 0's mesh is gone: a receiver waiting now or later is told.
  void SendLeft();

  // The first worker of another process: waits (pumping the fabric) for
  // worker 0's result of call `number`.
  template <class T>
  absl::StatusOr<T> Receive(uint64_t number, const std::string& what) {
    absl::StatusOr<std::string> bytes = ReceiveEncoded(number, what);
    if (!bytes.ok()) return bytes.status();
    T value;
    WireReader reader(*bytes);
    if (!WireDecode(reader, value) || !reader.done()) {
      return absl::DataLossError(
          "the result of mesh call " + what +
          " from worker 0 did not decode: the processes run different builds");
    }
    return value;
  }

  struct Call {
    uint64_t number = 0;
    std::string what;   // empty: worker 0 left
    std::string value;  // encoded
    template <class Self>
    static auto WireFields(Self& self) {
      return std::tie(self.number, self.what, self.value);
    }
  };

 private:
  void SendEncoded(const Call& call);
  absl::StatusOr<std::string> ReceiveEncoded(uint64_t number,
                                             const std::string& what);

  Fabric* fabric_;
  int worker_;
  std::shared_ptr<Mailbox<Call>> box_;
  std::map<uint64_t, Call> arrived_;  // received, not yet asked for
  bool left_ = false;
};

}  // namespace diffmesh
