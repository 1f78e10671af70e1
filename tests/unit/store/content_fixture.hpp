#pragma once

// A content store in a fresh temporary directory, shared by the content store tests.

#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "base/temp_dir.hpp"
#include "store/content/content_store.hpp"

namespace grove::store {

class ContentFixture : public ::testing::Test {
protected:
    void SetUp() override {
        auto dir = base::TempDir::create("grove-content-");
        ASSERT_TRUE(dir) << dir.error().to_string();
        dir_.emplace(std::move(dir).value());
        root_ = dir_->path() / "content";
        auto store = ContentStore::open(root_);
        ASSERT_TRUE(store) << store.error().to_string();
        store_.emplace(std::move(store).value());
    }

    size_t ingest_count() const {
        const std::filesystem::directory_iterator it(root_ / "ingest");
        return static_cast<size_t>(std::distance(begin(it), end(it)));
    }

    static std::string read_file(const std::filesystem::path& path) {
        std::ifstream in(path, std::ios::binary);
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }

    // The ingest directory of `ref`, as content_store.hpp lays it out.
    std::filesystem::path ingest_dir(const std::string& ref) const {
        return root_ / "ingest" / base::Digest::sha256_of(ref).encoded().substr(0, 32);
    }

    std::optional<base::TempDir> dir_;
    std::filesystem::path root_;
    std::optional<ContentStore> store_;
};

}  // namespace grove::store
