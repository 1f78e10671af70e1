// Digest verification is on the import hot path: every blob is hashed while it streams in.
// grove's Sha256 over a file is measured against coreutils' sha256sum on the same file.

#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <random>
#include <string>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include "base/child_process.hpp"
#include "base/digest.hpp"
#include "base/unique_fd.hpp"
#include "peer_ratio.hpp"

namespace grove::bench {
namespace {

constexpr size_t kFileSize = 256 << 20;

// A file of random bytes in /tmp, written once per process and removed at exit.
const std::string& data_file() {
    static const std::string path = [] {
        std::string name = "/tmp/grove-bench-digest-XXXXXX";
        const int fd = ::mkstemp(name.data());
        if (fd < 0) {
            std::abort();
        }
        base::UniqueFd owned(fd);
        std::mt19937_64 rng(42);
        std::string chunk(1 << 20, '\0');
        for (size_t written = 0; written < kFileSize; written += chunk.size()) {
            for (size_t i = 0; i < chunk.size(); i += 8) {
                const uint64_t v = rng();
                std::memcpy(chunk.data() + i, &v, 8);
            }
            if (!base::write_all(owned.get(), chunk)) {
                std::abort();
            }
        }
        std::atexit([] { ::unlink(data_file().c_str()); });
        return name;
    }();
    return path;
}

void BM_GroveSha256File(benchmark::State& state) {
    const std::string& path = data_file();  // created outside the timed loop
    for (auto _ : state) {
        auto fd = base::UniqueFd::open(path, O_RDONLY);
        auto digest = base::sha256_fd(fd->get());
        if (!digest) {
            state.SkipWithError(digest.error().to_string().c_str());
            return;
        }
        benchmark::DoNotOptimize(digest->str());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kFileSize));
}
BENCHMARK(BM_GroveSha256File)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(5);

void BM_PeerSha256sum(benchmark::State& state) {
    const std::string& path = data_file();
    for (auto _ : state) {
        auto out = base::run_command({.argv = {"sha256sum", path}}, std::chrono::minutes(1));
        if (!out || !out->status.success()) {
            state.SkipWithError("sha256sum failed");
            return;
        }
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kFileSize));
}
BENCHMARK(BM_PeerSha256sum)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(5);

const bool kRegistered = (compare("BM_GroveSha256File", "BM_PeerSha256sum"), true);

}  // namespace
}  // namespace grove::bench
