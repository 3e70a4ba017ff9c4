#include "server/mesh_server.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "httplib.h"

namespace diffmesh {

struct MeshServer::State {
  MeshReader reader;
  ServerOptions options;
  httplib::Server http;
  std::thread serving;
  int port = 0;
  std::atomic<int> event_clients{0};
  std::atomic<bool> stopping{false};
  std::atomic<bool> listened{false};  // the accept loop has ended

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
  const int threads =
      s->options.threads + std::max(0, s->options.max_event_clients);
  s->http.new_task_queue = [threads] {
    return new httplib::ThreadPool(static_cast<size_t>(threads));
  };
  s->http.Get("/api/events", [s](const httplib::Request& req,
                                 httplib::Response& res) {
    std::optional<EventCursor> resume;
    if (req.has_header("Last-Event-ID")) {
      absl::StatusOr<EventCursor> cursor =
          ParseEventId(req.get_header_value("Last-Event-ID"));
      if (!cursor.ok()) return Reply(res, ErrorResponse(cursor.status()));
      resume = *cursor;
    }
    if (s->event_clients.fetch_add(1) >= s->options.max_event_clients) {
      --s->event_clients;
      return Reply(res, ErrorResponse(absl::ResourceExhaustedError(absl::StrCat(
                            "more than ", s->options.max_event_clients,
                            " event streams are open"))));
    }
    SubscribeOptions options = EventSubscription(s->options.api, resume);
    options.max_pending_events = s->options.max_pending_events;
    absl::StatusOr<std::shared_ptr<Subscription>> sub =
        s->reader.Subscribe(std::move(options));
    if (!sub.ok()) {
      --s->event_clients;
      return Reply(res, ErrorResponse(sub.status()));
    }
    res.set_header("Cache-Control", "no-cache");
    auto quiet_since = std::make_shared<absl::Time>(absl::Now());
    res.set_chunked_content_provider(
        "text/event-stream",
        [s, sub = *sub, resume, quiet_since](size_t, httplib::DataSink& sink) {
          if (s->stopping) return false;
          absl::StatusOr<MeshEvents> next = sub->Next(absl::Milliseconds(250));
          std::string text;
          if (next.ok()) {
            text = EventStreamText(*next, s->options.api, resume);
          } else if (absl::IsDeadlineExceeded(next.status())) {
            // A comment now and then keeps proxies and clients from
            // timing the stream out.
            if (absl::Now() - *quiet_since < absl::Seconds(15)) return true;
            text = ": keep-alive\n\n";
          } else {
            // Fell behind, or the mesh closed: said once, then the end.
            text = absl::StrCat("event: error\ndata: ",
                                ErrorResponse(next.status()).body, "\n\n");
            sink.write(text.data(), text.size());
            sink.done();
            return false;
          }
          if (text.empty()) return true;
          *quiet_since = absl::Now();
          return sink.write(text.data(), text.size());
        },
        [s](bool) { --s->event_clients; });
  });
  if (!s->options.dashboard_dir.empty()) {
    const std::string& dir = s->options.dashboard_dir;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(dir + "/index.html", ec)) {
      return absl::NotFoundError(
          absl::StrCat("dashboard directory ", dir, " has no index.html"));
    }
    if (std::filesystem::is_directory(dir + "/node_modules", ec)) {
      s->http.set_mount_point("/vendor", dir + "/node_modules");
    }
    s->http.set_mount_point("/", dir);
  }
  s->http.Get("/metrics", [s](const httplib::Request&, httplib::Response& res) {
    res.set_content(
        MetricsText(*s->reader.Latest(),
                    {.event_clients = s->event_clients.load()}, s->options.api),
        "text/plain; version=0.0.4; charset=utf-8");
  });
  s->http.Get(
      R"(/api/.*)", [s](const httplib::Request& req, httplib::Response& res) {
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
    Reply(res,
          ErrorResponse(absl::UnimplementedError(absl::StrCat(
              req.method, " ", req.path, ": the API is read-only (GET)"))));
  };
  s->http.Post(R"(/.*)", refuse);
  s->http.Put(R"(/.*)", refuse);
  s->http.Delete(R"(/.*)", refuse);
  s->http.Patch(R"(/.*)", refuse);
  s->http.set_error_handler(
      [](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return;  // a handler's own answer
        Reply(res, ErrorResponse(absl::Status(
                       res.status == 404 ? absl::StatusCode::kNotFound
                                         : absl::StatusCode::kInvalidArgument,
                       absl::StrCat("no endpoint ", req.path, " (HTTP ",
                                    res.status, ")"))));
      });
  s->http.set_exception_handler([](const httplib::Request& req,
                                   httplib::Response& res, std::exception_ptr) {
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
  s->serving = std::thread([s] {
    s->http.listen_after_bind();
    s->listened = true;
  });
  // Running before Start returns: a stop() before the accept loop begins
  // would be lost, and Stop would wait forever.
  while (!s->http.is_running() && !s->listened) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return std::unique_ptr<MeshServer>(new MeshServer(std::move(state)));
}

MeshServer::MeshServer(std::unique_ptr<State> state)
    : state_(std::move(state)) {}

MeshServer::~MeshServer() { Stop(); }

int MeshServer::port() const { return state_->port; }

int MeshServer::event_clients() const { return state_->event_clients; }

void MeshServer::Stop() {
  state_->stopping = true;
  if (state_->serving.joinable()) {
    state_->http.stop();
    state_->serving.join();
  }
}

}  // namespace diffmesh
