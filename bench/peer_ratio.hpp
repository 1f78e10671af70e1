#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

// Every grove benchmark registers pairs: a grove benchmark and the peer doing the same work
// (sha256sum, crun run, skopeo copy + umoci unpack, ...). The shared main runs them all and then
// prints, for each pair, how many times faster (>1) or slower (<1) grove was than the peer.

#include <string>

namespace grove::bench {

// Declares that benchmark `grove_name` is measured against benchmark `peer_name`.
void compare(std::string grove_name, std::string peer_name);

// Times each iteration of a benchmark's loop and publishes the median as the counter
// "median_ms", which the ratio then uses instead of the mean: the goals are stated as medians,
// and a mean follows the odd slow iteration (a page-cache flush, a scheduler hiccup).
//   MedianTimer timer(state);
//   for (auto _ : state) { auto op = timer.op(); ... }
class MedianTimer {
public:
    explicit MedianTimer(benchmark::State& state) : state_(state) {}
    ~MedianTimer();
    MedianTimer(const MedianTimer&) = delete;
    MedianTimer& operator=(const MedianTimer&) = delete;

    // Records the time from here to the guard's destruction.
    auto op() {
        struct Guard {
            MedianTimer& timer;
            std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
            ~Guard() {
                timer.ms_.push_back(std::chrono::duration<double, std::milli>(
                                        std::chrono::steady_clock::now() - start)
                                        .count());
            }
        };
        return Guard{*this};
    }

private:
    benchmark::State& state_;
    std::vector<double> ms_;
};

}  // namespace grove::bench
