#pragma once

// What the run benchmarks start from: a fresh image store under /var/tmp with one test image
// imported. The images come from $GROVE_TEST_IMAGES, by default the cache the bench scripts fill
// (~/.cache/grove-tests/bench-images).

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <grove/result.hpp>

#include "base/temp_dir.hpp"
#include "helpers/test_images.hpp"
#include "image/image_store.hpp"

namespace grove::bench {

struct BenchStore {
    std::optional<base::TempDir> dir;
    std::unique_ptr<image::ImageStore> store;
    store::ImageRecord base;  // the imported image
    std::string error;        // set when any of it failed

    std::filesystem::path root() const { return dir->path() / "root"; }
};

Result<testing::TestImages> bench_images();

// A store in a new /var/tmp/<prefix>XXXXXX/root with test image `name` imported (tagged `tag`).
BenchStore open_bench_store(std::string_view prefix,
                            const std::string& name,
                            std::optional<std::string> tag = std::nullopt);

}  // namespace grove::bench
