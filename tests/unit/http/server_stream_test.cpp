// grove_http streaming: SSE frames arriving live, gzip negotiated and flushed per frame, clients
// going away mid-stream, hijacked connections, and many concurrent streams.

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <zlib.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "http/server.hpp"
#include "http/sse.hpp"
#include "server_fixture.hpp"

namespace grove::http::testing {
namespace {

using namespace std::chrono_literals;

// An SSE handler that sends one event, waits for the client to confirm it arrived, then ends.
Handler two_frame_sse(Gate& first_seen) {
    return [&first_seen](Request&, ResponseWriter& w) -> Result<void> {
        SseStream sse(w);
        GROVE_TRY(sse.start());
        GROVE_TRY(sse.send({.id = "0", .event = "init", .data = R"({"id":0})"}));
        if (!first_seen.wait()) {
            return Error(Code::kDeadlineExceeded, "the first frame never reached the client");
        }
        GROVE_TRY(sse.keepalive());
        GROVE_TRY(sse.send({.id = "1", .event = "completion", .data = R"({"id":1})"}));
        return {};  // the server ends the stream
    };
}

TEST_F(ServerTest, SseFramesArriveBeforeTheHandlerEnds) {
    Gate first_seen;
    Router router;
    router.get("/v1/operations/{id}/events", two_frame_sse(first_seen));
    start(router);
    const auto stopper = stop_at_exit();
    RawClient client = raw();
    ASSERT_TRUE(client
                    .send("GET /v1/operations/o1/events?follow=1 HTTP/1.1\r\nHost: x\r\n"
                          "Accept: text/event-stream\r\n\r\n")
                    .has_value());
    auto head = client.read_until("\r\n\r\n");
    ASSERT_TRUE(head.has_value()) << head.error().to_string();
    EXPECT_TRUE(head->starts_with("HTTP/1.1 200 OK\r\n")) << *head;
    EXPECT_NE(head->find("Content-Type: text/event-stream\r\n"), std::string::npos);
    EXPECT_NE(head->find("Cache-Control: no-cache\r\n"), std::string::npos);
    EXPECT_NE(head->find("Transfer-Encoding: chunked\r\n"), std::string::npos);
    // The handler is blocked until we have seen the first frame: it cannot be buffered.
    auto first = client.read_until("id: 0\nevent: init\ndata: {\"id\":0}\n\n");
    ASSERT_TRUE(first.has_value()) << first.error().to_string();
    first_seen.open();
    auto rest = client.read_until("\r\n0\r\n\r\n");
    ASSERT_TRUE(rest.has_value()) << rest.error().to_string();
    EXPECT_NE(rest->find(": keepalive\n\n"), std::string::npos);
    EXPECT_NE(rest->find("id: 1\nevent: completion\ndata: {\"id\":1}\n\n"), std::string::npos);
}

TEST_F(ServerTest, DockerWaitStyleHeadIsSentBeforeAnyBody) {
    Gate release;
    Router router;
    router.post("/containers/{id}/wait", [&](Request&, ResponseWriter& w) -> Result<void> {
        GROVE_TRY(w.start({.headers = {{"Content-Type", "application/json"}}}));
        release.wait();
        return w.write("{\"Error\":null,\"StatusCode\":0}\n");
    });
    start(router);
    const auto stopper = stop_at_exit();
    RawClient client = raw();
    ASSERT_TRUE(client
                    .send("POST /v1.41/containers/c/wait HTTP/1.1\r\nHost: x\r\n"
                          "Content-Length: 0\r\n\r\n")
                    .has_value());
    // Not mounted under /v{version}: a 404 proves the head is flushed too, but use the real path.
    auto not_found = client.read_response();
    ASSERT_TRUE(not_found.has_value());
    EXPECT_EQ(not_found->status, 404);
    ASSERT_TRUE(client
                    .send("POST /containers/c/wait HTTP/1.1\r\nHost: x\r\n"
                          "Content-Length: 0\r\n\r\n")
                    .has_value());
    auto head = client.read_until("\r\n\r\n");
    ASSERT_TRUE(head.has_value()) << head.error().to_string();
    EXPECT_TRUE(head->starts_with("HTTP/1.1 200 OK\r\n"));
    release.open();
    auto body = client.read_until("0\r\n\r\n");
    ASSERT_TRUE(body.has_value());
    EXPECT_NE(body->find("{\"Error\":null,\"StatusCode\":0}\n"), std::string::npos);
}

Router gzip_router() {
    Router router(RouterOptions{.compression = Compression::kGzipIfAccepted});
    router.get("/big", [](Request&, ResponseWriter& w) {
        std::string body = "[";
        for (int i = 0; i < 2000; ++i) {
            body += fmt::format("{}{{\"id\":{}}}", i > 0 ? "," : "", i);
        }
        return w.send(Response::json(200, body + "]"));
    });
    router.get("/never", [](Request&, ResponseWriter& w) {
        return w.send(Response{.body = "plain", .compression = Compression::kNone});
    });
    return router;
}

TEST_F(ServerTest, GzipOnlyWhenTheClientAcceptsIt) {
    start(gzip_router());
    CurlClient client(unix_target());
    const auto plain = client.get("/big");
    ASSERT_EQ(plain.status, 200);
    EXPECT_EQ(plain.headers.count("content-encoding"), 0u);
    EXPECT_EQ(plain.header("vary"), "Accept-Encoding");
    EXPECT_TRUE(plain.body.starts_with("[{\"id\":0},"));

    const auto gzipped = client.request({.path = "/big", .headers = {"Accept-Encoding: gzip"}});
    ASSERT_EQ(gzipped.status, 200);
    EXPECT_EQ(gzipped.header("content-encoding"), "gzip");
    EXPECT_EQ(gzipped.header("content-length"), std::to_string(gzipped.body.size()));
    EXPECT_LT(gzipped.body.size(), plain.body.size() / 2);
    auto decoded = gunzip(gzipped.body);
    ASSERT_TRUE(decoded.has_value()) << decoded.error().to_string();
    EXPECT_EQ(*decoded, plain.body);

    for (const char* refuses : {"Accept-Encoding: gzip;q=0, identity", "Accept-Encoding: br",
                                "Accept-Encoding: identity"}) {
        EXPECT_EQ(client.request({.path = "/big", .headers = {refuses}})
                      .headers.count("content-encoding"),
                  0u)
            << refuses;
    }
    EXPECT_EQ(client.request({.path = "/big", .headers = {"Accept-Encoding: deflate, *;q=0.5"}})
                  .header("content-encoding"),
              "gzip");
    const auto never = client.request({.path = "/never", .headers = {"Accept-Encoding: gzip"}});
    EXPECT_EQ(never.body, "plain");
    EXPECT_EQ(never.headers.count("content-encoding"), 0u);

    // Errors are compressed like everything else.
    const auto missing = client.request({.path = "/missing", .headers = {"Accept-Encoding: gzip"}});
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(missing.header("content-encoding"), "gzip");
    EXPECT_EQ(gunzip(missing.body).value(),
              R"({"error":"no route for GET /missing","status":404})");
}

TEST_F(ServerTest, GzipStreamIsLiveAndEndsWithAValidTrailer) {
    Gate first_seen;
    Router router(RouterOptions{.compression = Compression::kGzipIfAccepted});
    router.get("/events", two_frame_sse(first_seen));
    start(router, {}, WithTcp::kYes);
    const auto stopper = stop_at_exit();
    CurlClient client(tcp_target());
    z_stream zs{};
    ASSERT_EQ(inflateInit2(&zs, 15 + 16), Z_OK);
    std::string raw_body;
    std::string decoded;
    const auto r = client.request({
        .path = "/events",
        .headers = {"Accept-Encoding: gzip", "Accept: text/event-stream"},
        .on_data =
            [&](std::string_view data) {
                raw_body.append(data);
                zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));  // NOLINT
                zs.avail_in = static_cast<uInt>(data.size());
                char out[4096];
                do {
                    zs.next_out = reinterpret_cast<Bytef*>(out);  // NOLINT
                    zs.avail_out = sizeof(out);
                    const int rc = inflate(&zs, Z_SYNC_FLUSH);
                    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
                        return false;
                    }
                    decoded.append(out, sizeof(out) - zs.avail_out);
                } while (zs.avail_out == 0);
                // Everything deflated so far decodes: the first frame is readable while the
                // handler still waits for this very signal.
                if (decoded.find("data: {\"id\":0}\n\n") != std::string::npos) {
                    first_seen.open();
                }
                return true;
            },
    });
    inflateEnd(&zs);
    ASSERT_EQ(r.curl_code, 0) << r.error;
    EXPECT_EQ(r.header("content-encoding"), "gzip");
    EXPECT_EQ(r.header("transfer-encoding"), "chunked");
    EXPECT_TRUE(first_seen.is_open());
    auto whole = gunzip(raw_body);
    ASSERT_TRUE(whole.has_value()) << whole.error().to_string();
    EXPECT_EQ(*whole, decoded);
    EXPECT_EQ(*whole,
              "id: 0\nevent: init\ndata: {\"id\":0}\n\n: keepalive\n\n"
              "id: 1\nevent: completion\ndata: {\"id\":1}\n\n");
}

TEST_F(ServerTest, HandlerSeesTheClientGoAwayMidStream) {
    Gate done;
    std::atomic<bool> stop_requested{false};
    std::atomic<int> frames{0};
    Router router;
    router.get("/logs", [&](Request& req, ResponseWriter& w) -> Result<void> {
        GROVE_TRY(w.start({.headers = {{"Content-Type", "text/plain"}}}));
        std::mutex mu;
        std::condition_variable_any cv;
        for (;;) {
            auto written = w.write(std::string(512, 'x') + "\n");
            if (!written || req.stop_token().stop_requested()) {
                stop_requested = req.stop_token().stop_requested();
                done.open();
                return written ? Result<void>(Error(Code::kCancelled, "client went away"))
                               : written;
            }
            ++frames;
            std::unique_lock lock(mu);
            cv.wait_for(lock, req.stop_token(), 2ms, [] { return false; });
        }
    });
    start(router);
    const auto stopper = stop_at_exit();
    {
        RawClient client = raw();
        ASSERT_TRUE(client.send("GET /logs HTTP/1.1\r\nHost: x\r\n\r\n").has_value());
        ASSERT_TRUE(client.read_until("x\n").has_value());
    }  // closed mid-stream
    ASSERT_TRUE(done.wait()) << "the handler never noticed";
    EXPECT_TRUE(stop_requested.load());
    EXPECT_TRUE(eventually([&] { return server_->active_connections() == 0; }));
}

TEST_F(ServerTest, IdleHandlerIsCancelledWhenTheClientCloses) {
    struct Probe {
        Gate started;
        Gate stopped;
    };
    std::array<Probe, 2> probes;
    Router router;
    router.get("/wait/{n}", [&](Request& req, ResponseWriter& w) -> Result<void> {
        Probe& probe = probes.at(std::stoul(std::string(*req.param("n"))));
        GROVE_TRY(w.start({}));
        probe.started.open();
        // Writes nothing (docker wait before the container exits): only the hangup monitor can
        // tell that the client left.
        const std::stop_callback on_stop(req.stop_token(), [&] { probe.stopped.open(); });
        probe.stopped.wait(20s);
        return {};
    });
    start(router, {}, WithTcp::kYes);
    const auto stopper = stop_at_exit();
    const std::array<Target, 2> targets{unix_target(), tcp_target()};
    for (size_t i = 0; i < targets.size(); ++i) {
        {
            auto client = RawClient::connect(targets[i]);
            ASSERT_TRUE(client.has_value());
            ASSERT_TRUE(client->send(fmt::format("GET /wait/{} HTTP/1.1\r\nHost: x\r\n\r\n", i))
                            .has_value());
            ASSERT_TRUE(client->read_until("\r\n\r\n").has_value());
            ASSERT_TRUE(probes[i].started.wait());
        }  // closed
        EXPECT_TRUE(probes[i].stopped.wait(5s)) << "the handler was not told, target " << i;
    }
}

// Docker's exec start: read the JSON body, answer 101 (or the old-style 200), then echo stdin
// upper-cased until the client half-closes, then say goodbye.
Result<void> exec_start(Request& req, ResponseWriter& w) {
    GROVE_ASSIGN_OR_RETURN(const std::string body, req.read_body_to_string());
    const bool upgrade = req.wants_upgrade("tcp");
    HijackHead head{.status = upgrade ? 101 : 200,
                    .reason = upgrade ? "UPGRADED" : "",
                    .headers = {{"Content-Type", "application/vnd.docker.raw-stream"}}};
    if (upgrade) {
        head.headers.add("Connection", "Upgrade");
        head.headers.add("Upgrade", "tcp");
    }
    GROVE_ASSIGN_OR_RETURN(RawStream stream, w.hijack(std::move(head)));
    GROVE_TRY(stream.write("hello " + body + "\n"));
    std::array<char, 4096> buffer{};
    for (;;) {
        GROVE_ASSIGN_OR_RETURN(const size_t n, stream.read(buffer));
        if (n == 0) {
            break;  // stdin closed; output may still flow
        }
        std::string upper(buffer.data(), n);
        for (char& c : upper) {
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
        GROVE_TRY(stream.write(upper));
    }
    return stream.write("bye\n");
}

TEST_F(ServerTest, HijackedConnectionCarriesRawBytesBothWays) {
    Router router;
    router.post("/exec/{id}/start", exec_start);
    start(router);
    RawClient client = raw();
    // The client's first stdin bytes come right behind the request, in the same packet.
    ASSERT_TRUE(client
                    .send("POST /exec/e1/start HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
                          "Upgrade: tcp\r\nContent-Type: application/json\r\n"
                          "Content-Length: 16\r\n\r\n{\"Detach\":false}early ")
                    .has_value());
    auto head = client.read_until("\r\n\r\n");
    ASSERT_TRUE(head.has_value()) << head.error().to_string();
    EXPECT_EQ(*head,
              "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
              "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n");
    ASSERT_TRUE(client.read_until("hello {\"Detach\":false}\n").has_value());
    ASSERT_TRUE(client.read_until("EARLY ").has_value());
    ASSERT_TRUE(client.send("ping").has_value());
    ASSERT_TRUE(client.read_until("PING").has_value());
    client.shutdown_write();  // stdin EOF; the server keeps sending
    auto rest = client.read_to_eof();
    ASSERT_TRUE(rest.has_value()) << rest.error().to_string();
    EXPECT_EQ(*rest, "bye\n");
}

TEST_F(ServerTest, OldStyleHijackAnswers200AndClosesAtTheEnd) {
    Router router;
    router.post("/containers/{id}/attach", exec_start);
    start(router, {}, WithTcp::kYes);
    auto client = RawClient::connect(tcp_target());
    ASSERT_TRUE(client.has_value());
    ASSERT_TRUE(client
                    ->send("POST /containers/c/attach?stream=1&stdin=1 HTTP/1.1\r\nHost: x\r\n"
                           "Content-Length: 0\r\n\r\n")
                    .has_value());
    auto head = client->read_until("\r\n\r\n");
    ASSERT_TRUE(head.has_value());
    EXPECT_EQ(*head, "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n");
    ASSERT_TRUE(client->read_until("hello \n").has_value());
    ASSERT_TRUE(client->send("abc").has_value());
    ASSERT_TRUE(client->read_until("ABC").has_value());
    client->shutdown_write();
    EXPECT_EQ(client->read_to_eof().value(), "bye\n");
}

// Holds every stream open until `count` handlers run at once, then lets them finish.
struct Rendezvous {
    explicit Rendezvous(int n) : count(n) {}
    Result<void> operator()(ResponseWriter& w) {
        GROVE_TRY(w.start({.headers = {{"Content-Type", "text/plain"}}}));
        GROVE_TRY(w.write("started\n"));
        {
            std::unique_lock lock(mu);
            ++inside;
            cv.notify_all();
            if (!cv.wait_for(lock, 30s, [&] { return inside >= count || released; })) {
                return Error(Code::kDeadlineExceeded, "not everyone arrived");
            }
        }
        return w.write("all in\n");
    }
    void release() {
        {
            const std::lock_guard lock(mu);
            released = true;
        }
        cv.notify_all();
    }

    const int count;
    std::mutex mu;
    std::condition_variable cv;
    int inside = 0;
    bool released = false;
};

TEST_F(ServerTest, ServesManyConcurrentStreams) {
    constexpr int kStreams = 150;
    Rendezvous rendezvous(kStreams);
    Router router;
    router.get("/v1/operations/{id}/events",
               [&](Request&, ResponseWriter& w) { return rendezvous(w); });
    start(router, {.max_connections = 200});
    const auto stopper = stop_at_exit();
    std::vector<RawClient> clients;
    for (int i = 0; i < kStreams; ++i) {
        clients.push_back(raw());
        ASSERT_TRUE(clients.back()
                        .send(fmt::format("GET /v1/operations/op{}/events HTTP/1.1\r\nHost: x\r\n"
                                          "Connection: close\r\n\r\n",
                                          i))
                        .has_value());
    }
    for (RawClient& client : clients) {
        ASSERT_TRUE(client.read_until("started\n", 30s).has_value());
    }
    for (RawClient& client : clients) {
        auto rest = client.read_to_eof(30s);
        ASSERT_TRUE(rest.has_value()) << rest.error().to_string();
        EXPECT_NE(rest->find("all in\n"), std::string::npos);
        EXPECT_TRUE(rest->ends_with("\r\n0\r\n\r\n"));
    }
    EXPECT_TRUE(eventually([&] { return server_->active_connections() == 0; }));
}

TEST_F(ServerTest, ConnectionsPastTheLimitGet503) {
    Rendezvous rendezvous(1000);  // never all in: the streams stay open until released
    Router router;
    router.get("/stream", [&](Request&, ResponseWriter& w) { return rendezvous(w); });
    start(router, {.max_connections = 2});
    const auto stopper = stop_at_exit();
    std::vector<RawClient> held;
    for (int i = 0; i < 2; ++i) {
        held.push_back(raw());
        ASSERT_TRUE(held.back().send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n").has_value());
        ASSERT_TRUE(held.back().read_until("started\n").has_value());
    }
    EXPECT_EQ(server_->active_connections(), 2u);
    RawClient refused = raw();
    ASSERT_TRUE(refused.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n").has_value());
    auto all = refused.read_to_eof();
    ASSERT_TRUE(all.has_value()) << all.error().to_string();
    auto response = parse_response(*all);
    ASSERT_TRUE(response.has_value()) << *all;
    EXPECT_EQ(response->status, 503);
    EXPECT_EQ(response->header("connection"), "close");
    EXPECT_EQ(response->body, R"({"error":"too many connections; retry later","status":503})");

    rendezvous.release();
    held.clear();
    EXPECT_TRUE(eventually([&] { return server_->active_connections() == 0; }));
    RawClient later = raw();
    ASSERT_TRUE(later.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n").has_value());
    EXPECT_TRUE(later.read_until("all in\n").has_value()) << "served again below the limit";
}

}  // namespace
}  // namespace grove::http::testing
