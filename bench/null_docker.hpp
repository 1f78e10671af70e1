#pragma once

// A Docker API server with no containers behind it: it answers what the docker CLI sends for
// `docker run --rm` and `docker exec` at once, with canned replies. Timing the CLI against it
// gives the CLI's own cost of each command (its start, its requests, its waits), the floor every
// daemon measured through the CLI pays, and so the best ratio over dockerd that any daemon could
// show through the CLI.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <grove/result.hpp>

#include "base/child_process.hpp"
#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"

namespace grove::bench {

class NullDocker {
public:
    NullDocker();
    ~NullDocker();
    NullDocker(const NullDocker&) = delete;
    NullDocker& operator=(const NullDocker&) = delete;

    Result<base::CommandOutput> docker(std::vector<std::string> args,
                                       std::chrono::milliseconds timeout) const;
    std::string socket() const { return (dir_->path() / "docker.sock").string(); }

    std::string error;  // why it cannot serve; empty when it can

private:
    void accept_loop();
    void serve(base::UniqueFd connection);
    // Blocks until `id` is started (or a timeout, for a CLI that never starts it).
    void await_start(const std::string& id);

    std::optional<base::TempDir> dir_;
    base::UniqueFd listener_;
    std::thread acceptor_;
    std::mutex mutex_;
    std::condition_variable started_cv_;
    std::set<std::string> started_;
    std::vector<std::thread> connections_;
    std::atomic<uint64_t> next_id_{0};
};

}  // namespace grove::bench
