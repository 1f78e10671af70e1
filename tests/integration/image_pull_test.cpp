// Imports from the real local registry, end to end: every fixture image, authenticated pulls,
// and the failures a registry can throw at an import (a missing tag, wrong credentials, a
// connection dropped mid-layer, a corrupted blob), each leaving the store as it was.

#include <fstream>

#include <gtest/gtest.h>

#include "base/temp_dir.hpp"
#include "helpers/flaky_proxy.hpp"
#include "helpers/local_registry.hpp"
#include "helpers/requirements.hpp"
#include "helpers/test_images.hpp"
#include "image/image_store.hpp"
#include "image/layout_source.hpp"
#include "image/registry_source.hpp"

namespace grove::testing {
namespace {

namespace fs = std::filesystem;

class ImagePullTest : public ::testing::Test {
protected:
    void SetUp() override {
        GROVE_REQUIRE(missing_root());
        GROVE_REQUIRE(missing_program("docker-registry"));
        GROVE_REQUIRE(missing_program("skopeo"));
        auto images = TestImages::load();
        ASSERT_TRUE(images) << images.error().to_string();
        images_.emplace(std::move(images).value());
        auto dir = base::TempDir::create("grove-pull-");
        ASSERT_TRUE(dir);
        dir_.emplace(std::move(dir).value());
        auto store = image::ImageStore::open(dir_->path() / "root", base::Logger::stderr_text());
        ASSERT_TRUE(store) << store.error().to_string();
        store_ = std::move(store).value();
    }

    LocalRegistry start(RegistryOptions options, const std::vector<std::string>& names) {
        auto registry = LocalRegistry::start(std::move(options));
        EXPECT_TRUE(registry) << registry.error().to_string();
        for (const auto& name : names) {
            EXPECT_TRUE(registry->push(images_->oci_ref(name), name + ":latest",
                                       {"--all", "--preserve-digests"}));
        }
        return std::move(registry).value();
    }

    Result<image::ImportResult> pull(const std::string& ref,
                                     std::optional<registry::Credentials> login = {},
                                     std::string host = {}) {
        GROVE_ASSIGN_OR_RETURN(auto reference, oci::Reference::parse(ref));
        registry::RegistryConfig config;
        if (login) {
            config.hosts[host.empty() ? reference.domain : host].credentials = login;
        }
        registry::Client client(std::move(config));
        image::RegistrySource source(client, reference);
        return store_->import(source, {});
    }

    size_t layer_dirs() const {
        return static_cast<size_t>(
            std::distance(fs::directory_iterator(dir_->path() / "root" / "layers"), {}));
    }
    size_t image_count() const { return store_->list({})->size(); }

    std::optional<TestImages> images_;
    std::optional<base::TempDir> dir_;
    std::unique_ptr<image::ImageStore> store_;
};

TEST_F(ImagePullTest, ROOT_PullsEveryFixtureImageAndMatchesItsLayoutImport) {
    const auto registry = start({}, {"busybox", "layers", "multiarch"});
    for (const std::string name : {"busybox", "layers", "multiarch"}) {
        SCOPED_TRACE(name);
        auto pulled = pull(registry.host() + "/" + name + ":latest");
        ASSERT_TRUE(pulled) << pulled.error().to_string();
        EXPECT_FALSE(pulled->existed);
        // The layout holds the same bytes: importing it is a no-op onto the same image.
        auto layout = image::LayoutSource::open(images_->dir() / name, "latest");
        ASSERT_TRUE(layout);
        auto again = store_->import(**layout, {});
        ASSERT_TRUE(again) << again.error().to_string();
        EXPECT_TRUE(again->existed);
        EXPECT_EQ(again->image.uuid, pulled->image.uuid);
    }
    auto files = store_->filesystem(*store_->find(store_->list({})->front().uuid));
    ASSERT_TRUE(files);
    EXPECT_TRUE(files->lookup("/etc/grove-platform")) << "multiarch was imported last";
    EXPECT_EQ(layer_dirs(), 5u);
}

TEST_F(ImagePullTest, ROOT_TokenAuthenticatedPullsAndWrongCredentials) {
    const RegistryOptions options{
        .auth = RegistryOptions::Auth::kToken, .user = "agent", .password = "t0ken"};
    const auto registry = start(options, {});
    ASSERT_TRUE(registry.push(images_->oci_ref("busybox"), "private/busybox:latest"));
    const std::string ref = registry.host() + "/private/busybox:latest";

    auto anonymous = pull(ref);
    ASSERT_FALSE(anonymous);
    EXPECT_EQ(anonymous.error().code(), Code::kUnauthenticated) << anonymous.error().to_string();
    auto wrong = pull(ref, registry::Credentials{"agent", "wrong"});
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().code(), Code::kUnauthenticated) << wrong.error().to_string();
    EXPECT_EQ(image_count(), 0u);
    EXPECT_EQ(layer_dirs(), 0u);

    auto pulled = pull(ref, registry::Credentials{"agent", "t0ken"});
    ASSERT_TRUE(pulled) << pulled.error().to_string();
    EXPECT_EQ(image_count(), 1u);
}

TEST_F(ImagePullTest, ROOT_MissingTagAndRepositoryAreNotFound) {
    const auto registry = start({}, {"busybox"});
    auto tag = pull(registry.host() + "/busybox:no-such-tag");
    ASSERT_FALSE(tag);
    EXPECT_EQ(tag.error().code(), Code::kNotFound) << tag.error().to_string();
    auto repo = pull(registry.host() + "/no/such/repo:latest");
    ASSERT_FALSE(repo);
    EXPECT_EQ(repo.error().code(), Code::kNotFound) << repo.error().to_string();
    EXPECT_EQ(image_count(), 0u);
}

TEST_F(ImagePullTest, ROOT_ConnectionDroppedMidLayerResumes) {
    const auto registry = start({}, {"layers"});
    auto proxy = FlakyProxy::start(
        {.upstream = registry.host(), .flaky_connections = 3, .drop_after_bytes = 4 << 20});
    ASSERT_TRUE(proxy) << proxy.error().to_string();
    auto pulled = pull((*proxy)->host() + "/layers:latest");
    ASSERT_TRUE(pulled) << pulled.error().to_string();
    auto files = store_->filesystem(pulled->image);
    ASSERT_TRUE(files);
    auto big = files->lookup("/data/big.bin");
    ASSERT_TRUE(big);
    EXPECT_EQ(big->st.st_size, 64 << 20);
    EXPECT_GT((*proxy)->connections(), 3) << "the drops forced new connections";
}

TEST_F(ImagePullTest, ROOT_CorruptBlobInTheRegistryFailsCleanly) {
    const auto registry = start({}, {"layers"});
    const std::string digest = images_->image("layers").at("layers")[1].at("digest");
    const fs::path data = registry.storage_dir() / "docker/registry/v2/blobs/sha256" /
                          digest.substr(7, 2) / digest.substr(7) / "data";
    ASSERT_TRUE(fs::exists(data)) << data;
    {
        std::fstream f(data, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(1 << 20);
        f.put('\x5a');
    }
    auto pulled = pull(registry.host() + "/layers:latest");
    ASSERT_FALSE(pulled);
    EXPECT_EQ(pulled.error().code(), Code::kDataLoss) << pulled.error().to_string();
    EXPECT_NE(pulled.error().message().find(digest), std::string::npos);
    EXPECT_EQ(image_count(), 0u);
    EXPECT_EQ(layer_dirs(), 0u);
    EXPECT_FALSE(fs::exists(dir_->path() / "root/content/blobs/sha256" / digest.substr(7)));
    EXPECT_TRUE(fs::is_empty(dir_->path() / "root/content/ingest"));
}

}  // namespace
}  // namespace grove::testing
