// Import of the fixture images from a local registry into an empty store, against the peer
// pipeline that does the same work: `skopeo copy docker://... oci:` (download + verify) then
// `umoci unpack` (extract a rootfs). Also the re-import of an unchanged image (goal: < 20 ms).
//
// Needs root (unpacking keeps owners and writes whiteout devices), docker-registry, skopeo and
// umoci (scripts/install-deps.sh --bench), and the test images in $GROVE_TEST_IMAGES (default
// ~/.cache/grove-tests/bench-images, which scripts/bench.sh builds with the debian image).
// umoci 0.4 cannot read zstd layers, so the `layers` image has no peer figure.

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <unistd.h>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "base/child_process.hpp"
#include "base/temp_dir.hpp"
#include "helpers/local_registry.hpp"
#include "helpers/test_images.hpp"
#include "image/image_store.hpp"
#include "image/registry_source.hpp"
#include "peer_ratio.hpp"

namespace grove::bench {
namespace {

namespace fs = std::filesystem;

// The registry and the images pushed into it, set up once for every benchmark.
struct Fixture {
    std::optional<testing::LocalRegistry> registry;
    std::vector<std::string> images;
    std::string error;
};

Fixture& fixture() {
    static Fixture f = [] {
        Fixture out;
        if (std::getenv("GROVE_TEST_IMAGES") == nullptr) {
            const char* home = std::getenv("HOME");
            const std::string dir =
                fmt::format("{}/.cache/grove-tests/bench-images", home != nullptr ? home : "");
            ::setenv("GROVE_TEST_IMAGES", dir.c_str(), 0);
        }
        auto images = testing::TestImages::load();
        auto registry = testing::LocalRegistry::start();
        if (!images || !registry) {
            out.error = !images ? images.error().message() : registry.error().message();
            return out;
        }
        for (const char* name : {"busybox", "layers", "debian"}) {
            if (!fs::exists(images->dir() / name)) {
                continue;  // debian is built only with --with-debian
            }
            auto pushed = registry->push(images->oci_ref(name), std::string(name) + ":latest",
                                         {"--preserve-digests"});
            if (!pushed) {
                out.error = pushed.error().message();
                return out;
            }
            out.images.emplace_back(name);
        }
        out.registry.emplace(std::move(registry).value());
        return out;
    }();
    return f;
}

registry::Client& client() {
    static registry::Client c{registry::RegistryConfig{}};
    return c;
}

Result<image::ImportResult> import_into(image::ImageStore& store, const std::string& name) {
    GROVE_ASSIGN_OR_RETURN(
        auto ref, oci::Reference::parse(fixture().registry->host() + "/" + name + ":latest"));
    image::RegistrySource source(client(), ref);
    return store.import(source, {});
}

void grove_import(benchmark::State& state, const std::string& name) {
    for (auto _ : state) {
        state.PauseTiming();
        auto created = base::TempDir::create("grove-bench-store-", "/var/tmp");
        if (!created) {
            state.SkipWithError(created.error().message().c_str());
            return;
        }
        std::optional<base::TempDir> dir(std::move(created).value());
        state.ResumeTiming();
        auto store =
            image::ImageStore::open(dir->path(), base::Logger::stderr_text(base::LogLevel::kWarn));
        auto imported =
            store ? import_into(**store, name) : Result<image::ImportResult>(store.error());
        if (!imported) {
            state.SkipWithError(imported.error().message().c_str());
            return;
        }
        state.PauseTiming();
        dir.reset();  // removing the store is not part of an import
        state.ResumeTiming();
    }
}

void peer_import(benchmark::State& state, const std::string& name) {
    for (auto _ : state) {
        state.PauseTiming();
        auto dir = base::TempDir::create("grove-bench-peer-", "/var/tmp");
        const std::string layout = "oci:" + (dir->path() / "layout").string() + ":latest";
        state.ResumeTiming();
        auto copied = base::run_command(
            {.argv = {"skopeo", "--insecure-policy", "copy", "--quiet", "--src-tls-verify=false",
                      fixture().registry->docker_ref(name + ":latest"), layout}},
            std::chrono::minutes(10));
        auto unpacked = base::run_command(
            {.argv = {"umoci", "unpack", "--image", (dir->path() / "layout").string() + ":latest",
                      (dir->path() / "bundle").string()}},
            std::chrono::minutes(10));
        if (!copied || !copied->status.success() || !unpacked || !unpacked->status.success()) {
            state.SkipWithError(
                fmt::format("peer failed: {}", unpacked ? unpacked->err : "").c_str());
            return;
        }
    }
}

void grove_reimport(benchmark::State& state, const std::string& name) {
    auto dir = base::TempDir::create("grove-bench-store-", "/var/tmp");
    if (!dir) {
        state.SkipWithError(dir.error().message().c_str());
        return;
    }
    auto store =
        image::ImageStore::open(dir->path(), base::Logger::stderr_text(base::LogLevel::kWarn));
    if (!store || !import_into(**store, name)) {
        state.SkipWithError("first import failed");
        return;
    }
    for (auto _ : state) {
        auto again = import_into(**store, name);
        if (!again || !again->existed) {
            state.SkipWithError("re-import was not a no-op");
            return;
        }
    }
}

const bool kRegistered = [] {
    for (const std::string name : {"busybox", "layers", "debian"}) {
        const std::string grove = "GroveImport/" + name;
        const std::string peer = "SkopeoUmoci/" + name;
        benchmark::RegisterBenchmark(
            grove.c_str(),
            [name](benchmark::State& s) {
                if (!fixture().error.empty() ||
                    std::find(fixture().images.begin(), fixture().images.end(), name) ==
                        fixture().images.end()) {
                    s.SkipWithError(fixture().error.empty() ? "image not built"
                                                            : fixture().error.c_str());
                    return;
                }
                grove_import(s, name);
            })
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime()
            ->Iterations(3);
        if (name != "layers") {
            benchmark::RegisterBenchmark(
                peer.c_str(),
                [name](benchmark::State& s) {
                    if (!fixture().error.empty() ||
                        std::find(fixture().images.begin(), fixture().images.end(), name) ==
                            fixture().images.end()) {
                        s.SkipWithError("no fixture");
                        return;
                    }
                    peer_import(s, name);
                })
                ->Unit(benchmark::kMillisecond)
                ->UseRealTime()
                ->Iterations(3);
            compare(grove, peer);
        }
        benchmark::RegisterBenchmark(("GroveReimport/" + name).c_str(),
                                     [name](benchmark::State& s) {
                                         if (!fixture().error.empty()) {
                                             s.SkipWithError(fixture().error.c_str());
                                             return;
                                         }
                                         grove_reimport(s, name);
                                     })
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime()
            ->Iterations(20);
    }
    return true;
}();

}  // namespace
}  // namespace grove::bench
