#include "docker_peer.hpp"

#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <unistd.h>

#include "base/unique_fd.hpp"
#include "bench_store.hpp"

namespace grove::bench {

namespace fs = std::filesystem;

DockerPeer::~DockerPeer() {
    if (!daemon) {
        return;
    }
    (void)daemon->signal(SIGTERM);
    auto stopped = daemon->wait_for(std::chrono::seconds(20));
    if (!stopped || !*stopped) {
        (void)daemon->signal(SIGKILL);
        (void)daemon->wait();
    }
}

Result<base::CommandOutput> docker_cli(const std::string& host,
                                       std::vector<std::string> args,
                                       std::chrono::milliseconds timeout) {
    args.insert(args.begin(), {kDockerCli, "-H", host});
    return base::run_command({.argv = std::move(args)}, timeout);
}

Result<base::CommandOutput> DockerPeer::docker(std::vector<std::string> args,
                                               std::chrono::milliseconds timeout) const {
    return docker_cli(host, std::move(args), timeout);
}

std::string DockerPeer::start() {
    if (!base::find_program("dockerd") || ::access(kDockerCli, X_OK) != 0) {
        return "no dockerd (scripts/install-deps.sh --bench installs docker.io)";
    }
    auto images = bench_images();
    auto created = base::TempDir::create("grove-bench-docker-", "/var/tmp");
    if (!images || !created) {
        return !images ? images.error().message() : created.error().message();
    }
    dir.emplace(std::move(created).value());
    const fs::path d = dir->path();
    host = "unix://" + (d / "docker.sock").string();
    const base::UniqueFd log(
        ::open((d / "dockerd.log").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    auto spawned = base::ChildProcess::spawn(
        {.argv = {"dockerd", "--host", host, "--data-root", (d / "data").string(), "--exec-root",
                  (d / "exec").string(), "--pidfile", (d / "pid").string(), "--bridge=none",
                  "--iptables=false", "--ip6tables=false", "--storage-driver", "overlay2",
                  "--log-level", "warn"},
         .stdout_fd = log.get(),
         .stderr_fd = log.get(),
         .parent_death_signal = SIGTERM});
    if (!spawned) {
        return spawned.error().message();
    }
    daemon.emplace(std::move(spawned).value());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (;;) {
        auto info = docker({"info"}, std::chrono::seconds(10));
        if (info && info->status.success()) {
            break;
        }
        auto exited = daemon->wait_for(std::chrono::milliseconds(250));
        if ((exited && *exited) || std::chrono::steady_clock::now() > deadline) {
            std::ifstream in(d / "dockerd.log");
            std::string line;
            std::string last;
            while (std::getline(in, line)) {
                last = line.empty() ? last : line;
            }
            return "dockerd did not start: " + last;
        }
    }
    // The same OCI layout grove and crun run, loaded without a registry or any network.
    const std::string archive = (d / "busybox.tar").string();
    auto copied = base::run_command(
        {.argv = {"skopeo", "copy", "oci:" + (images->dir() / "busybox").string() + ":latest",
                  "docker-archive:" + archive + ":busybox:latest"}},
        std::chrono::minutes(2));
    if (!copied || !copied->status.success()) {
        return "skopeo copy: " + (copied ? copied->err : copied.error().message());
    }
    auto loaded = docker({"load", "-i", archive}, std::chrono::minutes(2));
    if (!loaded || !loaded->status.success()) {
        return "docker load: " + (loaded ? loaded->err : loaded.error().message());
    }
    return {};
}

}  // namespace grove::bench
