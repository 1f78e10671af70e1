#pragma once

// A real grove_http server on a unix socket in a temporary directory (and TCP on request), for
// tests that drive it with curl and raw sockets.

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "base/log.hpp"
#include "base/scope_exit.hpp"
#include "base/temp_dir.hpp"
#include "http/server.hpp"
#include "test_client.hpp"

namespace grove::http::testing {

// A one-way flag that threads wait on with a deadline (never a bare sleep).
class Gate {
public:
    void open() {
        // Notifies under the lock: a waiter that wakes may destroy the gate right away.
        const std::lock_guard lock(mu_);
        open_ = true;
        cv_.notify_all();
    }
    bool wait(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        std::unique_lock lock(mu_);
        return cv_.wait_for(lock, timeout, [&] { return open_; });
    }
    bool is_open() {
        const std::lock_guard lock(mu_);
        return open_;
    }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    bool open_ = false;
};

// Waits, with a deadline, until `done()` holds: for conditions that no callback announces.
template <typename Fn>
bool eventually(Fn done, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

class ServerTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto dir = base::TempDir::create("grove-http-");
        ASSERT_TRUE(dir.has_value()) << dir.error().to_string();
        dir_.emplace(std::move(*dir));
        socket_path_ = dir_->path() / "run" / "grove.sock";
    }
    void TearDown() override {
        if (server_) {
            server_->shutdown(std::chrono::seconds(5));
        }
    }

    enum class WithTcp { kNo, kYes };
    void start(Router router, ServerOptions options = {}, WithTcp tcp = WithTcp::kNo) {
        server_ = std::make_unique<Server>(options, base::Logger::stderr_text(log_level_));
        if (tcp == WithTcp::kYes) {
            auto info = server_->listen_tcp({.host = "127.0.0.1", .port = 0}, router);
            ASSERT_TRUE(info.has_value()) << info.error().to_string();
            tcp_port_ = info->port;
        }
        auto info = server_->listen_unix({.path = socket_path_}, std::move(router));
        ASSERT_TRUE(info.has_value()) << info.error().to_string();
        auto started = server_->start();
        ASSERT_TRUE(started.has_value()) << started.error().to_string();
    }

    // Shuts the server down when the scope ends. Declared after the locals that handlers
    // capture, it stops every handler before those locals are destroyed.
    [[nodiscard]] auto stop_at_exit() {
        return base::ScopeExit([this] {
            if (server_) {
                server_->shutdown(std::chrono::seconds(5));
            }
        });
    }

    Target unix_target() const { return {.unix_path = socket_path_.native()}; }
    Target tcp_target() const { return {.port = tcp_port_}; }
    RawClient raw() {
        auto client = RawClient::connect(unix_target());
        EXPECT_TRUE(client.has_value()) << client.error().to_string();
        return std::move(*client);
    }

    base::LogLevel log_level_ = base::LogLevel::kError;
    std::optional<base::TempDir> dir_;
    std::filesystem::path socket_path_;
    uint16_t tcp_port_ = 0;
    std::unique_ptr<Server> server_;
};

}  // namespace grove::http::testing
