// A run of /bin/true in the busybox image, snapshot commit included, through the library and
// through the `grove` CLI, against `crun run` of the same rootfs as an OCI bundle (made by
// `umoci unpack`) and `docker run --rm` of the same image on a private dockerd, all in one
// process run. Also runs per second with 8 runs in flight.
//
// Needs root, crun, umoci and docker.io (scripts/install-deps.sh --bench), and the test images
// ($GROVE_TEST_IMAGES, default ~/.cache/grove-tests/bench-images).

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <sched.h>
#include <sys/mount.h>
#include <thread>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "base/child_process.hpp"
#include "base/json.hpp"
#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "bench_store.hpp"
#include "docker_peer.hpp"
#include "engine/host_cgroups.hpp"
#include "engine/runner.hpp"
#include "helpers/test_images.hpp"
#include "image/layout_source.hpp"
#include "peer_ratio.hpp"

namespace grove::bench {
namespace {

namespace fs = std::filesystem;

struct Fixture : BenchStore {
    std::optional<engine::Runner> runner;
    std::string image;
    fs::path bundle;
};

// crun 1.8 refuses a cgroup v1 host whose cgroup2 mount offers any controller ("hybrid mode not
// supported"); this host's offers hugetlb. In the benchmark's own mount namespace that mount is
// hidden under a tmpfs, so crun sees a plain v1 host (which grove handles either way) and
// neither side pays for an extra exec per run. Must run while the process is single-threaded.
void hide_cgroup2_from_crun() {
    if (::unshare(CLONE_NEWNS) == 0 &&
        ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0) {
        ::mount("tmpfs", "/sys/fs/cgroup/unified", "tmpfs", 0, nullptr);
    }
}

Fixture& fixture() {
    static Fixture f = [] {
        hide_cgroup2_from_crun();
        Fixture out{open_bench_store("grove-bench-run-", "busybox", "busybox")};
        auto images = bench_images();
        if (!out.error.empty() || !images) {
            out.error = out.error.empty() ? images.error().message() : out.error;
            return out;
        }
        out.image = out.base.uuid;
        // favordynmods speeds up the cgroup moves of crun and grove alike (the lock is global).
        const auto log = base::Logger::stderr_text(base::LogLevel::kWarn);
        out.runner.emplace(*out.store, engine::host_cgroups(log, true), log);

        // crun's bundle: umoci's rootfs and config.json, running /bin/true without a terminal.
        out.bundle = out.dir->path() / "bundle";
        auto unpacked = base::run_command(
            {.argv = {"umoci", "unpack", "--image",
                      (images->dir() / "busybox").string() + ":latest", out.bundle.string()}},
            std::chrono::minutes(2));
        if (unpacked && unpacked->status.success()) {
            std::ifstream in(out.bundle / "config.json");
            auto config = base::parse_json(std::string(std::istreambuf_iterator<char>(in), {}));
            if (config) {
                (*config)["process"]["args"] = {"/bin/true"};
                (*config)["process"]["terminal"] = false;
                std::ofstream(out.bundle / "config.json") << config->dump();
            }
        }
        return out;
    }();
    return f;
}

void BM_GroveLibraryRun(benchmark::State& state) {
    Fixture& f = fixture();
    if (!f.error.empty()) {
        state.SkipWithError(f.error.c_str());
        return;
    }
    MedianTimer timer(state);
    for (auto _ : state) {
        auto op = timer.op();
        auto result = f.runner->run({.image = f.image, .argv = {"/bin/true"}, .disposable = false});
        if (!result || result->exit_code != 0) {
            state.SkipWithError(result ? "exit code" : result.error().message().c_str());
            return;
        }
    }
}
BENCHMARK(BM_GroveLibraryRun)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);

void BM_GroveCliRun(benchmark::State& state) {
    Fixture& f = fixture();
    if (!f.error.empty()) {
        state.SkipWithError(f.error.c_str());
        return;
    }
    const std::string root = f.root().string();
    MedianTimer timer(state);
    for (auto _ : state) {
        auto op = timer.op();
        auto out = base::run_command(
            {.argv = {GROVE_BINARY, "--root", root, "run", f.image, "--", "/bin/true"}},
            std::chrono::minutes(1));
        if (!out || !out->status.success()) {
            state.SkipWithError(out ? out->err.c_str() : "grove failed");
            return;
        }
    }
}
BENCHMARK(BM_GroveCliRun)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);

void BM_PeerCrunRun(benchmark::State& state) {
    Fixture& f = fixture();
    if (!fs::exists(f.bundle / "config.json")) {
        state.SkipWithError("no crun bundle (umoci missing?)");
        return;
    }
    int n = 0;
    MedianTimer timer(state);
    for (auto _ : state) {
        auto op = timer.op();
        auto out = base::run_command({.argv = {"crun", "run", "--bundle", f.bundle.string(),
                                               fmt::format("grove-bench-{}", n++)}},
                                     std::chrono::minutes(1));
        if (!out || !out->status.success()) {
            state.SkipWithError(out ? out->err.c_str() : "crun failed");
            return;
        }
    }
}
BENCHMARK(BM_PeerCrunRun)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);

void BM_PeerDockerRun(benchmark::State& state) {
    // fixture() first: it sets $GROVE_TEST_IMAGES and the mount namespace, single-threaded.
    static const DockerPeer peer = [] {
        (void)fixture();
        return DockerPeer();
    }();
    if (!peer.error.empty()) {
        state.SkipWithError(peer.error.c_str());
        return;
    }
    MedianTimer timer(state);
    for (auto _ : state) {
        auto op = timer.op();
        auto out = peer.docker({"run", "--rm", "--network", "none", "busybox:latest", "/bin/true"},
                               std::chrono::minutes(1));
        if (!out || !out->status.success()) {
            state.SkipWithError(out ? out->err.c_str() : out.error().message().c_str());
            return;
        }
    }
}
// ~0.4 s a run here, so MinTime(2) still means only a handful of runs.
BENCHMARK(BM_PeerDockerRun)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);

// Throughput with 8 runs in flight: the reported time is per run.
void BM_GroveParallelRuns(benchmark::State& state) {
    Fixture& f = fixture();
    if (!f.error.empty()) {
        state.SkipWithError(f.error.c_str());
        return;
    }
    constexpr int kThreads = 8;
    constexpr int kRunsPerThread = 10;
    for (auto _ : state) {
        std::atomic<int> failed{0};
        {
            std::vector<std::jthread> threads;
            for (int t = 0; t < kThreads; ++t) {
                threads.emplace_back([&] {
                    for (int i = 0; i < kRunsPerThread; ++i) {
                        auto r = f.runner->run(
                            {.image = f.image, .argv = {"/bin/true"}, .disposable = false});
                        failed += (!r || r->exit_code != 0) ? 1 : 0;
                    }
                });
            }
        }
        if (failed > 0) {
            state.SkipWithError("a parallel run failed");
            return;
        }
    }
    state.SetItemsProcessed(state.iterations() * kThreads * kRunsPerThread);
}
BENCHMARK(BM_GroveParallelRuns)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

// The commit of a run that touched one file in the debian image (~1 GB of layers, 15k files):
// the upper dir becomes the layer by rename, so the cost must not depend on the image. Only
// commit_run is timed; the run's directories are prepared and the file written outside.
void BM_GroveCommitOneFileInDebian(benchmark::State& state) {
    Fixture& f = fixture();
    if (!f.error.empty()) {
        state.SkipWithError(f.error.c_str());
        return;
    }
    static const auto debian = [&]() -> Result<store::ImageRecord> {
        GROVE_ASSIGN_OR_RETURN(auto images, testing::TestImages::load());
        GROVE_ASSIGN_OR_RETURN(auto source,
                               image::LayoutSource::open(images.dir() / "debian", "latest"));
        GROVE_ASSIGN_OR_RETURN(auto imported, f.store->import(*source, {.tag = "debian"}));
        return imported.image;
    }();
    if (!debian) {
        state.SkipWithError(("no debian image: " + debian.error().message()).c_str());
        return;
    }
    for (auto _ : state) {
        auto dirs = f.store->prepare_run(*debian);
        if (!dirs) {
            state.SkipWithError(dirs.error().message().c_str());
            return;
        }
        fs::create_directories(dirs->upper() / "root");
        std::ofstream(dirs->upper() / "root" / "touched") << "one file\n";
        const auto start = std::chrono::steady_clock::now();
        auto committed = f.store->commit_run(std::move(*dirs), *debian, {.operation = "bench"});
        state.SetIterationTime(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        if (!committed || !committed->changed) {
            state.SkipWithError(committed ? "unchanged" : committed.error().message().c_str());
            return;
        }
    }
}
BENCHMARK(BM_GroveCommitOneFileInDebian)
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime()
    ->Iterations(50);

const bool kRegistered = (compare("BM_GroveLibraryRun", "BM_PeerCrunRun"),
                          compare("BM_GroveCliRun", "BM_PeerCrunRun"),
                          compare("BM_GroveLibraryRun", "BM_PeerDockerRun"),
                          compare("BM_GroveCliRun", "BM_PeerDockerRun"),
                          true);

}  // namespace
}  // namespace grove::bench
