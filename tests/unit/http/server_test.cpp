// grove_http over real sockets: requests, routing, bodies, limits, timeouts, listeners and
// shutdown. Streaming, gzip, hijacking and concurrency are in server_stream_test.cpp.

#include "http/server.hpp"

#include <atomic>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include "base/json.hpp"
#include "base/unique_fd.hpp"
#include "server_fixture.hpp"

namespace grove::http::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

Result<void> pong(Request&, ResponseWriter& w) {
    return w.send(Response::text(200, "pong"));
}

base::Json json_of(const std::string& text) {
    auto json = base::parse_json(text);
    EXPECT_TRUE(json.has_value()) << text;
    return json ? *json : base::Json();
}

TEST_F(ServerTest, KeepAliveReusesTheConnection) {
    Router router;
    router.get("/id", [](Request& req, ResponseWriter& w) {
        return w.send(Response::text(200, std::to_string(req.connection_id())));
    });
    start(router);
    CurlClient client(unix_target());
    const auto first = client.get("/id");
    const auto second = client.get("/id");
    ASSERT_EQ(first.status, 200) << first.error;
    ASSERT_EQ(second.status, 200) << second.error;
    EXPECT_EQ(first.body, second.body) << "both requests on one connection";
    EXPECT_EQ(first.new_connections, 1);
    EXPECT_EQ(second.new_connections, 0);
    EXPECT_EQ(first.headers.count("connection"), 0u) << "no Connection: close";
}

TEST_F(ServerTest, ServesTcpOnAnEphemeralPort) {
    Router router;
    router.get("/peer", [](Request& req, ResponseWriter& w) {
        return w.send(Response::text(200, req.peer().address));
    });
    start(router, {}, WithTcp::kYes);
    ASSERT_NE(tcp_port_, 0);
    CurlClient tcp(tcp_target());
    const auto over_tcp = tcp.get("/peer");
    EXPECT_EQ(over_tcp.status, 200) << over_tcp.error;
    EXPECT_TRUE(over_tcp.body.starts_with("127.0.0.1:")) << over_tcp.body;
    CurlClient local(unix_target());
    EXPECT_EQ(local.get("/peer").body, socket_path_.native());
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
    Router router;
    router.get("/echo", [](Request& req, ResponseWriter& w) {
        return w.send(Response::text(200, std::string(req.query().get("n").value_or(""))));
    });
    start(router);
    RawClient client = raw();
    ASSERT_TRUE(client
                    .send("GET /echo?n=1 HTTP/1.1\r\nHost: x\r\n\r\n"
                          "GET /echo?n=2 HTTP/1.1\r\nHost: x\r\n\r\n"
                          "GET /echo?n=3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .has_value());
    for (const char* expected : {"1", "2", "3"}) {
        auto response = client.read_response();
        ASSERT_TRUE(response.has_value()) << response.error().to_string();
        EXPECT_EQ(response->body, expected);
    }
    EXPECT_EQ(client.read_to_eof().value(), "") << "closed after Connection: close";
}

TEST_F(ServerTest, PathParametersAndQueryAreDecoded) {
    Router router;
    router.get("/v1/operations/{id}/events", [](Request& req, ResponseWriter& w) {
        std::string names;
        for (std::string_view name : req.query().get_all("names")) {
            names += std::string(name) + ",";
        }
        return w.send(Response::text(200, fmt::format("{}|{}|{}|{}", req.param("id").value_or("?"),
                                                      req.query().get("spid").value_or("-"),
                                                      req.query().get("q").value_or("-"), names)));
    });
    start(router);
    CurlClient client(unix_target());
    const auto r = client.get("/v1/operations/op%201/events?spid=2&q=a+b%26c&names=x&names=y%2Fz");
    EXPECT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.body, "op 1|2|a b&c|x,y/z,");
    EXPECT_EQ(client.get("/v1/operations/x/events?q=%zz").status, 400);
}

TEST_F(ServerTest, RoutersMountUnderAPrefix) {
    Router docker;
    docker.get("/containers/{id}/logs", [](Request& req, ResponseWriter& w) {
        return w.send(Response::text(200, fmt::format("{} {}", req.param("version").value_or("-"),
                                                      req.param("id").value_or("?"))));
    });
    Router contree;
    contree.get("/images", pong);
    Router root;
    root.mount("", docker).mount("/v{version}", docker).mount("/sandboxes/v1", contree);
    start(root);
    CurlClient client(unix_target());
    EXPECT_EQ(client.get("/v1.41/containers/c1/logs").body, "1.41 c1");
    EXPECT_EQ(client.get("/containers/c1/logs").body, "- c1");
    EXPECT_EQ(client.get("/sandboxes/v1/images").body, "pong");
}

TEST_F(ServerTest, UnknownRouteIs404AndWrongMethodIs405) {
    Router router;
    router.get("/ping", pong);
    start(router);
    CurlClient client(unix_target());
    const auto missing = client.get("/nope");
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(missing.header("content-type"), "application/json");
    const base::Json body = json_of(missing.body);
    EXPECT_EQ(body["status"], 404);
    EXPECT_EQ(body["error"], "no route for GET /nope");
    const auto wrong = client.request({.method = "DELETE", .path = "/ping"});
    EXPECT_EQ(wrong.status, 405);
    EXPECT_EQ(wrong.header("allow"), "GET, HEAD");
    EXPECT_EQ(json_of(wrong.body)["status"], 405);
    EXPECT_EQ(client.get("/ping").new_connections, 0) << "errors keep the connection";
}

TEST_F(ServerTest, ErrorHooksRenderServerAndHandlerErrors) {
    Router router(RouterOptions{
        .headers = {{"Api-Version", "1.41"}},
        .render_error =
            [](int status, std::string_view message) {
                return Response::json(status, base::Json{{"message", message}}.dump());
            },
        .render_handler_error =
            [](const Error& error) {
                return Response::json(error.code() == Code::kNotFound ? 404 : 500,
                                      base::Json{{"message", error.message()}}.dump());
            },
    });
    router.get("/images/{name...}/json", [](Request& req, ResponseWriter&) -> Result<void> {
        return Error(Code::kNotFound, "No such image: " + std::string(*req.param("name")));
    });
    router.get("/boom", [](Request&, ResponseWriter&) -> Result<void> {
        return Error(Code::kInternal, "boom");
    });
    start(router);
    CurlClient client(unix_target());
    const auto missing = client.get("/images/library/nope:1/json");
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(missing.body, R"({"message":"No such image: library/nope:1"})");
    EXPECT_EQ(missing.header("api-version"), "1.41");
    EXPECT_EQ(client.get("/boom").status, 500);
    const auto no_route = client.get("/nothing");
    EXPECT_EQ(no_route.status, 404);
    EXPECT_EQ(no_route.body, R"({"message":"no route for GET /nothing"})");
}

TEST_F(ServerTest, DefaultHandlerErrorIs500WithTheMessage) {
    Router router;
    router.get("/fail", [](Request&, ResponseWriter&) -> Result<void> {
        return Error(Code::kNotFound, "image 'x' not found");
    });
    router.get("/silent", [](Request&, ResponseWriter&) -> Result<void> { return {}; });
    start(router);
    CurlClient client(unix_target());
    const auto fail = client.get("/fail");
    EXPECT_EQ(fail.status, 500);
    EXPECT_EQ(json_of(fail.body)["error"], "image 'x' not found");
    EXPECT_EQ(client.get("/silent").status, 500) << "a handler must answer";
}

TEST_F(ServerTest, HeadGetsTheHeadOfGet) {
    Router router;
    router.get("/ping", pong);
    start(router);
    CurlClient client(unix_target());
    const auto head = client.request({.method = "HEAD", .path = "/ping"});
    EXPECT_EQ(head.curl_code, 0) << head.error;
    EXPECT_EQ(head.status, 200);
    EXPECT_EQ(head.header("content-length"), "4");
    EXPECT_EQ(head.body, "");
    EXPECT_EQ(client.get("/ping").body, "pong") << "the connection is still in sync";
}

Handler body_summary() {
    return [](Request& req, ResponseWriter& w) -> Result<void> {
        GROVE_ASSIGN_OR_RETURN(const std::string body, req.read_body_to_string());
        return w.send(
            Response::text(200, fmt::format("{} {} {}", body.size(),
                                            req.content_length().has_value(), body.substr(0, 8))));
    };
}

TEST_F(ServerTest, ReadsChunkedAndFixedLengthBodies) {
    Router router;
    router.post("/upload", body_summary());
    start(router);
    CurlClient client(unix_target());
    size_t sent = 0;
    const auto chunked = client.request({
        .method = "POST",
        .path = "/upload",
        .body_source =
            [&](char* buffer, size_t size) {
                const size_t n = std::min<size_t>({size, 7000, 300'000 - sent});
                for (size_t i = 0; i < n; ++i) {
                    buffer[i] = static_cast<char>('a' + (sent + i) % 26);
                }
                sent += n;
                return n;
            },
    });
    EXPECT_EQ(chunked.status, 200) << chunked.error;
    EXPECT_EQ(chunked.body, "300000 false abcdefgh");
    const auto fixed = client.request({.method = "POST", .path = "/upload", .body = "hello"});
    EXPECT_EQ(fixed.body, "5 true hello");
    EXPECT_EQ(fixed.new_connections, 0);
}

TEST_F(ServerTest, BodyOverTheLimitIs413) {
    std::atomic<int> calls{0};
    Router router(RouterOptions{.max_body_size = 100});
    router.post("/small", [&](Request& req, ResponseWriter& w) -> Result<void> {
        ++calls;
        GROVE_ASSIGN_OR_RETURN(const std::string body, req.read_body_to_string());
        return w.send(Response::text(200, std::to_string(body.size())));
    });
    router.post("/bigger", body_summary(), {.max_body_size = 2000});
    start(router);
    const auto stopper = stop_at_exit();
    {
        CurlClient client(unix_target());
        const auto r =
            client.request({.method = "POST", .path = "/small", .body = std::string(101, 'x')});
        EXPECT_EQ(r.status, 413);
        const base::Json body = json_of(r.body);
        EXPECT_EQ(body["status"], 413);
        EXPECT_EQ(body["error"], "request body of 101 bytes exceeds the limit of 100 bytes");
        EXPECT_EQ(r.header("connection"), "close");
        EXPECT_EQ(calls.load(), 0) << "rejected before the handler";
    }
    {
        CurlClient client(unix_target());
        EXPECT_EQ(
            client.request({.method = "POST", .path = "/bigger", .body = std::string(2000, 'y')})
                .status,
            200)
            << "the route's own limit";
    }
    {
        // Chunked: the limit is found while reading, and the server answers 413 whatever the
        // handler returns.
        RawClient client = raw();
        std::string request =
            "POST /small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
        for (int i = 0; i < 3; ++i) {
            request += "40\r\n" + std::string(64, 'z') + "\r\n";
        }
        request += "0\r\n\r\n";
        ASSERT_TRUE(client.send(request).has_value());
        auto response = client.read_response();
        ASSERT_TRUE(response.has_value()) << response.error().to_string();
        EXPECT_EQ(response->status, 413);
        EXPECT_EQ(json_of(response->body)["error"], "request body exceeds the limit of 100 bytes");
        EXPECT_EQ(calls.load(), 1);
    }
}

long max_rss_kib() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

unsigned char pattern_byte(uint64_t i) {
    return static_cast<unsigned char>((i * 131 + i / 65536) % 251);
}

TEST_F(ServerTest, StreamsA64MiBUploadToAFileWithoutBufferingIt) {
    constexpr uint64_t kSize = uint64_t{64} << 20;
    const std::filesystem::path target = dir_->path() / "upload.bin";
    Router router;
    router.post("/v1/files",
                [&](Request& req, ResponseWriter& w) -> Result<void> {
                    GROVE_ASSIGN_OR_RETURN(
                        base::UniqueFd fd,
                        base::UniqueFd::open(target, O_WRONLY | O_CREAT | O_TRUNC, 0644));
                    GROVE_ASSIGN_OR_RETURN(const uint64_t copied, req.copy_body_to(fd.get()));
                    return w.send(Response::text(201, std::to_string(copied)));
                },
                {.max_body_size = uint64_t{1} << 30});
    start(router);
    const auto stopper = stop_at_exit();
    const long rss_before = max_rss_kib();
    CurlClient client(unix_target());
    uint64_t sent = 0;
    // A known length over 1 MiB: curl sends Expect: 100-continue, which the first read answers.
    const auto r = client.request({
        .method = "POST",
        .path = "/v1/files",
        .body_source =
            [&](char* buffer, size_t size) {
                const size_t n = static_cast<size_t>(std::min<uint64_t>(size, kSize - sent));
                for (size_t i = 0; i < n; ++i) {
                    buffer[i] = static_cast<char>(pattern_byte(sent + i));
                }
                sent += n;
                return n;
            },
        .upload_size = kSize,
        .timeout = 60s,
    });
    ASSERT_EQ(r.status, 201) << r.error << r.body;
    EXPECT_EQ(r.body, std::to_string(kSize));
    const long grown_mib = (max_rss_kib() - rss_before) / 1024;
    EXPECT_LT(grown_mib, 24) << "the body must stream, not pile up in memory";

    std::ifstream in(target, std::ios::binary);
    std::vector<char> block(1 << 20);
    uint64_t offset = 0;
    while (in.read(block.data(), static_cast<std::streamsize>(block.size())) || in.gcount() > 0) {
        const auto n = static_cast<size_t>(in.gcount());
        for (size_t i = 0; i < n; ++i) {
            if (static_cast<unsigned char>(block[i]) != pattern_byte(offset + i)) {
                FAIL() << "byte " << offset + i << " differs";
            }
        }
        offset += n;
    }
    EXPECT_EQ(offset, kSize);
}

TEST_F(ServerTest, ExpectContinueIsAnsweredByTheFirstBodyRead) {
    Router router(RouterOptions{.max_body_size = 10});
    router.post("/upload", body_summary());
    start(router);
    RawClient client = raw();
    ASSERT_TRUE(client
                    .send("POST /upload HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                          "Content-Length: 5\r\n\r\n")
                    .has_value());
    ASSERT_TRUE(client.read_until("HTTP/1.1 100 Continue\r\n\r\n").has_value());
    ASSERT_TRUE(client.send("12345").has_value());
    auto response = client.read_response();
    ASSERT_TRUE(response.has_value()) << response.error().to_string();
    EXPECT_EQ(response->body, "5 true 12345");

    // Over the limit: 413 at once, and no 100 Continue.
    ASSERT_TRUE(client
                    .send("POST /upload HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                          "Content-Length: 50\r\n\r\n")
                    .has_value());
    auto all = client.read_to_eof();
    ASSERT_TRUE(all.has_value()) << all.error().to_string();
    EXPECT_TRUE(all->starts_with("HTTP/1.1 413 ")) << *all;
}

TEST_F(ServerTest, MalformedRequestsGet400AndAreClosed) {
    Router router;
    router.get("/ping", pong);
    router.post("/ping", pong);
    start(router);
    for (const char* request : {
             "GARBAGE\r\n\r\n",
             "GET /ping HTTP/9.9\r\nHost: x\r\n\r\n",
             "POST /ping HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
             "POST /ping HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
             "GET /ping HTTP/1.1\r\nBad Header\r\n\r\n",
         }) {
        RawClient client = raw();
        ASSERT_TRUE(client.send(request).has_value());
        auto all = client.read_to_eof();
        ASSERT_TRUE(all.has_value()) << request << ": " << all.error().to_string();
        auto response = parse_response(*all);
        ASSERT_TRUE(response.has_value()) << request << ": " << *all;
        EXPECT_EQ(response->status, 400) << request;
        EXPECT_EQ(response->header("connection"), "close");
        EXPECT_EQ(json_of(response->body)["status"], 400);
    }
}

TEST_F(ServerTest, OversizedHeaderIs431) {
    Router router;
    router.get("/ping", pong);
    start(router, {.max_header_size = 1024});
    RawClient client = raw();
    ASSERT_TRUE(
        client
            .send("GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n")
            .has_value());
    auto all = client.read_to_eof();
    ASSERT_TRUE(all.has_value());
    EXPECT_TRUE(all->starts_with("HTTP/1.1 431 ")) << *all;
}

TEST_F(ServerTest, SlowClientIsTimedOut) {
    Router router;
    router.get("/ping", pong);
    start(router, {.header_timeout = 300ms, .idle_timeout = 300ms});
    {
        // Slowloris: a header line every 50 ms never completes the header in time.
        RawClient client = raw();
        const auto started = Clock::now();
        ASSERT_TRUE(client.send("GET /ping HTTP/1.1\r\n").has_value());
        std::optional<std::string> head;
        for (int i = 0; i < 100 && !head; ++i) {
            if (!client.send("X-Slow: 1\r\n")) {
                break;
            }
            if (auto got = client.read_until("\r\n\r\n", 50ms)) {
                head = *got;
            }
        }
        if (!head) {
            auto rest = client.read_until("\r\n\r\n", 2s);
            ASSERT_TRUE(rest.has_value()) << rest.error().to_string();
            head = *rest;
        }
        EXPECT_TRUE(head->starts_with("HTTP/1.1 408 ")) << *head;
        EXPECT_LT(Clock::now() - started, 2s);
    }
    {
        // A connection that never sends anything is closed after the idle timeout.
        RawClient client = raw();
        const auto started = Clock::now();
        EXPECT_EQ(client.read_to_eof(5s).value(), "");
        EXPECT_LT(Clock::now() - started, 2s);
    }
}

TEST_F(ServerTest, UnixPeerCredentialsReachTheHandler) {
    Router router;
    router.get("/whoami", [](Request& req, ResponseWriter& w) {
        const auto& creds = req.peer().credentials;
        return w.send(Response::text(
            200, creds ? fmt::format("{} {}", creds->uid, creds->pid) : std::string("none")));
    });
    start(router, {}, WithTcp::kYes);
    CurlClient local(unix_target());
    EXPECT_EQ(local.get("/whoami").body, fmt::format("{} {}", ::getuid(), ::getpid()));
    CurlClient tcp(tcp_target());
    EXPECT_EQ(tcp.get("/whoami").body, "none");
}

// A socket file left by a server that died: bound, then closed without unlinking.
void make_stale_socket(const std::filesystem::path& path) {
    std::filesystem::create_directories(path.parent_path());
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);  // NOLINT
    ::close(fd);
}

TEST_F(ServerTest, StaleSocketFileIsReplacedAndRemovedAtShutdown) {
    make_stale_socket(socket_path_);
    ASSERT_TRUE(std::filesystem::is_socket(socket_path_));
    Router router;
    router.get("/ping", pong);
    start(router);
    struct stat st {};
    ASSERT_EQ(::stat(socket_path_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0660u);
    EXPECT_EQ(CurlClient(unix_target()).get("/ping").body, "pong");
    server_->shutdown(1s);
    EXPECT_FALSE(std::filesystem::exists(socket_path_));
}

TEST_F(ServerTest, SocketInUseOrNotASocketIsNotTaken) {
    Router router;
    router.get("/ping", pong);
    start(router);
    Server second({}, base::Logger::stderr_text(base::LogLevel::kOff));
    auto taken = second.listen_unix({.path = socket_path_}, router);
    ASSERT_FALSE(taken.has_value());
    EXPECT_EQ(taken.error().code(), Code::kAlreadyExists);
    EXPECT_EQ(CurlClient(unix_target()).get("/ping").body, "pong") << "the first server serves on";

    const auto file = dir_->path() / "file";
    std::ofstream(file) << "data";
    auto not_socket = second.listen_unix({.path = file, .mode = 0600}, router);
    ASSERT_FALSE(not_socket.has_value());
    EXPECT_EQ(not_socket.error().code(), Code::kFailedPrecondition);
    EXPECT_TRUE(std::filesystem::is_regular_file(file));

    auto own =
        second.listen_unix({.path = dir_->path() / "a" / "b" / "own.sock", .mode = 0600}, router);
    ASSERT_TRUE(own.has_value()) << own.error().to_string();
    struct stat st {};
    ASSERT_EQ(::stat(own->address.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_FALSE(Router().get("bad", pong).validate().has_value());
    EXPECT_FALSE(second.listen_unix({.path = dir_->path() / "x.sock"}, Router().get("bad", pong))
                     .has_value());
}

TEST_F(ServerTest, GracefulShutdownWaitsForAnInFlightRequest) {
    Gate entered;
    Gate release;
    Router router;
    router.get("/slow", [&](Request&, ResponseWriter& w) {
        entered.open();
        release.wait();
        return w.send(Response::text(200, "done"));
    });
    start(router);
    CurlResponse result;
    std::thread client([&] { result = CurlClient(unix_target()).get("/slow"); });
    ASSERT_TRUE(entered.wait());
    std::atomic<bool> stopped{false};
    std::thread stopper([&] {
        server_->shutdown(10s);
        stopped = true;
    });
    // Accepting stops at once: the socket file goes away and connecting fails.
    EXPECT_TRUE(eventually([&] { return !std::filesystem::exists(socket_path_); }));
    EXPECT_FALSE(RawClient::connect(unix_target()).has_value());
    EXPECT_FALSE(stopped.load()) << "shutdown waits for the request in flight";
    release.open();
    client.join();
    stopper.join();
    EXPECT_TRUE(stopped.load());
    EXPECT_EQ(result.status, 200) << result.error;
    EXPECT_EQ(result.body, "done");
    EXPECT_EQ(result.header("connection"), "close");
}

TEST_F(ServerTest, ShutdownCancelsHandlersAfterTheGracePeriod) {
    Gate entered;
    std::atomic<bool> saw_stop{false};
    Router router;
    router.get("/wait", [&](Request& req, ResponseWriter& w) -> Result<void> {
        entered.open();
        Gate stop;
        const std::stop_callback on_stop(req.stop_token(), [&] { stop.open(); });
        if (!stop.wait(20s)) {
            return w.send(Response::text(200, "never cancelled"));
        }
        saw_stop = true;
        return Error(Code::kCancelled, "cancelled");
    });
    start(router);
    std::thread client([&] { CurlClient(unix_target()).get("/wait"); });
    ASSERT_TRUE(entered.wait());
    const auto started = Clock::now();
    server_->shutdown(100ms);
    EXPECT_LT(Clock::now() - started, 5s);
    EXPECT_TRUE(saw_stop.load());
    client.join();
}

TEST_F(ServerTest, RequestsAreLoggedAtDebugLevel) {
    auto out = std::make_shared<std::ostringstream>();
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*out);
    Router router;
    router.get("/ping", pong);
    server_ = std::make_unique<Server>(
        ServerOptions{}, base::Logger(sink, base::LogFormat::kText, base::LogLevel::kDebug));
    ASSERT_TRUE(server_->listen_unix({.path = socket_path_}, router).has_value());
    ASSERT_TRUE(server_->start().has_value());
    CurlClient client(unix_target());
    EXPECT_EQ(client.get("/ping?x=1").status, 200);
    EXPECT_EQ(client.get("/nope").status, 404);
    server_.reset();  // the sink refers to `out`
    const std::string log = out->str();
    EXPECT_NE(log.find("http request method=GET path=/ping status=200 duration_ms="),
              std::string::npos)
        << log;
    EXPECT_NE(log.find("path=/nope status=404"), std::string::npos) << log;
}

}  // namespace
}  // namespace grove::http::testing
