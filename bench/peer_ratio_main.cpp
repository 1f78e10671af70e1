#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "peer_ratio.hpp"

namespace grove::bench {
namespace {

std::vector<std::pair<std::string, std::string>>& pairs() {
    static std::vector<std::pair<std::string, std::string>> registered;
    return registered;
}

// Keeps the console output and remembers each run's real time per iteration.
class RatioReporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const auto& run : runs) {
            if (run.run_type == Run::RT_Iteration && !run.error_occurred) {
                const auto median = run.counters.find("median_ms");
                seconds_[run.run_name.function_name] =
                    median != run.counters.end()
                        ? median->second.value / 1e3
                        : run.real_accumulated_time / static_cast<double>(run.iterations);
            }
        }
    }

    void print_ratios() const {
        for (const auto& [grove_name, peer_name] : pairs()) {
            const auto g = seconds_.find(grove_name);
            const auto p = seconds_.find(peer_name);
            if (g == seconds_.end() || p == seconds_.end()) {
                continue;
            }
            fmt::print(
                "ratio {} vs {}: {:.2f}x ({:.3f} ms vs {:.3f} ms per op, median where "
                "timed per op; >1 means grove is faster)\n",
                grove_name, peer_name, p->second / g->second, g->second * 1e3, p->second * 1e3);
        }
    }

private:
    std::map<std::string, double> seconds_;
};

}  // namespace

MedianTimer::~MedianTimer() {
    if (ms_.empty()) {
        return;
    }
    std::sort(ms_.begin(), ms_.end());
    const size_t mid = ms_.size() / 2;
    state_.counters["median_ms"] = ms_.size() % 2 == 1 ? ms_[mid] : (ms_[mid - 1] + ms_[mid]) / 2;
}

void compare(std::string grove_name, std::string peer_name) {
    pairs().emplace_back(std::move(grove_name), std::move(peer_name));
}

}  // namespace grove::bench

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        return 1;
    }
    grove::bench::RatioReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    reporter.print_ratios();
    benchmark::Shutdown();
    return 0;
}
