#pragma once

// A fresh metadata store in a temp dir per test, plus builders for records.

#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/temp_dir.hpp"
#include "store/metadata/database.hpp"
#include "store/metadata/image_table.hpp"
#include "store/metadata/layer_table.hpp"
#include "store/metadata/records.hpp"
#include "store/metadata/uuid.hpp"

namespace grove::store {

class MetadataTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto dir = base::TempDir::create("grove-metadata-");
        ASSERT_TRUE(dir) << dir.error().to_string();
        dir_.emplace(std::move(dir).value());
        auto db = Database::open(db_path());
        ASSERT_TRUE(db) << db.error().to_string();
        db_.emplace(std::move(db).value());
    }

    std::filesystem::path db_path() const { return dir_->path() / "metadata.db"; }
    Database& db() { return *db_; }

    // A run image (imported if it has no parent) created at `created_ns`.
    static ImageRecord image(int64_t created_ns, std::optional<std::string> parent = {}) {
        return ImageRecord{.uuid = new_uuid(),
                           .parent = std::move(parent),
                           .kind = ImageKind::kRun,
                           .created_ns = created_ns,
                           .operation = "op",
                           .config_json = "{}"};
    }

    // Inserts `record` and returns its uuid; fails the test on error.
    std::string add(const ImageRecord& record, const std::vector<std::string>& blobs = {}) {
        auto inserted = ImageTable(db()).insert(record, blobs);
        EXPECT_TRUE(inserted) << inserted.error().to_string();
        return record.uuid;
    }

    // Inserts a pending layer and returns its id.
    int64_t add_pending_layer(const std::string& key, std::optional<int64_t> parent = {}) {
        auto id = LayerTable(db()).insert_pending(LayerRecord{.key = key, .parent = parent});
        EXPECT_TRUE(id) << id.error().to_string();
        return id.value_or(0);
    }

    // Inserts a layer, marks it ready with size 1 and returns its id.
    int64_t add_layer(const std::string& key, std::optional<int64_t> parent = {}) {
        const int64_t id = add_pending_layer(key, parent);
        auto marked = LayerTable(db()).mark_ready(id, 1);
        EXPECT_TRUE(marked) << marked.error().to_string();
        return id;
    }

    std::optional<base::TempDir> dir_;
    std::optional<Database> db_;
};

inline std::vector<std::string> uuids_of(const std::vector<ImageRecord>& images) {
    std::vector<std::string> uuids;
    uuids.reserve(images.size());
    for (const auto& image : images) {
        uuids.push_back(image.uuid);
    }
    return uuids;
}

}  // namespace grove::store
