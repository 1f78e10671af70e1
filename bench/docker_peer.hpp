#pragma once

// The Docker peer of the benchmarks: a dockerd of its own (socket, data and exec roots in a temp
// dir), so no system daemon is needed or touched, with the busybox test image loaded as
// busybox:latest. No bridge and no iptables: the runs use --network none, and that is how
// dockerd starts on this host (docs/design-notes.md). It inherits the benchmark's mount
// namespace, so its mounts die with it.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <grove/result.hpp>

#include "base/child_process.hpp"
#include "base/temp_dir.hpp"

namespace grove::bench {

// Debian's docker CLI (docker.io), the client the benchmarks time: a `docker` found earlier in
// PATH (a newer static build, say) is not one the project installs, and its own cost differs.
inline constexpr const char* kDockerCli = "/usr/bin/docker";

// `docker -H host args...` with kDockerCli.
Result<base::CommandOutput> docker_cli(const std::string& host,
                                       std::vector<std::string> args,
                                       std::chrono::milliseconds timeout);

class DockerPeer {
public:
    DockerPeer() { error = start(); }
    // SIGTERM lets dockerd stop its containerd and unmount its layers before the dir goes.
    ~DockerPeer();
    DockerPeer(const DockerPeer&) = delete;
    DockerPeer& operator=(const DockerPeer&) = delete;

    Result<base::CommandOutput> docker(std::vector<std::string> args,
                                       std::chrono::milliseconds timeout) const;
    // dockerd's socket file.
    std::string socket() const { return host.substr(7); }

    std::string error;  // why the peer cannot run; empty when it can

private:
    std::string start();

    std::optional<base::TempDir> dir;
    std::optional<base::ChildProcess> daemon;
    std::string host;
};

}  // namespace grove::bench
