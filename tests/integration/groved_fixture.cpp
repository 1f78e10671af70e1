#include "groved_fixture.hpp"

#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <thread>

#include "helpers/requirements.hpp"
#include "helpers/test_images.hpp"
#include "image/image_store.hpp"
#include "image/layout_source.hpp"

namespace grove::testing {
namespace {

using std::chrono::milliseconds;

// "serving the ConTree API" log lines name each listener; the TCP one carries the port.
std::optional<uint16_t> tcp_port(const std::string& log) {
    std::istringstream lines(log);
    std::string line;
    while (std::getline(lines, line)) {
        auto json = base::parse_json(line);
        if (!json || !json->is_object() || json->value("msg", "") != "serving the ConTree API") {
            continue;
        }
        const std::string address = json->value("address", "");
        if (address.starts_with("127.0.0.1:")) {
            return static_cast<uint16_t>(std::stoi(address.substr(10)));
        }
    }
    return std::nullopt;
}

}  // namespace

std::vector<SseFrame> parse_sse(std::string_view body) {
    std::vector<SseFrame> frames;
    SseFrame frame;
    bool any = false;
    size_t start = 0;
    while (start < body.size()) {
        size_t end = body.find('\n', start);
        if (end == std::string_view::npos) {
            end = body.size();
        }
        const std::string_view line = body.substr(start, end - start);
        start = end + 1;
        if (line.empty()) {
            if (any) {
                frames.push_back(std::move(frame));
            }
            frame = {};
            any = false;
            continue;
        }
        if (line.front() == ':') {
            continue;
        }
        const size_t colon = line.find(": ");
        const std::string_view field = line.substr(0, colon);
        const std::string value(colon == std::string_view::npos ? "" : line.substr(colon + 2));
        any = true;
        if (field == "id") {
            frame.id = value;
        } else if (field == "event") {
            frame.event = value;
        } else if (field == "data") {
            frame.data += value;
        }
    }
    return frames;
}

void GrovedFixture::SetUp() {
    GROVE_REQUIRE(missing_root());
    GROVE_REQUIRE(missing_overlay());
    auto images = TestImages::load();
    ASSERT_TRUE(images) << images.error().to_string();
    auto dir = base::TempDir::create("grove-groved-", "/var/tmp");
    ASSERT_TRUE(dir);
    dir_.emplace(std::move(dir).value());
    {
        // Imported before groved starts, by another process's store: the store is shared.
        auto store = image::ImageStore::open(root(), base::Logger::stderr_text());
        ASSERT_TRUE(store) << store.error().to_string();
        auto source = image::LayoutSource::open(images->dir() / "busybox", "latest");
        ASSERT_TRUE(source);
        auto imported = (*store)->import(**source, {.tag = "busybox"});
        ASSERT_TRUE(imported) << imported.error().to_string();
        busybox_ = imported->image.uuid;
    }
    std::ofstream(dir_->path() / "tokens") << "# test tokens\n\n" << kTestToken << "\n";
    start_daemon();
}

void GrovedFixture::TearDown() {
    if (daemon_) {
        stop_daemon(SIGTERM);
    }
}

void GrovedFixture::start_daemon(const std::vector<std::string>& extra) {
    const auto log_path = dir_->path() / "groved.log";
    auto log_fd = base::UniqueFd::open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ASSERT_TRUE(log_fd);
    std::vector<std::string> argv{GROVED_BINARY,
                                  "--root",
                                  root().string(),
                                  "--listen",
                                  "unix://" + socket().string(),
                                  "--listen",
                                  "tcp://127.0.0.1:0",
                                  "--docker-listen",
                                  "unix://" + docker_socket().string(),
                                  "--token-file",
                                  (dir_->path() / "tokens").string(),
                                  "--api-prefix",
                                  "/sandboxes",
                                  "--workers",
                                  "2",
                                  "--shutdown-grace",
                                  "2"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto child = base::ChildProcess::spawn({.argv = argv, .stderr_fd = log_fd->get()});
    ASSERT_TRUE(child) << child.error().to_string();
    daemon_.emplace(std::move(child).value());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
        if (const auto port = tcp_port(log())) {
            port_ = *port;
            return;
        }
        auto exited = daemon_->wait_for(milliseconds(20));
        ASSERT_TRUE(exited);
        ASSERT_FALSE(*exited) << "groved exited: " << (*exited)->to_string() << "\n" << log();
    }
    FAIL() << "groved did not start:\n" << log();
}

base::ExitStatus GrovedFixture::stop_daemon(int sig) {
    EXPECT_TRUE(daemon_->signal(sig));
    auto status = daemon_->wait_for(std::chrono::seconds(60));
    EXPECT_TRUE(status && *status) << "groved did not stop:\n" << log();
    daemon_.reset();
    return status && *status ? **status : base::ExitStatus{};
}

void GrovedFixture::expect_flow(const std::vector<std::string>& argv, const std::string& marker) {
    auto flow = base::run_command({.argv = argv}, std::chrono::seconds(300));
    ASSERT_TRUE(flow) << flow.error().to_string();
    EXPECT_TRUE(flow->status.success()) << flow->status.to_string() << "\n"
                                        << flow->out << flow->err << "\ngroved's log:\n"
                                        << log();
    EXPECT_NE(flow->out.find(marker), std::string::npos) << flow->out;
}

std::string GrovedFixture::log() const {
    std::ifstream in(dir_->path() / "groved.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
}

http::testing::CurlResponse GrovedFixture::call(http::testing::CurlRequest request) {
    http::testing::CurlClient client({.unix_path = socket().string()});
    return client.request(request);
}

http::testing::CurlResponse GrovedFixture::call_tcp(http::testing::CurlRequest request,
                                                    const std::string& token) {
    if (!token.empty()) {
        request.headers.push_back("Authorization: Bearer " + token);
    }
    http::testing::CurlClient client({.port = port_});
    return client.request(request);
}

base::Json GrovedFixture::json(const http::testing::CurlResponse& response) {
    auto parsed = base::parse_json(response.body);
    EXPECT_TRUE(parsed) << response.status << " " << response.body;
    return parsed.value_or(base::Json());
}

std::string GrovedFixture::spawn(const std::string& body) {
    const auto response = call({.method = "POST",
                                .path = "/v1/instances",
                                .headers = {"Content-Type: application/json"},
                                .body = body});
    EXPECT_EQ(response.status, 201) << response.body;
    return json(response).value("uuid", "");
}

std::vector<SseFrame> GrovedFixture::follow(const std::string& uuid) {
    const auto response = call({.path = "/v1/operations/" + uuid + "/events?follow=1",
                                .headers = {"Accept: text/event-stream"},
                                .timeout = std::chrono::seconds(120)});
    EXPECT_EQ(response.status, 200) << response.body;
    return parse_sse(response.body);
}

base::Json GrovedFixture::operation(const std::string& uuid) {
    return json(call({.path = "/v1/operations/" + uuid}));
}

bool GrovedFixture::wait_status(const std::string& uuid, const std::string& status) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
        if (operation(uuid).value("status", "") == status) {
            return true;
        }
        std::this_thread::sleep_for(milliseconds(20));
    }
    return false;
}

}  // namespace grove::testing
