// groved's Docker container endpoints against a real dockerd (Debian's docker.io, started by the
// benchmark on a private socket and data root with no bridge, DockerPeer), measured the same way
// on both sides in one process run:
// - BM_*DockerPs: `docker ps -q`, the CLI's own floor under the CLI measurements (a Go binary's
//   start and one round trip);
// - BM_*DockerRunRm: `docker run --rm --network none busybox true` with the docker CLI;
// - BM_*DockerExec: `docker exec <c> true` into a running `sleep` container, with the CLI;
// - BM_*DockerApiLifecycle: create + start + wait + delete of `true` through the raw API over the
//   unix socket (one libcurl handle, kept alive), no CLI in the way;
// - BM_*DockerApiExec: exec create + start (attached: the output stream to its end) + inspect of
//   `true` in the running `sleep` container through the raw API, what `docker exec` does less
//   the CLI's own floor.
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
#include <fmt/format.h>

#include "base/child_process.hpp"
#include "base/json.hpp"
#include "base/unique_fd.hpp"
#include "bench_store.hpp"
#include "docker_peer.hpp"
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
        args.insert(args.begin(), {"docker", "-H", "unix://" + socket()});
        return base::run_command({.argv = std::move(args)}, timeout);
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

size_t collect(char* data, size_t size, size_t count, void* out) {
    static_cast<std::string*>(out)->append(data, size * count);
    return size * count;
}

// One request over `curl` (kept alive across calls); the body, or an error past `want` status.
Result<std::string> call(CURL* curl,
                         const std::string& method,
                         const std::string& path,
                         const std::string& body,
                         long want) {
    std::string out;
    curl_easy_setopt(curl, CURLOPT_URL, ("http://docker/v1.41" + path).c_str());
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out);
    if (const CURLcode rc = curl_easy_perform(curl); rc != CURLE_OK) {
        return Error(Code::kInternal, curl_easy_strerror(rc));
    }
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != want) {
        return Error(Code::kInternal, fmt::format("{} {}: {} {}", method, path, status, out));
    }
    return out;
}

Result<void> lifecycle(CURL* curl) {
    GROVE_ASSIGN_OR_RETURN(
        const std::string made,
        call(curl, "POST", "/containers/create",
             R"({"Image":"busybox:latest","Cmd":["true"],"HostConfig":{"NetworkMode":"none"}})",
             201));
    GROVE_ASSIGN_OR_RETURN(const auto json, base::parse_json(made));
    const std::string id = json.value("Id", "");
    GROVE_TRY(call(curl, "POST", "/containers/" + id + "/start", "", 204));
    GROVE_ASSIGN_OR_RETURN(const std::string waited,
                           call(curl, "POST", "/containers/" + id + "/wait", "", 200));
    if (waited.find("\"StatusCode\":0") == std::string::npos) {
        return Error(Code::kInternal, "wait: " + waited);
    }
    GROVE_TRY(call(curl, "DELETE", "/containers/" + id, "", 204));
    return {};
}

// The exec's start answers with the raw output stream and closes the connection (dockerd hijacks
// it even without an upgrade), so curl reads it to the end and reconnects for the next call.
Result<void> exec_true(CURL* curl, const std::string& container) {
    GROVE_ASSIGN_OR_RETURN(
        const std::string made,
        call(curl, "POST", "/containers/" + container + "/exec",
             R"({"Cmd":["true"],"AttachStdout":true,"AttachStderr":true})", 201));
    GROVE_ASSIGN_OR_RETURN(const auto json, base::parse_json(made));
    const std::string id = json.value("Id", "");
    GROVE_TRY(call(curl, "POST", "/exec/" + id + "/start", R"({"Detach":false,"Tty":false})", 200));
    GROVE_ASSIGN_OR_RETURN(const std::string inspected,
                           call(curl, "GET", "/exec/" + id + "/json", "", 200));
    if (inspected.find("\"ExitCode\":0") == std::string::npos) {
        return Error(Code::kInternal, "exec inspect: " + inspected);
    }
    return {};
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
    time_api(state, target, lifecycle);
}

template <typename Target>
void api_exec(benchmark::State& state, const Target& target) {
    if (!start_exec_target(state, target)) {
        return;
    }
    time_api(state, target, [](CURL* curl) { return exec_true(curl, "bench-exec"); });
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
void BM_GroveDockerExec(benchmark::State& state) {
    exec(state, groved());
}
void BM_PeerDockerExec(benchmark::State& state) {
    exec(state, dockerd());
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
BENCHMARK(BM_GroveDockerExec)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_PeerDockerExec)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_GroveDockerApiExec)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_PeerDockerApiExec)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_GroveDockerApiLifecycle)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_PeerDockerApiLifecycle)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);

const bool kRegistered = (compare("BM_GroveDockerPs", "BM_PeerDockerPs"),
                          compare("BM_GroveDockerRunRm", "BM_PeerDockerRunRm"),
                          compare("BM_GroveDockerExec", "BM_PeerDockerExec"),
                          compare("BM_GroveDockerApiExec", "BM_PeerDockerApiExec"),
                          compare("BM_GroveDockerApiLifecycle", "BM_PeerDockerApiLifecycle"),
                          true);

}  // namespace
}  // namespace grove::bench
