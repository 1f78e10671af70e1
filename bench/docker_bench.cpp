// groved's Docker container endpoints against a real dockerd (Debian's docker.io, started by the
// benchmark on a private socket and data root with no bridge, DockerPeer), measured the same way
// on both sides in one process run:
// - BM_*DockerPs: `docker ps -q`, the CLI's own floor under the CLI measurements (a Go binary's
//   start and one round trip);
// - BM_*DockerRunRm: `docker run --rm --network none busybox true` with the docker CLI;
// - BM_*DockerExec: `docker exec <c> true` into a running `sleep` container, with the CLI;
// - BM_*DockerApiRunRm: what `docker run --rm` sends (create with AutoRemove, hijacked attach,
//   wait for removal, start; docker_api_calls.hpp) through the raw API, no CLI in the way;
// - BM_*DockerApiLifecycle: create + start + wait + delete of `true` through the raw API over the
//   unix socket (one libcurl handle, kept alive), no CLI in the way;
// - BM_*DockerApiExec: exec create + start (attached: the output stream to its end) + inspect of
//   `true` in the running `sleep` container through the raw API, what `docker exec` does less
//   the CLI's own floor.
// - BM_NullDocker*: the two CLI commands against NullDocker (null_docker.hpp), a server that
//   answers at once with no container behind it: the CLI's own cost of each command, so that
//   "BM_NullDocker* vs BM_PeerDocker*" is the best ratio any daemon could show through the CLI.
// Prints the medians and groved's ratio over dockerd for each (the goal is >= 10x). The dockerd
// side is skipped with the reason when dockerd cannot start. Never part of the test suite.
//
// Needs root, docker.io (scripts/install-deps.sh --bench) and the test images
// ($GROVE_TEST_IMAGES, default ~/.cache/grove-tests/bench-images).

#include <csignal>
#include <fcntl.h>
#include <thread>

#include <benchmark/benchmark.h>
#include <curl/curl.h>

#include "base/child_process.hpp"
#include "base/unique_fd.hpp"
#include "bench_store.hpp"
#include "docker_api_calls.hpp"
#include "docker_peer.hpp"
#include "null_docker.hpp"
#include "peer_ratio.hpp"

namespace grove::bench {
namespace {

using std::chrono::seconds;

// groved serving the Docker API on a store with busybox imported as "busybox".
class GrovedDocker {
public:
    GrovedDocker() : store_(open_bench_store("grove-bench-docker-api-", "busybox", "busybox")) {
        error = store_.error.empty() ? start() : store_.error;
    }
    ~GrovedDocker() {
        if (daemon_) {
            (void)docker({"rm", "-f", "bench-exec"}, seconds(30));
            (void)daemon_->signal(SIGTERM);
            (void)daemon_->wait();
        }
    }
    GrovedDocker(const GrovedDocker&) = delete;
    GrovedDocker& operator=(const GrovedDocker&) = delete;

    Result<base::CommandOutput> docker(std::vector<std::string> args,
                                       std::chrono::milliseconds timeout) const {
        return docker_cli("unix://" + socket(), std::move(args), timeout);
    }
    std::string socket() const { return (store_.dir->path() / "docker.sock").string(); }

    std::string error;

private:
    std::string start() {
        store_.store.reset();  // groved opens the store itself
        const auto d = store_.dir->path();
        const base::UniqueFd log(
            ::open((d / "groved.log").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
        auto spawned =
            base::ChildProcess::spawn({.argv = {GROVED_BINARY, "--root", store_.root().string(),
                                                "--listen", "unix://" + (d / "grove.sock").string(),
                                                "--docker-listen", "unix://" + socket()},
                                       .stderr_fd = log.get(),
                                       .parent_death_signal = SIGTERM});
        if (!spawned) {
            return spawned.error().message();
        }
        daemon_.emplace(std::move(spawned).value());
        for (int i = 0; i < 200; ++i) {
            if (auto info = docker({"version"}, seconds(10)); info && info->status.success()) {
                return {};
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return "groved did not serve the Docker API; see " + (d / "groved.log").string();
    }

    BenchStore store_;
    std::optional<base::ChildProcess> daemon_;
};

const GrovedDocker& groved() {
    static const GrovedDocker g;
    return g;
}

const DockerPeer& dockerd() {
    static const DockerPeer peer;
    return peer;
}

const NullDocker& null_docker() {
    static const NullDocker server;
    return server;
}

// Runs `docker args...` through `target` each iteration; fails the benchmark on an error.
template <typename Target>
void time_cli(benchmark::State& state, const Target& target, std::vector<std::string> args) {
    if (!target.error.empty()) {
        state.SkipWithError(target.error.c_str());
        return;
    }
    MedianTimer timer(state);
    for (auto _ : state) {
        auto op = timer.op();
        auto out = target.docker(args, seconds(60));
        if (!out || !out->status.success()) {
            state.SkipWithError(out ? out->err.c_str() : out.error().message().c_str());
            return;
        }
    }
}

// The docker CLI's own floor: a Go binary's start and one round trip, which every CLI
// measurement below pays on both sides.
template <typename Target>
void ps(benchmark::State& state, const Target& target) {
    time_cli(state, target, {"ps", "-q"});
}

template <typename Target>
void run_rm(benchmark::State& state, const Target& target) {
    time_cli(state, target, {"run", "--rm", "--network", "none", "busybox:latest", "true"});
}

// A running `sleep` named bench-exec to exec into; false (the benchmark skipped) when it fails.
template <typename Target>
bool start_exec_target(benchmark::State& state, const Target& target) {
    if (!target.error.empty()) {
        state.SkipWithError(target.error.c_str());
        return false;
    }
    (void)target.docker({"rm", "-f", "bench-exec"}, seconds(30));
    auto started = target.docker({"run", "-d", "--name", "bench-exec", "--network", "none",
                                  "busybox:latest", "sleep", "3600"},
                                 seconds(60));
    if (!started || !started->status.success()) {
        state.SkipWithError("cannot start the exec target");
        return false;
    }
    return true;
}

template <typename Target>
void exec(benchmark::State& state, const Target& target) {
    if (!start_exec_target(state, target)) {
        return;
    }
    time_cli(state, target, {"exec", "bench-exec", "true"});
    (void)target.docker({"rm", "-f", "bench-exec"}, seconds(30));
}

// Times `step(curl)` over one libcurl handle on the target's socket.
template <typename Target, typename Step>
void time_api(benchmark::State& state, const Target& target, const Step& step) {
    if (!target.error.empty()) {
        state.SkipWithError(target.error.c_str());
        return;
    }
    CURL* curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, target.socket().c_str());
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    {
        MedianTimer timer(state);
        for (auto _ : state) {
            auto op = timer.op();
            if (auto done = step(curl); !done) {
                state.SkipWithError(done.error().message().c_str());
                break;
            }
        }
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
}

template <typename Target>
void api_lifecycle(benchmark::State& state, const Target& target) {
    time_api(state, target, api_lifecycle_step);
}

template <typename Target>
void api_run_rm(benchmark::State& state, const Target& target) {
    time_api(state, target, [&](CURL* curl) { return api_run_rm_step(curl, target.socket()); });
}

template <typename Target>
void api_exec(benchmark::State& state, const Target& target) {
    if (!start_exec_target(state, target)) {
        return;
    }
    time_api(state, target, [](CURL* curl) { return api_exec_step(curl, "bench-exec"); });
    (void)target.docker({"rm", "-f", "bench-exec"}, seconds(30));
}

void BM_GroveDockerPs(benchmark::State& state) {
    ps(state, groved());
}
void BM_PeerDockerPs(benchmark::State& state) {
    ps(state, dockerd());
}
void BM_GroveDockerRunRm(benchmark::State& state) {
    run_rm(state, groved());
}
void BM_PeerDockerRunRm(benchmark::State& state) {
    run_rm(state, dockerd());
}
void BM_NullDockerRunRm(benchmark::State& state) {
    run_rm(state, null_docker());
}
void BM_GroveDockerExec(benchmark::State& state) {
    exec(state, groved());
}
void BM_PeerDockerExec(benchmark::State& state) {
    exec(state, dockerd());
}
void BM_NullDockerExec(benchmark::State& state) {
    exec(state, null_docker());
}
void BM_GroveDockerApiRunRm(benchmark::State& state) {
    api_run_rm(state, groved());
}
void BM_PeerDockerApiRunRm(benchmark::State& state) {
    api_run_rm(state, dockerd());
}
void BM_GroveDockerApiExec(benchmark::State& state) {
    api_exec(state, groved());
}
void BM_PeerDockerApiExec(benchmark::State& state) {
    api_exec(state, dockerd());
}
void BM_GroveDockerApiLifecycle(benchmark::State& state) {
    api_lifecycle(state, groved());
}
void BM_PeerDockerApiLifecycle(benchmark::State& state) {
    api_lifecycle(state, dockerd());
}

BENCHMARK(BM_GroveDockerPs)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_PeerDockerPs)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_GroveDockerRunRm)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_PeerDockerRunRm)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_NullDockerRunRm)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_GroveDockerExec)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_PeerDockerExec)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_NullDockerExec)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_GroveDockerApiRunRm)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_PeerDockerApiRunRm)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_GroveDockerApiExec)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_PeerDockerApiExec)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_GroveDockerApiLifecycle)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_PeerDockerApiLifecycle)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);

const bool kRegistered = (compare("BM_GroveDockerPs", "BM_PeerDockerPs"),
                          compare("BM_GroveDockerRunRm", "BM_PeerDockerRunRm"),
                          compare("BM_NullDockerRunRm", "BM_PeerDockerRunRm"),
                          compare("BM_GroveDockerExec", "BM_PeerDockerExec"),
                          compare("BM_NullDockerExec", "BM_PeerDockerExec"),
                          compare("BM_GroveDockerApiRunRm", "BM_PeerDockerApiRunRm"),
                          compare("BM_GroveDockerApiExec", "BM_PeerDockerApiExec"),
                          compare("BM_GroveDockerApiLifecycle", "BM_PeerDockerApiLifecycle"),
                          true);

}  // namespace
}  // namespace grove::bench
