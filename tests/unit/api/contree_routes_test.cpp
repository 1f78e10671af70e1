// The ConTree routes on a real HTTP server over a unix socket, with the daemon's services on a
// temporary root and an executor that blocks until released (tests/unit/daemon/gate_executor.hpp),
// so HTTP behaviour (auth, statuses, bodies, keep-alive, limits, SSE keep-alives) is tested
// without root. Real runs are in tests/integration/groved_test.cpp.

#include <thread>

#include <gtest/gtest.h>

#include "api/contree_api.hpp"
#include "base/temp_dir.hpp"
#include "http/server.hpp"
#include "unit/daemon/gate_executor.hpp"
#include "unit/http/test_client.hpp"

namespace grove::api {
namespace {

using http::testing::CurlClient;
using http::testing::CurlRequest;
using http::testing::CurlResponse;

constexpr const char* kAuth = "Authorization: Bearer secret";

class ContreeRoutesTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto dir = base::TempDir::create("grove-api-");
        ASSERT_TRUE(dir);
        dir_.emplace(std::move(dir).value());
        const auto log = base::Logger::stderr_text(base::LogLevel::kWarn);
        auto images = image::ImageStore::open(dir_->path() / "root", log);
        ASSERT_TRUE(images) << images.error().to_string();
        images_ = std::move(images).value();
        auto state = daemon::StateDb::open(images_->paths().root);
        ASSERT_TRUE(state);
        state_ = std::move(state).value();
        auto files = daemon::Files::open(images_->paths().root / "files", *state_);
        ASSERT_TRUE(files);
        files_ = std::move(files).value();
        auto gate = std::make_unique<daemon::testing::GateExecutor>();
        gate_ = gate.get();
        operations_.emplace(*state_, *images_, *files_,
                            std::make_unique<daemon::testing::GateExecutor>(), std::move(gate),
                            daemon::OperationsOptions{.workers = 1, .max_pending = 1}, log);
        auth_.emplace(AuthOptions{.tokens = {"secret"}, .trust_local_root = false});
        server_.emplace(http::ServerOptions{}, log);
        const ContreeServices services{*images_, *operations_, *files_, *auth_};
        auto listener = server_->listen_unix(
            {.path = dir_->path() / "api.sock"},
            contree_router(services, {.prefixes = {"/sandboxes"},
                                      .max_upload_bytes = 1024,
                                      .max_json_body = 4096,
                                      .sse_keepalive = std::chrono::milliseconds(50)}));
        ASSERT_TRUE(listener) << listener.error().to_string();
        ASSERT_TRUE(server_->start());
    }

    void TearDown() override {
        if (gate_ != nullptr) {
            gate_->release();
        }
        if (server_) {
            server_->shutdown(std::chrono::milliseconds(0));
        }
    }

    http::testing::Target target() const { return {.unix_path = (dir_->path() / "api.sock")}; }

    CurlResponse call(CurlRequest request) {
        request.headers.emplace_back(kAuth);
        return CurlClient(target()).request(request);
    }

    static base::Json json(const CurlResponse& response) {
        auto parsed = base::parse_json(response.body);
        EXPECT_TRUE(parsed) << response.status << " " << response.body;
        return parsed.value_or(base::Json());
    }

    std::string import() {
        const auto response = call({.method = "POST",
                                    .path = "/v1/images/import",
                                    .body = R"({"registry": {"url": "example.com/a:1"}})"});
        EXPECT_EQ(response.status, 201) << response.body;
        return json(response).value("uuid", "");
    }

    std::optional<base::TempDir> dir_;
    std::unique_ptr<image::ImageStore> images_;
    std::unique_ptr<daemon::StateDb> state_;
    std::unique_ptr<daemon::Files> files_;
    std::optional<daemon::Operations> operations_;
    daemon::testing::GateExecutor* gate_ = nullptr;
    std::optional<Authenticator> auth_;
    std::optional<http::Server> server_;
};

TEST_F(ContreeRoutesTest, EveryRouteNeedsAToken) {
    auto response = CurlClient(target()).request({.path = "/v1/images"});
    EXPECT_EQ(response.status, 401);
    EXPECT_EQ(json(response)["status"], 401);
    EXPECT_EQ(json(response)["code"], "unauthenticated");
    EXPECT_EQ(call({.path = "/v1/images"}).status, 200);
    EXPECT_EQ(call({.path = "/sandboxes/v1/images"}).status, 200);
}

TEST_F(ContreeRoutesTest, UnknownPathsAndMethodsAreJsonErrors) {
    auto response = call({.path = "/v1/nothing"});
    EXPECT_EQ(response.status, 404);
    EXPECT_EQ(json(response)["error"], "no route for GET /v1/nothing");
    EXPECT_EQ(call({.method = "PUT", .path = "/v1/images"}).status, 405);
}

TEST_F(ContreeRoutesTest, ConnectionsAreKeptAlive) {
    CurlClient client(target());
    for (int i = 0; i < 3; ++i) {
        const auto response = client.request({.path = "/v1/whoami", .headers = {kAuth}});
        EXPECT_EQ(response.status, 200);
        EXPECT_EQ(response.new_connections, i == 0 ? 1 : 0);
    }
}

TEST_F(ContreeRoutesTest, BodiesPastTheirLimitAre413) {
    auto response = call({.method = "POST",
                          .path = "/v1/instances",
                          .body = R"({"command": ")" + std::string(5000, 'x') + R"("})"});
    EXPECT_EQ(response.status, 413);
    response = call({.method = "POST", .path = "/v1/files", .body = std::string(2000, 'x')});
    EXPECT_EQ(response.status, 413);
    response = call({.method = "POST", .path = "/v1/files", .body = std::string(1000, 'x')});
    EXPECT_EQ(response.status, 201) << "uploads have their own limit";
}

TEST_F(ContreeRoutesTest, OperationsQueueCancelAndRefuseWhenFull) {
    const auto running = import();
    ASSERT_TRUE(gate_->wait_started(1));
    const auto queued = import();
    auto full = call({.method = "POST",
                      .path = "/v1/images/import",
                      .body = R"({"registry": {"url": "example.com/a:1"}})"});
    EXPECT_EQ(full.status, 429);
    EXPECT_EQ(full.header("retry-after"), "1");
    EXPECT_EQ(json(call({.path = "/v1/operations"})).size(), 2u) << "nothing recorded for the 429";

    const auto pending = json(call({.path = "/v1/operations/" + queued}));
    EXPECT_EQ(pending["status"], "PENDING");
    EXPECT_EQ(pending["kind"], "image_import");
    EXPECT_EQ(pending["metadata"]["registry"]["url"], "example.com/a:1");
    EXPECT_EQ(call({.method = "DELETE", .path = "/v1/operations/" + queued}).status, 202);
    EXPECT_EQ(json(call({.path = "/v1/operations/" + queued}))["status"], "CANCELLED");
    EXPECT_EQ(call({.method = "DELETE", .path = "/v1/operations/" + queued}).status, 409);
    EXPECT_EQ(call({.path = "/v1/operations?status=BOGUS"}).status, 400);
    EXPECT_EQ(call({.path = "/v1/operations/" + running}).header("retry-after"), "1");
}

TEST_F(ContreeRoutesTest, AFollowedStreamKeepsAliveUntilTheCompletion) {
    const auto uuid = import();
    ASSERT_TRUE(gate_->wait_started(1));
    std::thread releaser([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        gate_->release();
    });
    const auto stream = call({.path = "/v1/operations/" + uuid + "/events?follow=1",
                              .timeout = std::chrono::seconds(30)});
    releaser.join();
    EXPECT_EQ(stream.status, 200);
    EXPECT_NE(stream.body.find(": keepalive\n\n"), std::string::npos) << stream.body;
    EXPECT_NE(stream.body.find("id: 0\nevent: init\n"), std::string::npos) << stream.body;
    EXPECT_TRUE(stream.body.ends_with("\n\n"));
    EXPECT_NE(stream.body.find("event: completion\n"), std::string::npos) << stream.body;

    EXPECT_EQ(call({.path = "/v1/operations/" + uuid + "/events?since=x"}).status, 400);
    EXPECT_EQ(call({.path = "/v1/operations/" + uuid + "/import"}).status, 200);
}

TEST_F(ContreeRoutesTest, SpawnValidatesBeforeRecording) {
    EXPECT_EQ(call({.method = "POST", .path = "/v1/instances", .body = "[]"}).status, 400);
    EXPECT_EQ(call({.method = "POST", .path = "/v1/instances", .body = R"({"image": "x"})"}).status,
              400);
    const auto missing = call({.method = "POST",
                               .path = "/v1/instances",
                               .body = R"({"command": "true", "image": "tag:missing"})"});
    EXPECT_EQ(missing.status, 404);
    EXPECT_TRUE(json(call({.path = "/v1/operations"})).empty());
}

TEST_F(ContreeRoutesTest, SubprocessRoutesNeedATokenAndAnInstance) {
    const std::string unknown = "/v1/operations/00000000-0000-4000-8000-000000000000";
    auto response = CurlClient(target()).request(
        {.method = "POST", .path = unknown + "/subprocesses", .body = R"({"command": "true"})"});
    EXPECT_EQ(response.status, 401);
    response =
        call({.method = "POST", .path = unknown + "/subprocesses", .body = R"({"command": "x"})"});
    EXPECT_EQ(response.status, 404) << response.body;
    EXPECT_EQ(json(response)["status"], 404);
    EXPECT_EQ(call({.path = unknown + "/subprocesses/2"}).status, 404);
    EXPECT_EQ(
        call({.method = "POST", .path = unknown + "/subprocesses/2/stdin", .body = "{}"}).status,
        404);
    EXPECT_EQ(
        call({.method = "POST", .path = unknown + "/subprocesses/2/kill", .body = "{}"}).status,
        404);
    // Bodies are checked before the operation.
    EXPECT_EQ(call({.method = "POST", .path = unknown + "/subprocesses", .body = "{}"}).status,
              400);
    EXPECT_EQ(call({.method = "POST",
                    .path = unknown + "/subprocesses/2/kill",
                    .body = R"({"signal": "NOPE"})"})
                  .status,
              400);

    // An import is no instance; its log has no processes.
    const auto uuid = import();
    ASSERT_TRUE(gate_->wait_started(1));
    const std::string import_path = "/v1/operations/" + uuid;
    EXPECT_EQ(call({.method = "POST",
                    .path = import_path + "/subprocesses",
                    .body = R"({"command": "true"})"})
                  .status,
              404);
    EXPECT_EQ(call({.path = import_path + "/subprocesses/1"}).status, 404);
    EXPECT_EQ(call({.path = "/sandboxes" + import_path + "/subprocesses/x"}).status, 404);
}

TEST_F(ContreeRoutesTest, InspectNeedsATagAndAnImage) {
    EXPECT_EQ(call({.path = "/v1/inspect/"}).status, 400);
    EXPECT_EQ(call({.path = "/v1/inspect/?tag=none"}).status, 404);
    EXPECT_EQ(call({.path = "/v1/inspect?tag=none"}).header("location"), "/v1/inspect/?tag=none");
    EXPECT_EQ(call({.path = "/sandboxes/v1/inspect?tag=x"}).header("location"),
              "/sandboxes/v1/inspect/?tag=x");
}

}  // namespace
}  // namespace grove::api
