// HostConfig.CapAdd/CapDrop end to end with Debian's docker CLI: the container's command and its
// execs hold the set dockerd would give them (grove's default lacks NET_RAW, so ping needs
// --cap-add NET_RAW), inspect echoes the request, and an unknown name is a 400.

#include "docker_fixture.hpp"
#include "helpers/requirements.hpp"

namespace grove::testing {
namespace {

class DockerCapsTest : public DockerFixture {
protected:
    void SetUp() override {
        DockerFixture::SetUp();
        if (!IsSkipped()) {
            GROVE_REQUIRE(missing_file(kDockerCli, "docker.io"));
        }
    }

    // The "CapX:\t<hex>" lines of /proc/self/status, as `grep Cap` prints them.
    static std::string cap_line(const std::string& status, const std::string& name) {
        const auto at = status.find(name + ":");
        return at == std::string::npos ? "" : status.substr(at, status.find('\n', at) - at);
    }
};

TEST_F(DockerCapsTest, ROOT_CapAddNetRawLetsPingOpenItsSocket) {
    GROVE_REQUIRE(missing_root());
    const auto denied = docker({"run", "--rm", "busybox", "ping", "-c1", "127.0.0.1"});
    EXPECT_EQ(denied.status.code, 1) << denied.out << denied.err;
    EXPECT_NE(denied.err.find("permission denied"), std::string::npos) << denied.err;
    const auto allowed =
        docker({"run", "--rm", "--cap-add", "NET_RAW", "busybox", "ping", "-c1", "127.0.0.1"});
    EXPECT_EQ(allowed.status.code, 0) << allowed.err;
    EXPECT_NE(allowed.out.find("1 packets received"), std::string::npos) << allowed.out;
}

TEST_F(DockerCapsTest, ROOT_CapDropChownMakesChownFail) {
    GROVE_REQUIRE(missing_root());
    const std::vector<std::string> chown = {"busybox", "sh", "-c",
                                            "touch /f && chown 1000 /f && echo owned"};
    std::vector<std::string> plain = {"run", "--rm"};
    plain.insert(plain.end(), chown.begin(), chown.end());
    EXPECT_EQ(docker_ok(plain), "owned\n");
    std::vector<std::string> dropped = {"run", "--rm", "--cap-drop", "chown"};
    dropped.insert(dropped.end(), chown.begin(), chown.end());
    const auto refused = docker(dropped);
    EXPECT_EQ(refused.status.code, 1) << refused.out << refused.err;
    EXPECT_EQ(refused.out, "");
    EXPECT_NE(refused.err.find("Operation not permitted"), std::string::npos) << refused.err;
}

// grove has no device cgroup: with MKNOD the seccomp filter lets a container make only the nodes
// Docker's device cgroup would let it open, never a block device.
TEST_F(DockerCapsTest, ROOT_CapAddMknodMakesOnlyHarmlessDevices) {
    GROVE_REQUIRE(missing_root());
    const std::string null = "mknod /tmp/null c 1 3 && echo x > /tmp/null && echo made";
    EXPECT_EQ(docker_ok({"run", "--rm", "--cap-add", "MKNOD", "busybox", "sh", "-c", null}),
              "made\n");
    const auto without = docker({"run", "--rm", "busybox", "sh", "-c", null});
    EXPECT_EQ(without.status.code, 1) << without.out << without.err;
    const auto disk = docker(
        {"run", "--rm", "--cap-add", "MKNOD", "busybox", "mknod", "/tmp/sda", "b", "8", "0"});
    EXPECT_EQ(disk.status.code, 1) << disk.out << disk.err;
    EXPECT_NE(disk.err.find("Operation not permitted"), std::string::npos) << disk.err;
}

TEST_F(DockerCapsTest, ROOT_CapDropAllReachesExecsAndInspect) {
    GROVE_REQUIRE(missing_root());
    docker_ok({"run", "-d", "--name", "bare", "--cap-drop", "ALL", "--cap-add", "kill", "busybox",
               "sleep", "30"});
    const std::string status = docker_ok({"exec", "bare", "grep", "Cap", "/proc/1/status"});
    EXPECT_EQ(cap_line(status, "CapEff"), "CapEff:\t0000000000000020") << status;  // CAP_KILL
    EXPECT_EQ(cap_line(status, "CapBnd"), "CapBnd:\t0000000000000020") << status;
    // The exec itself holds the container's set, as under dockerd.
    const std::string own = docker_ok({"exec", "bare", "grep", "Cap", "/proc/self/status"});
    EXPECT_EQ(cap_line(own, "CapBnd"), "CapBnd:\t0000000000000020") << own;
    EXPECT_EQ(cap_line(own, "CapEff"), "CapEff:\t0000000000000020") << own;
    const std::string caps =
        docker_ok({"inspect", "--format",
                   "{{json .HostConfig.CapAdd}} {{json .HostConfig.CapDrop}}", "bare"});
    EXPECT_EQ(caps, "[\"kill\"] [\"ALL\"]\n");

    docker_ok({"run", "-d", "--name", "plain", "busybox", "sleep", "30"});
    EXPECT_EQ(docker_ok({"inspect", "--format",
                         "{{json .HostConfig.CapAdd}} {{json .HostConfig.CapDrop}}", "plain"}),
              "null null\n");
}

TEST_F(DockerCapsTest, ROOT_CapDropAllLeavesNoEffectiveCaps) {
    GROVE_REQUIRE(missing_root());
    const std::string status = docker_ok(
        {"run", "--rm", "--cap-drop", "ALL", "busybox", "grep", "Cap", "/proc/self/status"});
    EXPECT_EQ(cap_line(status, "CapEff"), "CapEff:\t0000000000000000") << status;
    EXPECT_EQ(cap_line(status, "CapBnd"), "CapBnd:\t0000000000000000") << status;
}

TEST_F(DockerCapsTest, ROOT_UnknownCapabilityIsA400) {
    GROVE_REQUIRE(missing_root());
    const auto created = docker_call({
        .method = "POST",
        .path = "/containers/create",
        .headers = {"Content-Type: application/json"},
        .body = R"({"Image": "busybox", "HostConfig": {"CapAdd": ["foo"]}})",
    });
    EXPECT_EQ(created.status, 400) << created.body;
    EXPECT_NE(created.body.find(R"(unknown capability: \"CAP_FOO\")"), std::string::npos)
        << created.body;
}

}  // namespace
}  // namespace grove::testing
