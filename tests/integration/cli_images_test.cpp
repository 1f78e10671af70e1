// The `grove images` commands, run as a user runs them: the real binary as a child process, on a
// temporary store, importing from the real local registry and from the fixture layouts.

#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>

#include "base/child_process.hpp"
#include "base/json.hpp"
#include "base/temp_dir.hpp"
#include "helpers/local_registry.hpp"
#include "helpers/requirements.hpp"
#include "helpers/test_images.hpp"

namespace grove::testing {
namespace {

class CliImagesTest : public ::testing::Test {
protected:
    void SetUp() override {
        GROVE_REQUIRE(missing_root());
        GROVE_REQUIRE(missing_programs({"docker-registry", "skopeo"}));
        auto images = TestImages::load();
        ASSERT_TRUE(images) << images.error().to_string();
        images_.emplace(std::move(images).value());
        auto dir = base::TempDir::create("grove-cli-");
        ASSERT_TRUE(dir);
        dir_.emplace(std::move(dir).value());
    }

    // Runs `grove --root <tmp> <args...>`.
    base::CommandOutput grove(std::vector<std::string> args) {
        std::vector<std::string> argv = {GROVE_BINARY, "--root", (dir_->path() / "root").string()};
        argv.insert(argv.end(), args.begin(), args.end());
        auto out = base::run_command({.argv = argv}, std::chrono::minutes(2));
        EXPECT_TRUE(out) << out.error().to_string();
        return out.value_or(base::CommandOutput{.status = {.code = -1}});
    }

    // The last line of stdout: what `images import` prints the UUID on.
    static std::string last_line(const std::string& out) {
        std::string trimmed = out.substr(0, out.find_last_not_of('\n') + 1);
        return trimmed.substr(trimmed.find_last_of('\n') + 1);
    }

    std::optional<TestImages> images_;
    std::optional<base::TempDir> dir_;
};

TEST_F(CliImagesTest, ROOT_ImportFromRegistryThroughAMirrorThenListTagRemoveAndPrune) {
    auto registry = LocalRegistry::start();
    ASSERT_TRUE(registry) << registry.error().to_string();
    ASSERT_TRUE(registry->push(images_->oci_ref("layers"), "library/layers:latest",
                               {"--preserve-digests"}));
    // "layers" means docker.io/library/layers: served by the mirror, docker.io never contacted.
    auto imported = grove({"--registry-mirror", "docker.io=http://" + registry->host(), "images",
                           "import", "layers", "--tag", "team/layers"});
    ASSERT_TRUE(imported.status.success()) << imported.err;
    const std::string uuid = last_line(imported.out);
    EXPECT_EQ(uuid.size(), 36u) << imported.out;
    EXPECT_NE(imported.err.find("imported docker.io/library/layers:latest"), std::string::npos)
        << imported.err;

    // The same image from its layout is the same manifest: a no-op returning the same UUID.
    auto again = grove({"images", "import", "-q", "oci:" + (images_->dir() / "layers").string()});
    ASSERT_TRUE(again.status.success()) << again.err;
    EXPECT_EQ(last_line(again.out), uuid);

    auto busybox = grove({"images", "import", "-q", images_->oci_ref("busybox")});
    ASSERT_TRUE(busybox.status.success()) << busybox.err;

    auto listed = grove({"images", "ls", "--json"});
    ASSERT_TRUE(listed.status.success()) << listed.err;
    auto json = base::parse_json(listed.out);
    ASSERT_TRUE(json) << listed.out;
    ASSERT_EQ(json->size(), 2u);
    EXPECT_EQ((*json)[1]["uuid"], uuid) << "newest first";
    EXPECT_EQ((*json)[1]["tag"], "team/layers");

    auto tagged = grove({"images", "ls", "--tagged", "--prefix", "team/"});
    EXPECT_NE(tagged.out.find(uuid), std::string::npos) << tagged.out;
    EXPECT_EQ(tagged.out.find(last_line(busybox.out)), std::string::npos) << tagged.out;
    auto recent = grove({"images", "ls", "--since", "10m", "--json"});
    EXPECT_EQ(base::parse_json(recent.out)->size(), 2u);
    auto future = grove({"images", "ls", "--since", "2200-01-01", "--json"});
    EXPECT_EQ(base::parse_json(future.out)->size(), 0u);

    // Tags move; a tagged image needs --force; prune removes untagged leaves and their layers.
    ASSERT_TRUE(grove({"images", "tag", uuid.substr(0, 8), "moved"}).status.success());
    auto refused = grove({"images", "rm", "moved"});
    EXPECT_FALSE(refused.status.success());
    EXPECT_NE(refused.err.find("grove: "), std::string::npos);
    auto pruned = grove({"images", "prune"});
    ASSERT_TRUE(pruned.status.success()) << pruned.err;
    EXPECT_EQ(last_line(pruned.out), last_line(busybox.out));
    EXPECT_NE(pruned.err.find("removed 1 images, 0 layers"), std::string::npos)
        << "busybox's layer is shared with layers: " << pruned.err;
    ASSERT_TRUE(grove({"images", "rm", "--force", "moved"}).status.success());
    auto emptied = grove({"images", "prune"});
    EXPECT_NE(emptied.err.find("4 layers"), std::string::npos) << emptied.err;
}

TEST_F(CliImagesTest, ROOT_ErrorsAreClearAndExitNonZero) {
    auto bad_ref = grove({"images", "import", "Not/A/Valid:Ref"});
    EXPECT_EQ(bad_ref.status.code, 1);
    EXPECT_NE(bad_ref.err.find("invalid reference"), std::string::npos) << bad_ref.err;
    auto missing = grove({"images", "import", "oci:/no/such/layout"});
    EXPECT_EQ(missing.status.code, 1);
    auto unknown = grove({"images", "rm", "no-such-image"});
    EXPECT_EQ(unknown.status.code, 1);
    EXPECT_NE(unknown.err.find("no-such-image"), std::string::npos) << unknown.err;
    auto bad_time = grove({"images", "ls", "--since", "yesterday"});
    EXPECT_EQ(bad_time.status.code, 1);
    EXPECT_NE(bad_time.err.find("invalid time 'yesterday'"), std::string::npos) << bad_time.err;
}

TEST_F(CliImagesTest, ROOT_ReadsFilesWithoutRunningAnything) {
    auto imported = grove({"images", "import", "-q", images_->oci_ref("layers"), "--tag", "l"});
    ASSERT_TRUE(imported.status.success()) << imported.err;

    auto listed = grove({"ls", "l", "/data", "--json"});
    ASSERT_TRUE(listed.status.success()) << listed.err;
    auto entries = base::parse_json(listed.out);
    ASSERT_TRUE(entries) << listed.out;
    std::map<std::string, base::Json> by_name;
    for (const auto& entry : *entries) {
        by_name[entry["name"]] = entry;
    }
    EXPECT_FALSE(by_name.contains("gone.txt")) << "whited out";
    EXPECT_EQ(by_name["big.bin"]["size"], 64u << 20);
    EXPECT_EQ(by_name["setuid"]["mode"], "4755");
    EXPECT_EQ(by_name["abs-link"]["target"], "/etc/passwd");
    EXPECT_EQ(by_name["owned-1000"]["uid"], 1000);
    auto long_listing = grove({"ls", "l", "/data/setuid"});
    EXPECT_EQ(long_listing.out.substr(0, 10), "-rwsr-xr-x") << long_listing.out;

    // Symlinks and '..' resolve inside the image: never the host's files.
    auto through_link = grove({"cat", "l", "/data/abs-link"});
    EXPECT_EQ(through_link.out.substr(0, 30), "root:x:0:0:root:/root:/bin/sh\n");
    auto escape = grove({"cat", "l", "/../../../etc/shadow"});
    EXPECT_EQ(escape.status.code, 1) << "the image has no /etc/shadow; the host's must not leak";
    EXPECT_TRUE(escape.out.empty());

    auto found = grove({"grep", "l", "-i", "ORIGINAL|MODIFIED", "-p", "/data"});
    EXPECT_EQ(found.status.code, 0) << found.err;
    // hard.txt kept the base layer's content: the changes layer replaced keep.txt, not the inode.
    EXPECT_EQ(found.out,
              "/data/hard.txt:1:keep: original content from the base layer\n"
              "/data/keep.txt:1:keep: modified by the zstd changes layer\n");
    EXPECT_EQ(grove({"grep", "l", "-F", "no such text anywhere"}).status.code, 1);
    EXPECT_EQ(grove({"grep", "l", "bad[regex"}).status.code, 2);

    const auto dest = dir_->path() / "out";
    std::filesystem::create_directories(dest);
    ASSERT_TRUE(grove({"cp", "l:/data/odd", dest.string()}).status.success());
    EXPECT_TRUE(std::filesystem::exists(dest / "odd" / "ünïcødé-文件.txt"));
    EXPECT_TRUE(std::filesystem::exists(dest / "odd" / "with space.txt"));
    ASSERT_TRUE(grove({"cp", "l:/data/keep.txt", (dest / "keep").string()}).status.success());
    EXPECT_EQ(std::filesystem::file_size(dest / "keep"), 41u);
    auto tar = grove({"cp", "l:/data/replaced", "-"});
    ASSERT_TRUE(tar.status.success()) << tar.err;
    EXPECT_NE(tar.out.find("data/replaced/new.txt"), std::string::npos);
    EXPECT_EQ(tar.out.find("old1.txt"), std::string::npos) << "opaque directory";
    EXPECT_EQ(grove({"cp", "l:relative", dest.string()}).status.code, 1);
}

TEST_F(CliImagesTest, ROOT_RunStreamsOutputExitsWithTheCommandsCodeAndSnapshots) {
    ASSERT_TRUE(grove({"images", "import", "-q", images_->oci_ref("busybox"), "--tag", "bb"})
                    .status.success());
    auto hello = grove({"run", "bb", "--", "/bin/echo", "hello"});
    EXPECT_EQ(hello.status.code, 0);
    EXPECT_EQ(hello.out, "hello\n");
    EXPECT_NE(hello.err.find("unchanged, image"), std::string::npos) << hello.err;
    EXPECT_EQ(grove({"run", "bb", "-s", "exit 42"}).status.code, 42);
    EXPECT_EQ(grove({"run", "bb", "-t", "0.3", "-s", "sleep 60"}).status.code, 124);

    // The CLI snapshots by default, so a session is a chain of images.
    auto step = grove({"run", "bb", "--tag", "next", "-s", "echo 1 > /root/n"});
    ASSERT_TRUE(step.status.success()) << step.err;
    EXPECT_NE(step.err.find("new image"), std::string::npos) << step.err;
    EXPECT_EQ(grove({"cat", "next", "/root/n"}).out, "1\n");
    auto json =
        grove({"run", "--disposable", "--json", "next", "-s", "cat /root/n; echo e >&2; exit 5"});
    EXPECT_EQ(json.status.code, 5);
    auto result = base::parse_json(json.out);
    ASSERT_TRUE(result) << json.out;
    EXPECT_EQ((*result)["stdout"], "1\n");
    EXPECT_EQ((*result)["stderr"], "e\n");
    EXPECT_EQ((*result)["exit_code"], 5);
    EXPECT_TRUE((*result)["result_image"].is_null()) << "disposable";
    EXPECT_EQ(grove({"run", "bb"}).status.code, 1) << "no command";

    const auto local = dir_->path() / "tool";
    std::ofstream(local) << "#!/bin/sh\necho tool ran\n";
    auto injected = grove({"run", "--disposable", "bb", "-f",
                           local.string() + ":/usr/local/bin/tool:755", "--", "tool"});
    EXPECT_EQ(injected.status.code, 0) << injected.err;
    EXPECT_EQ(injected.out, "tool ran\n");

    auto capped = grove({"run", "--json", "--max-layer-size", "1m", "bb", "-s",
                         "dd if=/dev/zero of=/big bs=64k count=64 2>/dev/null"});
    auto capped_result = base::parse_json(capped.out);
    ASSERT_TRUE(capped_result) << capped.out << capped.err;
    EXPECT_EQ((*capped_result)["layer_too_large"], true);
    EXPECT_TRUE((*capped_result)["result_image"].is_null()) << "nothing kept";
    auto wifi = grove({"run", "--network", "wifi", "bb", "--", "true"});
    EXPECT_NE(wifi.status.code, 0);
    EXPECT_NE(wifi.err.find("wifi not in {none,host}"), std::string::npos) << wifi.err;
    // Interface names only: the counters move while the test runs.
    const std::string names = "grep : /proc/net/dev | cut -d: -f1 | tr -d ' '";
    const auto host_names =
        base::run_command({.argv = {"/bin/sh", "-c", names}}, std::chrono::seconds(10));
    ASSERT_TRUE(host_names);
    EXPECT_EQ(grove({"run", "--disposable", "--network", "host", "bb", "-s", names}).out,
              host_names->out);
    if (base::find_program("crun").has_value()) {
        auto crun = grove({"run", "--disposable", "--runtime", "crun", "bb", "--", "echo", "hi"});
        EXPECT_EQ(crun.out, "hi\n") << crun.err;
    }
}

}  // namespace
}  // namespace grove::testing
