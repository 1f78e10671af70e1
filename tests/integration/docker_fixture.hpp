#pragma once

// DockerFixture is GrovedFixture with the clients of groved's Docker Engine API: libcurl on its
// unix socket for the wire details, and Debian's docker CLI (/usr/bin/docker, never dockerd).
// It force-removes the containers a test leaves, so that no container outlives its test.

#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/child_process.hpp"
#include "base/unique_fd.hpp"
#include "groved_fixture.hpp"

namespace grove::testing {

// Debian's docker.io client and python3-docker: the packaged clients the tests drive.
inline constexpr const char* kDockerCli = "/usr/bin/docker";
inline constexpr const char* kDebianPython = "/usr/bin/python3";

inline std::optional<std::string> missing_file(const char* path, const char* package) {
    if (std::filesystem::exists(path)) {
        return std::nullopt;
    }
    return std::string(path) + " is missing (Debian package " + package + ")";
}

// Why Debian's python3 with docker-py and aiohttp cannot run, if it cannot.
inline std::optional<std::string> missing_python_clients() {
    if (auto missing = missing_file(kDebianPython, "python3")) {
        return missing;
    }
    auto probe = base::run_command({.argv = {kDebianPython, "-c", "import docker, aiohttp"}},
                                   std::chrono::seconds(30));
    if (!probe || !probe->status.success()) {
        return "python3-docker or python3-aiohttp missing";
    }
    return std::nullopt;
}

class DockerFixture : public GrovedFixture {
protected:
    void TearDown() override {
        if (daemon_) {
            const auto listed = docker_call({.path = "/containers/json?all=1"});
            const auto all = base::parse_json(listed.body);
            for (const auto& c : all && all->is_array() ? *all : base::Json::array()) {
                docker_call(
                    {.method = "DELETE", .path = "/containers/" + c.value("Id", "") + "?force=1"});
            }
        }
        GrovedFixture::TearDown();
    }

    http::testing::CurlResponse docker_call(http::testing::CurlRequest request) {
        http::testing::CurlClient client({.unix_path = docker_socket().string()});
        return client.request(request);
    }

    // Runs Debian's docker CLI against groved, with a config directory of its own; `input` is
    // its stdin (none: /dev/null).
    base::CommandOutput docker(const std::vector<std::string>& args,
                               const std::optional<std::string>& input = std::nullopt) {
        std::vector<std::string> argv{kDockerCli};
        argv.insert(argv.end(), args.begin(), args.end());
        const auto config = dir_->path() / "docker-config";
        std::filesystem::create_directories(config);
        base::SpawnOptions options{
            .argv = argv,
            .env = std::vector<std::string>{"DOCKER_HOST=unix://" + docker_socket().string(),
                                            "DOCKER_CONFIG=" + config.string(),
                                            "HOME=" + dir_->path().string(), "PATH=/usr/bin:/bin"}};
        std::optional<base::UniqueFd> stdin_file;
        if (input) {
            const auto path = dir_->path() / "docker-stdin";
            std::ofstream(path) << *input;
            auto opened = base::UniqueFd::open(path, O_RDONLY);
            EXPECT_TRUE(opened);
            if (opened) {
                stdin_file = std::move(opened).value();
                options.stdin_fd = stdin_file->get();
            }
        }
        auto out = base::run_command(std::move(options), std::chrono::seconds(120));
        EXPECT_TRUE(out) << out.error().to_string();
        return out.value_or(base::CommandOutput{});
    }

    // `docker args...`, which must succeed; its stdout.
    std::string docker_ok(const std::vector<std::string>& args,
                          const std::optional<std::string>& input = std::nullopt) {
        const auto out = docker(args, input);
        EXPECT_TRUE(out.status.success()) << "docker " << fmt::format("{}", fmt::join(args, " "))
                                          << ": " << out.status.to_string() << "\n"
                                          << out.out << out.err << "\ngroved's log:\n"
                                          << log();
        return out.out;
    }
};

}  // namespace grove::testing
