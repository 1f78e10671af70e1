// The image store end to end on the fixture images: import from OCI layouts, read the result
// through its layers, and every rule around it: whiteouts and opaque directories, shared layers,
// no-op re-imports, platform selection, verification failures that leave nothing behind, crash
// recovery, garbage collection, and concurrent imports. Unpacking writes whiteout devices and
// trusted xattrs, so these tests need root.

#include "image/image_store.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>

#include "base/json.hpp"
#include "base/temp_dir.hpp"
#include "helpers/requirements.hpp"
#include "helpers/test_images.hpp"
#include "image/layout_source.hpp"
#include "store/metadata/layer_table.hpp"

namespace grove::image {
namespace {

namespace fs = std::filesystem;
using testing::TestImages;

class ImageStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        GROVE_REQUIRE(grove::testing::missing_root());
        auto images = TestImages::load();
        ASSERT_TRUE(images) << images.error().to_string();
        images_.emplace(std::move(images).value());
        auto dir = base::TempDir::create("grove-store-");
        ASSERT_TRUE(dir);
        dir_.emplace(std::move(dir).value());
        reopen();
    }

    void reopen() {
        store_.reset();
        auto opened = ImageStore::open(dir_->path() / "root", base::Logger::stderr_text());
        ASSERT_TRUE(opened) << opened.error().to_string();
        store_ = std::move(opened).value();
    }

    Result<ImportResult> import_layout(const fs::path& layout, ImportOptions options = {}) {
        GROVE_ASSIGN_OR_RETURN(auto source, LayoutSource::open(layout, "latest"));
        return store_->import(*source, options);
    }
    ImportResult import_fixture(const std::string& name, ImportOptions options = {}) {
        auto result = import_layout(images_->dir() / name, std::move(options));
        EXPECT_TRUE(result) << name << ": " << result.error().to_string();
        return std::move(result).value();
    }

    std::string read(const store::ImageRecord& image, std::string_view path) {
        auto fs = store_->filesystem(image);
        EXPECT_TRUE(fs) << fs.error().to_string();
        auto node = fs->lookup(path);
        if (!node) {
            return "<" + std::string(code_name(node.error().code())) + ">";
        }
        auto fd = fs->open_file(*node);
        EXPECT_TRUE(fd) << fd.error().to_string();
        return base::read_all(fd->get()).value_or("<unreadable>");
    }

    size_t layer_dirs() const {
        const auto layers = dir_->path() / "root" / "layers";
        return static_cast<size_t>(std::distance(fs::directory_iterator(layers), {}));
    }

    // A copy of a fixture layout that a test may damage.
    fs::path copy_fixture(const std::string& name) {
        const fs::path copy = dir_->path() / ("copy-" + name);
        fs::copy(images_->dir() / name, copy, fs::copy_options::recursive);
        return copy;
    }

    std::optional<TestImages> images_;
    std::optional<base::TempDir> dir_;
    std::unique_ptr<ImageStore> store_;
};

TEST_F(ImageStoreTest, ROOT_ImportsBusyboxAndReadsItsFiles) {
    const auto result = import_fixture("busybox", {.tag = "busybox:latest"});
    EXPECT_FALSE(result.existed);
    const auto& image = result.image;
    EXPECT_EQ(image.tag, "busybox:latest");
    EXPECT_EQ(image.kind, store::ImageKind::kImported);
    EXPECT_EQ(image.manifest_digest,
              images_->image("busybox").at("manifest_digest").get<std::string>());
    EXPECT_NE(image.operation.find("oci:"), std::string::npos);
    EXPECT_GT(image.size_logical, 1'000'000u);
    EXPECT_EQ(read(image, "/etc/passwd").substr(0, 5), "root:");
    auto fs = store_->filesystem(image);
    ASSERT_TRUE(fs);
    auto sh = fs->lookup("/bin/sh", inspect::Follow::kNoFinal);
    ASSERT_TRUE(sh);
    EXPECT_TRUE(S_ISLNK(sh->st.st_mode));
    auto config = base::parse_json(image.config_json);
    ASSERT_TRUE(config);
    EXPECT_EQ((*config)["config"]["Labels"]["org.grove.test"], "busybox");

    auto by_tag = store_->find("busybox:latest");
    ASSERT_TRUE(by_tag);
    EXPECT_EQ(by_tag->uuid, image.uuid);
    auto by_prefix = store_->find(image.uuid.substr(0, 8));
    ASSERT_TRUE(by_prefix);
    EXPECT_EQ(by_prefix->uuid, image.uuid);

    // "use" takes a well-formed UUID as it is; "strict use" checks that the image exists.
    const std::string unknown = "01234567-89ab-4cde-8f01-23456789abcd";
    EXPECT_EQ(*store_->resolve(unknown, ImageStore::Lookup::kLenient), unknown);
    EXPECT_EQ(store_->resolve(unknown, ImageStore::Lookup::kStrict).error().code(),
              Code::kNotFound);
    EXPECT_EQ(*store_->resolve("busybox:latest", ImageStore::Lookup::kLenient), image.uuid);
    EXPECT_EQ(store_->resolve("no-such-tag", ImageStore::Lookup::kLenient).error().code(),
              Code::kNotFound);
}

TEST_F(ImageStoreTest, ROOT_LayersImageHonoursEveryLayerRule) {
    const auto image = import_fixture("layers").image;
    auto fs = store_->filesystem(image);
    ASSERT_TRUE(fs);
    EXPECT_EQ(read(image, "/data/gone.txt"), "<not_found>") << "whiteout";
    EXPECT_EQ(read(image, "/data/sgid-dir/inside.txt"), "<not_found>") << "directory whiteout";
    EXPECT_EQ(read(image, "/data/keep.txt"), "keep: modified by the zstd changes layer\n");
    EXPECT_EQ(read(image, "/data/plain.txt"), "from the uncompressed layer\n");
    auto replaced = fs->lookup("/data/replaced");
    ASSERT_TRUE(replaced);
    auto entries = fs->list(*replaced);
    ASSERT_TRUE(entries);
    ASSERT_EQ(entries->size(), 1u) << "opaque directory";
    EXPECT_EQ((*entries)[0].name, "new.txt");
    EXPECT_EQ(read(image, "/data/abs-link"), read(image, "/etc/passwd"));
    auto big = fs->lookup("/data/big.bin");
    ASSERT_TRUE(big);
    EXPECT_EQ(static_cast<uint64_t>(big->st.st_size), 64u << 20);
    auto many = fs->lookup("/data/many");
    ASSERT_TRUE(many);
    EXPECT_EQ(fs->list(*many)->size(), 10000u);
    auto setuid = fs->lookup("/data/setuid");
    ASSERT_TRUE(setuid);
    EXPECT_EQ(setuid->st.st_mode & 07777, 04755u);
    auto owned = fs->lookup("/data/owned-1000");
    ASSERT_TRUE(owned);
    EXPECT_EQ(owned->st.st_uid, 1000u);
    auto hard = fs->lookup("/data/hard-stable.txt");
    auto target = fs->lookup("/data/old-mtime");
    ASSERT_TRUE(hard && target);
    EXPECT_EQ(hard->st.st_ino, target->st.st_ino);
}

TEST_F(ImageStoreTest, ROOT_LayersAreSharedAndReimportIsAFastNoOp) {
    const auto busybox = import_fixture("busybox").image;
    EXPECT_EQ(layer_dirs(), 1u);
    const auto layers = import_fixture("layers").image;
    EXPECT_EQ(layer_dirs(), 4u) << "the busybox layer is shared";
    const auto multiarch = import_fixture("multiarch").image;
    EXPECT_EQ(layer_dirs(), 5u) << "multiarch/amd64 adds only its marker layer";

    const auto start = std::chrono::steady_clock::now();
    const auto again = import_fixture("layers", {.tag = "again"});
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_TRUE(again.existed);
    EXPECT_EQ(again.image.uuid, layers.uuid);
    EXPECT_EQ(again.image.tag, "again");
    EXPECT_LT(took, std::chrono::milliseconds(200)) << "re-import must not unpack anything";
    EXPECT_EQ(layer_dirs(), 5u);
    EXPECT_NE(busybox.uuid, multiarch.uuid);
}

TEST_F(ImageStoreTest, ROOT_IndexImportSelectsThePlatform) {
    const auto amd64 =
        import_fixture("multiarch", {.platform = *oci::Platform::parse("linux/amd64")});
    EXPECT_EQ(read(amd64.image, "/etc/grove-platform"), "linux/amd64\n");
    EXPECT_EQ(amd64.image.platform, "linux/amd64");
    const auto arm64 =
        import_fixture("multiarch", {.platform = *oci::Platform::parse("linux/arm64")});
    EXPECT_EQ(read(arm64.image, "/etc/grove-platform"), "linux/arm64/v8\n");
    EXPECT_NE(arm64.image.uuid, amd64.image.uuid);
    auto missing = import_layout(images_->dir() / "multiarch",
                                 {.platform = *oci::Platform::parse("linux/s390x")});
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code(), Code::kNotFound);
    EXPECT_NE(missing.error().message().find("linux/arm64/v8"), std::string::npos)
        << missing.error().message();
}

TEST_F(ImageStoreTest, ROOT_CorruptLayerFailsAndLeavesNothingBehind) {
    import_fixture("busybox");
    const fs::path layout = copy_fixture("layers");
    // Damage the zstd layer's blob without changing its size.
    const std::string digest = images_->image("layers").at("layers")[2].at("digest");
    const fs::path blob = layout / "blobs" / "sha256" / digest.substr(7);
    fs::permissions(blob, fs::perms::owner_write, fs::perm_options::add);
    {
        std::fstream f(blob, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(20);
        f.put('\x42');
    }
    auto result = import_layout(layout);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code(), Code::kDataLoss) << result.error().to_string();
    EXPECT_NE(result.error().message().find(digest), std::string::npos) << result.error().message();
    EXPECT_EQ(layer_dirs(), 1u) << "only busybox's layer remains";
    auto images = store_->list({});
    ASSERT_TRUE(images);
    EXPECT_EQ(images->size(), 1u);
    EXPECT_TRUE(fs::is_empty(dir_->path() / "root" / "content" / "ingest"));
    EXPECT_FALSE(
        fs::exists(dir_->path() / "root" / "content" / "blobs" / "sha256" / digest.substr(7)));
    // The layers that were unpacked before the failure were discarded too: a clean retry works.
    EXPECT_TRUE(import_layout(images_->dir() / "layers"));
}

TEST_F(ImageStoreTest, ROOT_WrongDiffIdIsDataLoss) {
    const fs::path layout = copy_fixture("busybox");
    // Rewrite the config with a wrong diff_id, and the manifest and index that name it.
    auto rewrite = [&](const base::Json& doc, const std::string& media_type) {
        const std::string bytes = doc.dump();
        const base::Digest d = base::Digest::sha256_of(bytes);
        std::ofstream(layout / "blobs" / "sha256" / std::string(d.encoded())) << bytes;
        return base::Json{{"mediaType", media_type}, {"digest", d.str()}, {"size", bytes.size()}};
    };
    auto load = [&](const std::string& digest) {
        std::ifstream in(layout / "blobs" / "sha256" / digest.substr(7));
        return *base::parse_json(std::string(std::istreambuf_iterator<char>(in), {}));
    };
    const std::string manifest_digest = images_->image("busybox").at("manifest_digest");
    base::Json manifest = load(manifest_digest);
    base::Json config = load(manifest["config"]["digest"]);
    config["rootfs"]["diff_ids"][0] = "sha256:" + std::string(64, '0');
    manifest["config"] = rewrite(config, "application/vnd.oci.image.config.v1+json");
    base::Json entry = rewrite(manifest, "application/vnd.oci.image.manifest.v1+json");
    entry["annotations"] = {{"org.opencontainers.image.ref.name", "latest"}};
    std::ofstream(layout / "index.json")
        << base::Json{{"schemaVersion", 2}, {"manifests", {entry}}}.dump();

    auto result = import_layout(layout);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code(), Code::kDataLoss);
    EXPECT_NE(result.error().message().find("but the image config says"), std::string::npos)
        << result.error().message();
    EXPECT_EQ(layer_dirs(), 0u);
}

TEST_F(ImageStoreTest, ROOT_RecoveryCollectsWhatACrashLeft) {
    const auto busybox = import_fixture("busybox").image;
    {
        // A crash mid-unpack: a pending layer with a half-written directory, and a stray one.
        auto db = store::Database::open(dir_->path() / "root" / "metadata.db");
        ASSERT_TRUE(db);
        auto id = store::LayerTable(*db).insert_pending({.key = "sha256:" + std::string(64, 'e')});
        ASSERT_TRUE(id);
        fs::create_directories(dir_->path() / "root" / "layers" / std::to_string(*id) / "half");
        fs::create_directories(dir_->path() / "root" / "layers" / "stray");
    }
    reopen();
    EXPECT_EQ(layer_dirs(), 1u);
    auto db = store::Database::open(dir_->path() / "root" / "metadata.db");
    EXPECT_TRUE(store::LayerTable(*db).pending()->empty());
    EXPECT_EQ(read(busybox, "/etc/group").substr(0, 5), "root:");
}

TEST_F(ImageStoreTest, ROOT_GarbageCollectionKeepsWhatImagesUse) {
    const auto busybox = import_fixture("busybox", {.tag = "keep"}).image;
    const auto layers = import_fixture("layers").image;
    EXPECT_EQ(layer_dirs(), 4u);
    auto nothing = store_->collect_garbage();
    ASSERT_TRUE(nothing);
    EXPECT_EQ(nothing->layers_removed, 0u);
    EXPECT_EQ(nothing->blobs_removed, 0u);

    ASSERT_TRUE(store_->remove(layers.uuid, {}));
    auto stats = store_->collect_garbage();
    ASSERT_TRUE(stats) << stats.error().to_string();
    EXPECT_EQ(stats->layers_removed, 3u);
    EXPECT_GE(stats->blobs_removed, 5u);  // 3 layers, config, manifest
    EXPECT_GT(stats->bytes_freed, 60u << 20);
    EXPECT_EQ(layer_dirs(), 1u);
    EXPECT_EQ(read(busybox, "/etc/passwd").substr(0, 5), "root:");
    // Tagged images are refused without force.
    EXPECT_EQ(store_->remove("keep", {}).error().code(), Code::kFailedPrecondition);
}

TEST_F(ImageStoreTest, ROOT_ConcurrentImportsOfOneImageUnpackItOnce) {
    std::vector<Result<ImportResult>> results(4, Error(Code::kInternal, "not run"));
    {
        std::vector<std::jthread> threads;
        for (auto& result : results) {
            threads.emplace_back([&] { result = import_layout(images_->dir() / "layers"); });
        }
    }
    std::set<std::string> uuids;
    for (const auto& result : results) {
        ASSERT_TRUE(result) << result.error().to_string();
        uuids.insert(result->image.uuid);
    }
    EXPECT_EQ(uuids.size(), 1u);
    EXPECT_EQ(layer_dirs(), 4u);
}

}  // namespace
}  // namespace grove::image
