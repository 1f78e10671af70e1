#pragma once

// GrovedFixture starts the real groved binary on a temporary root with the busybox test image
// imported, listening on a unix socket and on a TCP port with a token file (and serving the Docker
// API on a unix socket of its own), and talks to it with libcurl. Tests may kill it (-9 or TERM)
// and start it again on the same root.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/child_process.hpp"
#include "base/json.hpp"
#include "base/temp_dir.hpp"
#include "unit/http/test_client.hpp"

namespace grove::testing {

inline constexpr const char* kTestToken = "grove-test-token";

struct SseFrame {
    std::string id;
    std::string event;
    std::string data;
};

// Parses a complete SSE body into its frames (comments skipped).
std::vector<SseFrame> parse_sse(std::string_view body);

class GrovedFixture : public ::testing::Test {
protected:
    void SetUp() override;
    void TearDown() override;

    // Starts groved (again) on the same root with the fixture's flags plus `extra`.
    void start_daemon(const std::vector<std::string>& extra = {});
    // Sends `sig` and waits for groved to exit; returns its exit status.
    base::ExitStatus stop_daemon(int sig);

    // A request over the unix socket, as root (trusted without a token).
    http::testing::CurlResponse call(http::testing::CurlRequest request);
    // A request over TCP with `token` (none when empty).
    http::testing::CurlResponse call_tcp(http::testing::CurlRequest request,
                                         const std::string& token = kTestToken);
    base::Json json(const http::testing::CurlResponse& response);

    // POST /v1/instances with `body`; the operation's uuid.
    std::string spawn(const std::string& body);
    // Follows the events of `uuid` until the completion.
    std::vector<SseFrame> follow(const std::string& uuid);
    // GET /v1/operations/{uuid}.
    base::Json operation(const std::string& uuid);
    // Polls the operation until its status is `status`.
    bool wait_status(const std::string& uuid, const std::string& status);

    // Runs a client script to completion (5 minutes at most) and expects it to succeed and to
    // print `marker`; on failure, shows its output and groved's log.
    void expect_flow(const std::vector<std::string>& argv, const std::string& marker);

    std::filesystem::path root() const { return dir_->path() / "root"; }
    std::filesystem::path socket() const { return dir_->path() / "grove.sock"; }
    std::filesystem::path docker_socket() const { return dir_->path() / "docker.sock"; }
    std::string log() const;

    std::optional<base::TempDir> dir_;
    std::optional<base::ChildProcess> daemon_;
    std::string busybox_;  // the busybox image's uuid, tagged "busybox"
    uint16_t port_ = 0;
};

}  // namespace grove::testing
