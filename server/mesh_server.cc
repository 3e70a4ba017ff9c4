#include "server/mesh_server.h"

#include <exception>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "httplib.h"

namespace diffmesh {

struct MeshServer::State {
  MeshReader reader;
  ServerOptions options;
  httplib::Server http;
  std::thread serving;
  int port = 0;

  State(MeshReader r, ServerOptions o)
      : reader(std::move(r)), options(std::move(o)) {}
};

namespace {

void Reply(httplib::Response& res, const ApiResponse& api) {
  res.status = api.status;
  res.set_content(api.body, "application/json");
}

}  // namespace

absl::StatusOr<std::unique_ptr<MeshServer>> MeshServer::Start(
    MeshReader reader, ServerOptions options) {
  if (options.threads < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("threads must be >= 1, got ", options.threads));
  }
  auto state = std::make_unique<State>(std::move(reader), std::move(options));
  State* s = state.get();
  const int threads = s->options.threads;
  s->http.new_task_queue = [threads] {
    return new httplib::ThreadPool(static_cast<size_t>(threads));
  };
  s->http.Get(R"(/api/.*)", [s](const httplib::Request& req,
                                httplib::Response& res) {
    ApiRequest request;
    request.method = "GET";
    request.path = req.path;
    for (const auto& [key, value] : req.params) request.params[key] = value;
    if (req.has_header("Authorization")) {
      const std::string auth = req.get_header_value("Authorization");
      constexpr absl::string_view kBearer = "Bearer ";
      auto token = s->options.tokens.end();
      if (absl::StartsWith(auth, kBearer)) {
        token = s->options.tokens.find(auth.substr(kBearer.size()));
      }
      if (token == s->options.tokens.end()) {
        Reply(res, ErrorResponse(absl::UnauthenticatedError(
                       "unknown bearer token (or not 'Bearer TOKEN')")));
        return;
      }
      request.principal = token->second;
    }
    Reply(res, HandleApi(*s->reader.Latest(), request, s->options.api));
  });
  auto refuse = [](const httplib::Request& req, httplib::Response& res) {
    Reply(res, ErrorResponse(absl::UnimplementedError(absl::StrCat(
                   req.method, " ", req.path, ": the API is read-only (GET)"))));
  };
  s->http.Post(R"(/.*)", refuse);
  s->http.Put(R"(/.*)", refuse);
  s->http.Delete(R"(/.*)", refuse);
  s->http.Patch(R"(/.*)", refuse);
  s->http.set_error_handler([](const httplib::Request& req,
                               httplib::Response& res) {
    if (!res.body.empty()) return;  // a handler's own answer
    Reply(res, ErrorResponse(absl::Status(
                   res.status == 404 ? absl::StatusCode::kNotFound
                                     : absl::StatusCode::kInvalidArgument,
                   absl::StrCat("no endpoint ", req.path, " (HTTP ",
                                res.status, ")"))));
  });
  s->http.set_exception_handler([](const httplib::Request& req,
                                   httplib::Response& res,
                                   std::exception_ptr) {
    Reply(res, ErrorResponse(absl::InternalError(
                   absl::StrCat("serving ", req.path, " failed"))));
  });
  // SO_REUSEADDR (a restart binds at once) but not httplib's default
  // SO_REUSEPORT, with which a second server on the port would share its
  // requests instead of failing to start.
  s->http.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  const std::string& host = s->options.host;
  if (s->options.port == 0) {
    s->port = s->http.bind_to_any_port(host);
  } else if (s->http.bind_to_port(host, s->options.port)) {
    s->port = s->options.port;
  } else {
    s->port = -1;
  }
  if (s->port <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", host, ":", s->options.port,
                     " (in use, or not an address of this machine)"));
  }
  s->serving = std::thread([s] { s->http.listen_after_bind(); });
  return std::unique_ptr<MeshServer>(new MeshServer(std::move(state)));
}

MeshServer::MeshServer(std::unique_ptr<State> state)
    : state_(std::move(state)) {}

MeshServer::~MeshServer() { Stop(); }

int MeshServer::port() const { return state_->port; }

void MeshServer::Stop() {
  if (state_->serving.joinable()) {
    state_->http.stop();
    state_->serving.join();
  }
}

}  // namespace diffmesh
