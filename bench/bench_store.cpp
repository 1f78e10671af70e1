#include "bench_store.hpp"

#include <cstdlib>

#include <fmt/format.h>

#include "base/log.hpp"
#include "image/layout_source.hpp"

namespace grove::bench {

Result<testing::TestImages> bench_images() {
    if (std::getenv("GROVE_TEST_IMAGES") == nullptr) {
        const char* home = std::getenv("HOME");
        ::setenv("GROVE_TEST_IMAGES",
                 fmt::format("{}/.cache/grove-tests/bench-images", home ? home : "").c_str(), 0);
    }
    return testing::TestImages::load();
}

BenchStore open_bench_store(std::string_view prefix,
                            const std::string& name,
                            std::optional<std::string> tag) {
    BenchStore out;
    auto images = bench_images();
    auto dir = base::TempDir::create(prefix, "/var/tmp");
    if (!images || !dir) {
        out.error = !images ? images.error().message() : dir.error().message();
        return out;
    }
    out.dir.emplace(std::move(dir).value());
    auto store =
        image::ImageStore::open(out.root(), base::Logger::stderr_text(base::LogLevel::kWarn));
    auto source = image::LayoutSource::open(images->dir() / name, "latest");
    if (!store || !source) {
        out.error = fmt::format("cannot open the store or the {} layout", name);
        return out;
    }
    out.store = std::move(store).value();
    auto imported = out.store->import(**source, {.tag = std::move(tag)});
    if (!imported) {
        out.error = imported.error().message();
        return out;
    }
    out.base = imported->image;
    return out;
}

}  // namespace grove::bench
