// Docker's mounts through groved with Debian's docker CLI: binds (-v and --mount, read-only, a
// file), tmpfs (--tmpfs and --mount), named and anonymous volumes (kept, listed by inspect,
// removed with rm -v and --rm), dockerd's errors, and a bind whose target goes through a symlink
// in the image, which stays in the container.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "docker_fixture.hpp"
#include "helpers/requirements.hpp"

namespace grove::testing {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

class DockerMountsTest : public DockerFixture {
protected:
    void SetUp() override {
        DockerFixture::SetUp();
        if (!IsSkipped()) {
            GROVE_REQUIRE(missing_file(kDockerCli, "docker.io"));
            host_ = dir_->path() / "host";
            fs::create_directories(host_);
            std::ofstream(host_ / "f") << "from the host\n";
        }
    }

    // The volumes groved keeps (<root>/volumes/<name>).
    std::vector<std::string> volumes() const {
        std::vector<std::string> names;
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator(root() / "volumes", ec)) {
            names.push_back(entry.path().filename().string());
        }
        std::sort(names.begin(), names.end());
        return names;
    }

    fs::path host_;
};

TEST_F(DockerMountsTest, ROOT_BindsAndTmpfs) {
    GROVE_REQUIRE(missing_root());
    const std::string dir = host_.string();
    EXPECT_EQ(docker_ok({"run", "--rm", "-v", dir + ":/data", "busybox", "sh", "-c",
                         "cat /data/f; echo written > /data/g"}),
              "from the host\n");
    EXPECT_EQ(read_file(host_ / "g"), "written\n");

    // Read-only: the write fails, and docker run --rm passes the exit code on.
    const auto refused = docker(
        {"run", "--rm", "-v", dir + ":/data:ro", "busybox", "sh", "-c", "echo no > /data/h"});
    EXPECT_EQ(refused.status.code, 1) << refused.err;
    EXPECT_NE(refused.err.find("Read-only file system"), std::string::npos) << refused.err;
    EXPECT_FALSE(fs::exists(host_ / "h"));

    // A file, with --mount, over a file the image has.
    EXPECT_EQ(docker_ok({"run", "--rm", "--mount",
                         "type=bind,src=" + dir + "/f,dst=/etc/hostname,readonly", "busybox", "cat",
                         "/etc/hostname"}),
              "from the host\n");
    // -v makes a missing host directory, as dockerd does; --mount refuses it.
    EXPECT_EQ(docker_ok({"run", "--rm", "-v", dir + "/made:/m", "busybox", "ls", "/m"}), "");
    EXPECT_TRUE(fs::is_directory(host_ / "made"));
    const auto missing = docker(
        {"run", "--rm", "--mount", "type=bind,src=" + dir + "/nope,dst=/x", "busybox", "true"});
    EXPECT_EQ(missing.status.code, 125);
    EXPECT_NE(missing.err.find("bind source path does not exist: " + dir + "/nope"),
              std::string::npos)
        << missing.err;
    const auto relative = docker({"run", "--rm", "-v", dir + ":data", "busybox", "true"});
    EXPECT_NE(relative.err.find("mount path must be absolute"), std::string::npos) << relative.err;

    const std::string mounts =
        docker_ok({"run", "--rm", "--tmpfs", "/t:size=1m,exec", "--mount",
                   "type=tmpfs,dst=/u,tmpfs-size=2097152,tmpfs-mode=1770", "busybox", "sh", "-c",
                   "grep ' /[tu] ' /proc/mounts; stat -c %a /u"});
    EXPECT_NE(mounts.find("tmpfs /t tmpfs rw,nosuid,nodev,relatime,size=1024k"), std::string::npos)
        << mounts;
    EXPECT_NE(mounts.find("tmpfs /u tmpfs rw,nosuid,nodev,noexec,relatime,size=2048k,mode=1770"),
              std::string::npos)
        << mounts;
    EXPECT_TRUE(mounts.ends_with("\n1770\n")) << mounts;
    const auto bad = docker({"run", "--rm", "--tmpfs", "/t:size=lots", "busybox", "true"});
    EXPECT_NE(bad.err.find("invalid tmpfs option \"size=lots\""), std::string::npos) << bad.err;
}

TEST_F(DockerMountsTest, ROOT_Volumes) {
    GROVE_REQUIRE(missing_root());
    docker_ok({"run", "--rm", "-v", "kept:/data", "busybox", "sh", "-c", "echo one > /data/x"});
    EXPECT_EQ(docker_ok({"run", "--rm", "-v", "kept:/data", "busybox", "cat", "/data/x"}), "one\n");
    EXPECT_EQ(volumes(), std::vector<std::string>{"kept"});

    docker_ok({"create", "--name", "holder", "-v", "/anon", "-v", "kept:/k:ro", "-v",
               host_.string() + ":/h", "busybox", "true"});
    const std::string mounts = docker_ok(
        {"inspect", "--format",
         "{{range .Mounts}}{{.Type}} {{.Destination}} {{.RW}} {{.Driver}}\n{{end}}", "holder"});
    std::vector<std::string> lines;
    for (size_t start = 0, end; (end = mounts.find('\n', start)) != std::string::npos;
         start = end + 1) {
        if (end > start) {
            lines.push_back(mounts.substr(start, end - start));
        }
    }
    std::sort(lines.begin(), lines.end());
    EXPECT_EQ(lines, (std::vector<std::string>{"bind /h true ", "volume /anon true local",
                                               "volume /k false local"}))
        << mounts;
    const std::string binds =
        docker_ok({"inspect", "--format", "{{json .HostConfig.Binds}}", "holder"});
    EXPECT_NE(binds.find("\"kept:/k:ro\""), std::string::npos) << binds;
    EXPECT_NE(binds.find("\"" + host_.string() + ":/h\""), std::string::npos) << binds;
    ASSERT_EQ(volumes().size(), 2u);
    docker_ok({"rm", "-v", "holder"});
    EXPECT_EQ(volumes(), std::vector<std::string>{"kept"}) << "rm -v removes anonymous ones only";

    docker_ok({"run", "--rm", "-v", "/gone", "busybox", "touch", "/gone/x"});
    EXPECT_EQ(volumes(), std::vector<std::string>{"kept"}) << "--rm removes anonymous ones";
    // A create that fails on a later mount leaves no anonymous volume behind.
    const auto failed = docker({"create", "--mount", "type=volume,dst=/made-first", "--tmpfs",
                                "/t:size=lots", "busybox", "true"});
    EXPECT_NE(failed.status.code, 0);
    EXPECT_EQ(volumes(), std::vector<std::string>{"kept"});
    const auto bad = docker({"run", "--rm", "-v", "bad$name:/x", "busybox", "true"});
    EXPECT_NE(bad.err.find("includes invalid characters for a local volume name"),
              std::string::npos)
        << bad.err;
}

// The target is resolved inside the container's root: a symlink in the image pointing at a host
// path sends the mount (and its mount point) to that path in the container, never the host's.
TEST_F(DockerMountsTest, ROOT_TargetsStayInTheContainer) {
    GROVE_REQUIRE(missing_root());
    const fs::path outside = dir_->path() / "outside";
    fs::create_directories(outside);
    // The same path exists in the image too, so the target resolves there.
    docker_ok({"run", "--name", "linker", "busybox", "sh", "-c",
               "mkdir -p " + outside.string() + " && ln -s " + outside.string() + " /escape"});
    docker_ok({"commit", "linker", "escaping"});
    EXPECT_EQ(docker_ok({"run", "--rm", "-v", host_.string() + ":/escape/sub", "escaping", "cat",
                         "/escape/sub/f"}),
              "from the host\n");
    EXPECT_FALSE(fs::exists(outside / "sub")) << "a mount point was made on the host";
    docker_ok({"rm", "linker"});
}

}  // namespace
}  // namespace grove::testing
