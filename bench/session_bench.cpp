// Deep chains keep running at the same speed (image/flatten.hpp):
// - BM_Session: a 1,000-run session on busybox through engine::Runner, each run appending to
//   /log in the image the previous run left (`sh -c 'echo $i >> /log'`, snapshot included), so
//   the chain ends 1,001 layers deep. Prints the median wall time of the first 50 and the last 50
//   runs and their ratio (the goal: the last within 1.5x of the first), and what the merges cost.
// - BM_Flatten/<image>/{bottom,incremental}: the cost of one merge over the busybox, layers and
//   debian images: the first one of a chain (the image and the 63 run layers above it, merged
//   from the bottom) and a later one (the previous merged layer and 64 run layers).
// No peer: these print figures for grove against itself, and never gate CI.
//
// Needs root and the test images ($GROVE_TEST_IMAGES, default ~/.cache/grove-tests/bench-images;
// `scripts/test-images.sh DIR --with-debian` builds them).

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "bench_store.hpp"
#include "engine/runner.hpp"

namespace grove::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kSessionRuns = 1000;
constexpr size_t kWindow = 50;

double median_ms(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    const size_t n = values.size();
    return n == 0 ? 0 : n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

double to_ms(std::chrono::nanoseconds d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

void BM_Session(benchmark::State& state) {
    BenchStore s = open_bench_store("grove-bench-session-", "busybox");
    if (!s.error.empty()) {
        state.SkipWithError(s.error.c_str());
        return;
    }
    auto cgroups = runtime::cgroup::Manager::detect();
    engine::Runner runner(*s.store, cgroups ? std::move(cgroups).value() : nullptr,
                          base::Logger::stderr_text(base::LogLevel::kWarn));
    for (auto _ : state) {
        std::string image = s.base.uuid;
        std::vector<double> run_ms;
        std::vector<double> merge_ms;  // the runs that merged: what the merge took
        run_ms.reserve(kSessionRuns);
        for (int i = 1; i <= kSessionRuns; ++i) {
            const auto before = s.store->flatten_stats();
            const auto started = Clock::now();
            auto result = runner.run(
                {.image = image, .shell = fmt::format("echo {} >> /log", i), .disposable = false});
            run_ms.push_back(to_ms(Clock::now() - started));
            if (!result || result->exit_code != 0 || !result->result_image) {
                state.SkipWithError(result ? "the run failed" : result.error().message().c_str());
                return;
            }
            image = result->result_image->uuid;
            const auto after = s.store->flatten_stats();
            if (after.merged_layers != before.merged_layers) {
                merge_ms.push_back(to_ms(after.total - before.total));
            }
        }
        // The last image holds every line: the chain kept every run's write.
        auto files = s.store->filesystem(*s.store->find(image));
        auto log = files ? files->lookup("/log") : Result<inspect::Node>(files.error());
        if (!log || log->st.st_size < kSessionRuns) {
            state.SkipWithError("the last image lost /log");
            return;
        }
        const double first =
            median_ms({run_ms.begin(), run_ms.begin() + static_cast<ptrdiff_t>(kWindow)});
        const double last =
            median_ms({run_ms.end() - static_cast<ptrdiff_t>(kWindow), run_ms.end()});
        const auto stats = s.store->flatten_stats();
        fmt::print(
            "session of {} runs on busybox: median of the first {} runs {:.2f} ms, of the last {} "
            "{:.2f} ms; ratio last/first {:.2f}x (goal: at most 1.5x)\n",
            kSessionRuns, kWindow, first, kWindow, last, last / first);
        fmt::print(
            "  {} merges (one every {} runs): median {:.2f} ms, longest {:.2f} ms, total {:.1f} "
            "ms; the run that merged took {:.2f} ms at the median; slowest run {:.2f} ms\n",
            stats.merged_layers, image::kDefaultFlattenEvery, median_ms(merge_ms),
            merge_ms.empty() ? 0 : *std::max_element(merge_ms.begin(), merge_ms.end()),
            to_ms(stats.total), median_ms([&] {
                std::vector<double> merging;
                for (size_t i = image::kDefaultFlattenEvery; i < run_ms.size();
                     i += image::kDefaultFlattenEvery) {
                    merging.push_back(run_ms[i]);  // run i + 1 mounts an image i + 1 layers deep
                }
                return merging;
            }()),
            *std::max_element(run_ms.begin(), run_ms.end()));
        state.counters["first_ms"] = first;
        state.counters["last_ms"] = last;
        state.counters["last_vs_first"] = last / first;
        state.counters["merges"] = static_cast<double>(stats.merged_layers);
        state.counters["merge_ms"] = median_ms(merge_ms);
    }
}
BENCHMARK(BM_Session)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

// One iteration: a branch of run layers (each adds a file, no container) on the image until the
// merge under test, timed by itself.
void BM_Flatten(benchmark::State& state, const std::string& name, bool incremental) {
    BenchStore s = open_bench_store("grove-bench-session-", name);
    if (!s.error.empty()) {
        state.SkipWithError(s.error.c_str());
        return;
    }
    const auto every = static_cast<int64_t>(image::kDefaultFlattenEvery);
    // The image's own layers: a run of it stacks them all.
    const auto base_depth = [&]() -> int64_t {
        auto dirs = s.store->prepare_run(s.base);
        return dirs ? static_cast<int64_t>(dirs->lowers_top_first().size()) : 0;
    }();
    // The depth of the first image whose runs mount the merge under test.
    const int64_t target = (incremental ? 2 * every : every) + 1;
    image::FlattenStats stats;
    double sync_ms = 0;  // summed over the iterations
    int branch = 0;
    for (auto _ : state) {
        ++branch;
        store::ImageRecord image = s.base;
        const auto before = s.store->flatten_stats();
        for (int64_t depth = base_depth; depth < target; ++depth) {
            auto dirs = s.store->prepare_run(image);
            if (!dirs) {
                state.SkipWithError(dirs.error().message().c_str());
                return;
            }
            std::ofstream(dirs->upper() / fmt::format("branch-{}-{}", branch, depth)) << depth;
            auto committed = s.store->commit_run(std::move(*dirs), image, {});
            if (!committed) {
                state.SkipWithError(committed.error().message().c_str());
                return;
            }
            image = committed->image;
        }
        auto dirs = s.store->prepare_run(image);  // merges
        stats = s.store->flatten_stats();
        if (!dirs || stats.merged_layers != before.merged_layers + (incremental ? 2 : 1)) {
            state.SkipWithError(dirs ? "no merge happened" : dirs.error().message().c_str());
            return;
        }
        state.SetIterationTime(std::chrono::duration<double>(stats.last).count());
        sync_ms += to_ms(stats.last_sync);
    }
    state.counters["sync_ms"] = sync_ms / static_cast<double>(std::max(branch, 1));
    state.counters["sources"] = static_cast<double>(stats.last_sources);
    state.counters["entries"] = static_cast<double>(stats.last_entries);
}
BENCHMARK_CAPTURE(BM_Flatten, busybox_bottom, "busybox", false)
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime()
    ->Iterations(5);
BENCHMARK_CAPTURE(BM_Flatten, busybox_incremental, "busybox", true)
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime()
    ->Iterations(5);
BENCHMARK_CAPTURE(BM_Flatten, layers_bottom, "layers", false)
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime()
    ->Iterations(3);
BENCHMARK_CAPTURE(BM_Flatten, layers_incremental, "layers", true)
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime()
    ->Iterations(3);
BENCHMARK_CAPTURE(BM_Flatten, debian_bottom, "debian", false)
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime()
    ->Iterations(3);
BENCHMARK_CAPTURE(BM_Flatten, debian_incremental, "debian", true)
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime()
    ->Iterations(3);

}  // namespace
}  // namespace grove::bench
