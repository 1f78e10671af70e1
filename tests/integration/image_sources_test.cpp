// The import sources besides registries and OCI layouts, end to end through ImageStore:
// oci-archive and docker-archive files written by skopeo (and a Docker 25-style archive holding
// an OCI layout), rootfs directories and tarballs, hostile archives, and the CLI's source syntax.
// Unpacking writes owners, whiteouts and trusted xattrs, so the import tests need root.

#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <tuple>
#include <unistd.h>

#include <gtest/gtest.h>

#include "base/child_process.hpp"
#include "base/json.hpp"
#include "base/temp_dir.hpp"
#include "helpers/requirements.hpp"
#include "helpers/test_images.hpp"
#include "image/image_store.hpp"
#include "image/rootfs_tar.hpp"
#include "image/source_spec.hpp"

namespace grove::image {
namespace {

namespace fs = std::filesystem;
using testing::TestImages;

void write_file(const fs::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}
std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// Runs a command, writing its stdout to `stdout_file` when given.
void run(std::vector<std::string> argv, const fs::path& stdout_file = {}) {
    auto out = base::run_command({.argv = argv}, std::chrono::seconds(60));
    ASSERT_TRUE(out) << out.error().to_string();
    ASSERT_TRUE(out->status.success()) << argv[0] << ": " << out->err;
    if (!stdout_file.empty()) {
        write_file(stdout_file, out->out);
    }
}

class ImageSourcesTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto images = TestImages::load();
        ASSERT_TRUE(images) << images.error().to_string();
        images_.emplace(std::move(images).value());
        auto dir = base::TempDir::create("grove-sources-");
        ASSERT_TRUE(dir);
        dir_.emplace(std::move(dir).value());
        fs::create_directory(scratch());
    }

    void open_store() {
        auto opened = ImageStore::open(dir_->path() / "root", base::Logger::stderr_text());
        ASSERT_TRUE(opened) << opened.error().to_string();
        store_ = std::move(opened).value();
    }

    fs::path tmp() const { return dir_->path(); }
    fs::path scratch() const { return dir_->path() / "scratch"; }
    std::string busybox_layout() const { return (images_->dir() / "busybox").string(); }

    Result<ImportResult> import(const std::string& spec) {
        GROVE_ASSIGN_OR_RETURN(auto source, open_source(spec, {.scratch = scratch()}));
        return store_->import(*source, {});
    }
    ImportResult must_import(const std::string& spec) {
        auto result = import(spec);
        EXPECT_TRUE(result) << spec << ": " << result.error().to_string();
        return std::move(result).value();
    }

    Result<inspect::Node> lookup(const store::ImageRecord& image,
                                 std::string_view path,
                                 inspect::Follow follow = inspect::Follow::kFinal) {
        GROVE_ASSIGN_OR_RETURN(auto fs, store_->filesystem(image));
        return fs.lookup(path, follow);
    }
    // A file's contents, or "<code>" when it cannot be read.
    std::string read(const store::ImageRecord& image, std::string_view path) {
        auto fs = store_->filesystem(image);
        auto node = fs ? fs->lookup(path) : Result<inspect::Node>(fs.error());
        auto fd = node ? fs->open_file(*node) : Result<base::UniqueFd>(node.error());
        if (!fd) {
            return "<" + std::string(code_name(fd.error().code())) + ">";
        }
        return base::read_all(fd->get()).value_or("<unreadable>");
    }
    static std::string diff_ids(const store::ImageRecord& image) {
        return base::parse_json(image.config_json).value()["rootfs"]["diff_ids"].dump();
    }

    size_t layer_dirs() const {
        return static_cast<size_t>(
            std::distance(fs::directory_iterator(tmp() / "root/layers"), {}));
    }

    // A small tree with one entry of every kind a rootfs keeps, and a device node it skips.
    fs::path make_rootfs() {
        fs::path root = tmp() / "rootfs";
        fs::create_directories(root / "etc");
        fs::create_directory(root / "bin");
        write_file(root / "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
        write_file(root / "bin/tool", "#!/bin/sh\necho tool\n");
        fs::create_symlink("tool", root / "bin/link");
        fs::create_symlink("/etc", root / "escape");
        fs::create_hard_link(root / "etc/passwd", root / "etc/passwd-hard");
        EXPECT_EQ(::mkfifo((root / "fifo").c_str(), 0640), 0);
        EXPECT_EQ(::setxattr((root / "etc/passwd").c_str(), "user.grove", "yes", 3, 0), 0);
        EXPECT_EQ(::chown((root / "bin/tool").c_str(), 1000, 1001), 0);
        // After chown, which clears setuid.
        fs::permissions(root / "bin/tool", static_cast<fs::perms>(04755));
        EXPECT_EQ(::mknod((root / "null").c_str(), S_IFCHR | 0666, ::makedev(1, 3)), 0);
        return root;
    }

    // `dir` packed with GNU tar, names relative to it.
    fs::path tar_dir(const fs::path& dir, const std::string& name) {
        fs::path out = tmp() / name;
        run({"tar", "-C", dir.string(), "-cf", out.string(), "."});
        return out;
    }

    std::optional<TestImages> images_;
    std::optional<base::TempDir> dir_;
    std::unique_ptr<ImageStore> store_;
};

TEST_F(ImageSourcesTest, ROOT_OciArchiveImportsAndReimportIsANoOp) {
    GROVE_REQUIRE(grove::testing::missing_root());
    GROVE_REQUIRE(grove::testing::missing_program("skopeo"));
    open_store();
    const fs::path archive = tmp() / "bb.tar";
    run({"skopeo", "--insecure-policy", "copy", "oci:" + busybox_layout() + ":latest",
         "oci-archive:" + archive.string()});
    const auto first = must_import("oci-archive:" + archive.string());
    EXPECT_FALSE(first.existed);
    EXPECT_EQ(first.image.manifest_digest,
              images_->image("busybox").at("manifest_digest").get<std::string>());
    EXPECT_NE(first.image.operation.find("oci-archive:"), std::string::npos);
    EXPECT_EQ(read(first.image, "/etc/passwd").substr(0, 5), "root:");
    const auto again = must_import("oci-archive:" + archive.string());
    EXPECT_TRUE(again.existed);
    EXPECT_EQ(again.image.uuid, first.image.uuid);
    EXPECT_TRUE(fs::is_empty(scratch())) << "the extraction goes with the source";
}

TEST_F(ImageSourcesTest, ROOT_DockerArchiveSharesLayersWithTheOciImport) {
    GROVE_REQUIRE(grove::testing::missing_root());
    GROVE_REQUIRE(grove::testing::missing_program("skopeo"));
    open_store();
    const auto oci = must_import("oci:" + busybox_layout() + ":latest");
    EXPECT_EQ(layer_dirs(), 1u);
    const fs::path archive = tmp() / "bb-docker.tar";
    run({"skopeo", "--insecure-policy", "copy", "oci:" + busybox_layout() + ":latest",
         "docker-archive:" + archive.string() + ":busybox:latest"});

    const auto by_file = must_import("docker-archive:" + archive.string());
    EXPECT_FALSE(by_file.existed);
    EXPECT_EQ(layer_dirs(), 1u) << "same diff_ids: the layer is shared";
    EXPECT_EQ(diff_ids(by_file.image), diff_ids(oci.image));
    EXPECT_EQ(read(by_file.image, "/etc/passwd"), read(oci.image, "/etc/passwd"));
    const auto by_tag = must_import("docker-archive:" + archive.string() + ":busybox:latest");
    EXPECT_TRUE(by_tag.existed) << "the synthesised manifest is deterministic";
    EXPECT_EQ(by_tag.image.uuid, by_file.image.uuid);
    auto other = import("docker-archive:" + archive.string() + ":alpine:latest");
    ASSERT_FALSE(other);
    EXPECT_EQ(other.error().code(), Code::kNotFound) << other.error().to_string();
}

TEST_F(ImageSourcesTest, ROOT_DockerArchiveWithAnOciLayoutIsServedAsIs) {
    GROVE_REQUIRE(grove::testing::missing_root());
    open_store();
    // What Docker 25+ writes: an OCI layout naming the image in full, next to manifest.json.
    const fs::path dir = tmp() / "docker25";
    fs::copy(busybox_layout(), dir, fs::copy_options::recursive);
    auto index = base::parse_json(read_text(dir / "index.json")).value();
    index["manifests"][0]["annotations"]["io.containerd.image.name"] =
        "docker.io/library/busybox:latest";
    write_file(dir / "index.json", index.dump());
    write_file(dir / "manifest.json",
               R"([{"Config":"x","RepoTags":["busybox:latest"],"Layers":[]}])");
    const fs::path archive = tar_dir(dir, "docker25.tar");
    const std::string want = images_->image("busybox").at("manifest_digest");
    EXPECT_EQ(must_import("docker-archive:" + archive.string()).image.manifest_digest, want);
    const auto named = must_import("docker-archive:" + archive.string() + ":busybox");
    EXPECT_TRUE(named.existed);
    EXPECT_EQ(named.image.manifest_digest, want);
    EXPECT_EQ(import("docker-archive:" + archive.string() + ":alpine:latest").error().code(),
              Code::kNotFound);
}

TEST_F(ImageSourcesTest, ROOT_RootfsDirectoryKeepsEveryKindOfEntry) {
    GROVE_REQUIRE(grove::testing::missing_root());
    open_store();
    const fs::path root = make_rootfs();
    const auto first = must_import("rootfs:" + root.string());
    EXPECT_FALSE(first.existed);
    const auto& image = first.image;
    EXPECT_EQ(read(image, "/etc/passwd").substr(0, 5), "root:");
    auto tool = lookup(image, "/bin/tool");
    ASSERT_TRUE(tool);
    EXPECT_EQ(tool->st.st_mode & 07777, 04755u);
    EXPECT_EQ(tool->st.st_uid, 1000u);
    EXPECT_EQ(tool->st.st_gid, 1001u);
    auto link = lookup(image, "/bin/link", inspect::Follow::kNoFinal);
    ASSERT_TRUE(link);
    EXPECT_TRUE(S_ISLNK(link->st.st_mode));
    auto escape = lookup(image, "/escape", inspect::Follow::kNoFinal);
    ASSERT_TRUE(escape);
    EXPECT_TRUE(S_ISLNK(escape->st.st_mode)) << "a symlink is packed, never followed";
    auto passwd = lookup(image, "/etc/passwd");
    auto hard = lookup(image, "/etc/passwd-hard");
    ASSERT_TRUE(passwd && hard);
    EXPECT_EQ(passwd->st.st_ino, hard->st.st_ino);
    auto fifo = lookup(image, "/fifo");
    ASSERT_TRUE(fifo);
    EXPECT_TRUE(S_ISFIFO(fifo->st.st_mode));
    EXPECT_EQ(lookup(image, "/null").error().code(), Code::kNotFound) << "devices are skipped";
    auto passwd_fd = store_->filesystem(image)->open_file(*passwd);
    ASSERT_TRUE(passwd_fd);
    char value[8] = {};
    EXPECT_EQ(::fgetxattr(passwd_fd->get(), "user.grove", value, sizeof(value)), 3);
    EXPECT_STREQ(value, "yes");
    auto config = base::parse_json(image.config_json).value();
    EXPECT_FALSE(config.contains("created"));
    EXPECT_EQ(config["config"]["Env"][0].get<std::string>().substr(0, 5), "PATH=");

    const auto again = must_import("rootfs:" + root.string());
    EXPECT_TRUE(again.existed);
    EXPECT_EQ(again.image.uuid, image.uuid);
    write_file(root / "etc/passwd", "root:x:0:0:changed:/root:/bin/sh\n");
    const auto changed = must_import("rootfs:" + root.string());
    EXPECT_FALSE(changed.existed);
    EXPECT_NE(changed.image.manifest_digest, image.manifest_digest);
    EXPECT_EQ(read(changed.image, "/etc/passwd-hard"), "root:x:0:0:changed:/root:/bin/sh\n");
    EXPECT_TRUE(fs::is_empty(scratch())) << "the packed tar goes with the source";
}

TEST_F(ImageSourcesTest, ROOT_RootfsTarballsGiveTheDirectorysDiffId) {
    GROVE_REQUIRE(grove::testing::missing_root());
    open_store();
    const fs::path root = make_rootfs();
    const auto from_dir = must_import("rootfs:" + root.string());
    // The tar the directory import packed, as a plain and a gzip tarball.
    const fs::path plain = tmp() / "rootfs.tar";
    {
        auto dir_fd = base::UniqueFd::open(root.string(), O_RDONLY | O_DIRECTORY);
        auto out = base::UniqueFd::open(plain.string(), O_WRONLY | O_CREAT | O_EXCL, 0600);
        ASSERT_TRUE(dir_fd && out);
        ASSERT_TRUE(write_rootfs_tar(dir_fd->get(), out->get()));
    }
    const fs::path gzip = tmp() / "rootfs.tar.gz";
    run({"gzip", "-n", "-c", plain.string()}, gzip);
    const auto from_plain = must_import("rootfs:" + plain.string());
    EXPECT_TRUE(from_plain.existed) << "the same tar makes the same manifest";
    const auto from_gzip = must_import("rootfs:" + gzip.string());
    EXPECT_FALSE(from_gzip.existed);
    EXPECT_EQ(diff_ids(from_gzip.image), diff_ids(from_dir.image));
    EXPECT_EQ(layer_dirs(), 1u) << "same diff_id: the layer is shared";
    EXPECT_EQ(read(from_gzip.image, "/bin/tool"), "#!/bin/sh\necho tool\n");
}

TEST_F(ImageSourcesTest, ROOT_HostileDockerArchivesAreRefused) {
    GROVE_REQUIRE(grove::testing::missing_root());
    open_store();
    const std::vector<std::string> configs = {"../../etc/passwd", "/etc/passwd", "escape/passwd",
                                              "link.json"};
    for (size_t i = 0; i < configs.size(); ++i) {
        const fs::path dir = tmp() / ("hostile-" + std::to_string(i));
        fs::create_directories(dir);
        fs::create_symlink("/etc", dir / "escape");
        fs::create_symlink("/etc/passwd", dir / "link.json");
        write_file(
            dir / "manifest.json",
            base::Json::array({{{"Config", configs[i]}, {"Layers", base::Json::array()}}}).dump());
        auto result =
            import("docker-archive:" + tar_dir(dir, dir.filename().string() + ".tar").string());
        ASSERT_FALSE(result) << configs[i];
        EXPECT_EQ(result.error().code(), Code::kInvalidArgument) << result.error().to_string();
    }
    EXPECT_TRUE(fs::is_empty(scratch()));
}

TEST_F(ImageSourcesTest, ROOT_OciArchiveEscapingItsDirectoryIsRefused) {
    GROVE_REQUIRE(grove::testing::missing_root());
    open_store();
    const fs::path dir = tmp() / "evil";
    fs::copy(busybox_layout(), dir, fs::copy_options::recursive);
    write_file(dir / "x", "escaped\n");
    const fs::path archive = tmp() / "evil.tar";
    // GNU tar keeps the '..' with -P; the name would land in the scratch directory's parent.
    run({"tar", "-C", dir.string(), "-P", "--transform=s,^x$,../../../x,", "-cf", archive.string(),
         "oci-layout", "index.json", "blobs", "x"});
    auto result = import("oci-archive:" + archive.string());
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code(), Code::kInvalidArgument) << result.error().to_string();
    EXPECT_FALSE(fs::exists(tmp() / "x"));
    EXPECT_TRUE(fs::is_empty(scratch()));
}

TEST_F(ImageSourcesTest, ParsesEverySourceSyntax) {
    const fs::path odd = tmp() / "we:ird";
    fs::create_directories(odd);
    const std::string a = (tmp() / "a.tar").string();
    const std::string bc = (tmp() / "b:c.tar").string();
    const std::string d = (tmp() / "d.tar").string();
    for (const auto& file : {a, bc, d, d + ":x"}) {
        write_file(file, "");
    }
    using Case = std::tuple<std::string, Transport, std::string, std::string>;
    for (const auto& [spec, transport, path, ref] : std::vector<Case>{
             {"oci:" + odd.string() + ":latest", Transport::kOci, odd.string(), "latest"},
             {"oci:" + odd.string(), Transport::kOci, odd.string(), ""},
             {"docker-archive:" + a + ":busybox:latest", Transport::kDockerArchive, a,
              "busybox:latest"},
             {"oci-archive:" + bc + ":v1", Transport::kOciArchive, bc, "v1"},
             {"oci-archive:" + d + ":x:y", Transport::kOciArchive, d + ":x", "y"},
             {"rootfs:" + odd.string(), Transport::kRootfs, odd.string(), ""},
         }) {
        auto parsed = parse_source_spec(spec);
        ASSERT_TRUE(parsed) << spec << ": " << parsed.error().to_string();
        EXPECT_EQ(parsed->transport, transport) << spec;
        EXPECT_EQ(parsed->path, path) << spec;
        EXPECT_EQ(parsed->ref, ref) << spec;
    }
    for (const std::string spec : {"oci:/no/such:latest", "oci-archive:/no/such.tar",
                                   "docker-archive:/no/such.tar:busybox:latest", "rootfs:/no/x"}) {
        auto missing = parse_source_spec(spec);
        ASSERT_FALSE(missing) << spec;
        EXPECT_EQ(missing.error().code(), Code::kNotFound) << spec;
    }
    EXPECT_EQ(parse_source_spec("oci:").error().code(), Code::kInvalidArgument);

    const std::vector<std::pair<std::string, std::string>> registry = {
        {"busybox", "docker.io/library/busybox:latest"},
        {"docker://busybox:1.36", "docker.io/library/busybox:1.36"},
        {"host:5000/team/app:1", "host:5000/team/app:1"},
        {"sif:thing", "docker.io/library/sif:thing"},
    };
    for (const auto& [spec, want] : registry) {
        auto parsed = parse_source_spec(spec);
        ASSERT_TRUE(parsed && parsed->reference) << spec;
        EXPECT_EQ(parsed->transport, Transport::kRegistry) << spec;
        EXPECT_EQ(parsed->reference->to_string(), want);
    }
}

TEST_F(ImageSourcesTest, RegistryReferencesGoToTheCallback) {
    std::optional<oci::Reference> asked;
    SourceContext context{
        .scratch = scratch(),
        .registry = [&](const oci::Reference& ref) -> Result<std::unique_ptr<ImageSource>> {
            asked = ref;
            return Error(Code::kUnavailable, "offline");
        }};
    auto source = open_source("localhost:5000/x:tag", context);
    ASSERT_FALSE(source);
    EXPECT_EQ(source.error().code(), Code::kUnavailable);
    ASSERT_TRUE(asked);
    EXPECT_EQ(asked->to_string(), "localhost:5000/x:tag");
    EXPECT_EQ(open_source("busybox", {}).error().code(), Code::kFailedPrecondition);
    auto layout = open_source("oci:" + busybox_layout() + ":latest", context);
    ASSERT_TRUE(layout) << layout.error().to_string();
    EXPECT_EQ((*layout)->describe(), "oci:" + busybox_layout() + ":latest");
}

TEST_F(ImageSourcesTest, RootfsTarIsDeterministic) {
    const fs::path root = tmp() / "tree";
    fs::create_directories(root / "a/b");
    write_file(root / "a/b/file", "content");
    write_file(root / "a-b", "x");
    fs::create_symlink("a/b/file", root / "link");
    auto pack = [&](const std::string& name) {
        const fs::path out = tmp() / name;
        auto dir_fd = base::UniqueFd::open(root.string(), O_RDONLY | O_DIRECTORY);
        auto fd = base::UniqueFd::open(out.string(), O_WRONLY | O_CREAT | O_EXCL, 0600);
        EXPECT_TRUE(dir_fd && fd);
        EXPECT_TRUE(write_rootfs_tar(dir_fd->get(), fd->get()));
        return read_text(out);
    };
    EXPECT_EQ(pack("1.tar"), pack("2.tar"));
    auto list = base::run_command({.argv = {"tar", "-tf", (tmp() / "1.tar").string()}},
                                  std::chrono::seconds(10));
    ASSERT_TRUE(list);
    EXPECT_EQ(list->out, "a/\na/b/\na/b/file\na-b\nlink\n");
}

}  // namespace
}  // namespace grove::image
