// What containers use, through groved's Docker API: SizeRw and SizeRootFs (?size=1 of inspect
// and list, `docker ps -s`, `system/df`), and the blkio counters of `docker stats`.

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <thread>

#include "docker_fixture.hpp"
#include "helpers/requirements.hpp"

namespace grove::testing {
namespace {

using std::chrono::seconds;

class DockerUsageTest : public DockerFixture {
protected:
    base::Json get_json(const std::string& path) {
        const auto response = docker_call({.path = path});
        EXPECT_EQ(response.status, 200) << path << ": " << response.body;
        auto json = base::parse_json(response.body);
        EXPECT_TRUE(json) << response.body;
        return json.value_or(base::Json());
    }
};

TEST_F(DockerUsageTest, ROOT_SizeRwAndSizeRootFs) {
    GROVE_REQUIRE(missing_file(kDockerCli, "docker.io"));
    docker_ok({"run", "--name", "sized", "busybox", "sh", "-c",
               "dd if=/dev/urandom of=/big bs=1024 count=300 2>/dev/null"});
    const uint64_t image_size = get_json("/images/busybox/json").value("Size", uint64_t{0});
    ASSERT_GT(image_size, 0u);

    const base::Json inspected = get_json("/containers/sized/json?size=1");
    const uint64_t rw = inspected.value("SizeRw", uint64_t{0});
    EXPECT_GE(rw, 300u * 1024) << inspected.dump();
    EXPECT_LT(rw, 2u * 1024 * 1024) << inspected.dump();
    EXPECT_EQ(inspected.value("SizeRootFs", uint64_t{0}), rw + image_size);
    EXPECT_FALSE(get_json("/containers/sized/json").contains("SizeRw"));

    const base::Json listed = get_json("/containers/json?all=1&size=1");
    ASSERT_TRUE(listed.is_array() && listed.size() == 1) << listed.dump();
    EXPECT_EQ(listed[0].value("SizeRw", uint64_t{0}), rw);
    EXPECT_FALSE(get_json("/containers/json?all=1")[0].contains("SizeRw"));

    const std::string ps = docker_ok({"ps", "-a", "-s", "--format", "{{.Size}}"});
    EXPECT_NE(ps.find("kB (virtual "), std::string::npos) << ps;

    const base::Json df = get_json("/system/df");
    ASSERT_TRUE(df["Containers"].is_array() && df["Containers"].size() == 1) << df.dump();
    EXPECT_EQ(df["Containers"][0].value("SizeRw", uint64_t{0}), rw);
    EXPECT_NE(docker_ok({"system", "df"}).find("Containers"), std::string::npos);
}

// O_DIRECT writes reach the block device in the writer's context, so the kernel charges them to
// the container's group. Recent kernels keep v1's blkio.throttle counters only for a group with
// a throttle limit on the device (dockerd's stats show nothing there either), so the test sets
// one far above anything a test writes on the container's group, as `docker run
// --device-write-bps` would.
TEST_F(DockerUsageTest, ROOT_StatsCountBlockWrites) {
    GROVE_REQUIRE(missing_file(kDockerCli, "docker.io"));
    GROVE_REQUIRE(std::filesystem::exists("/sys/fs/cgroup/cgroup.controllers")
                      ? std::optional<std::string>("on cgroup v2 grove does not enable the io "
                                                   "controller, so io.stat is not there")
                      : missing_cgroup_controller("blkio"));
    docker_ok({"run", "-d", "--name", "writer", "busybox", "sleep", "60"});
    const int pid = get_json("/containers/writer/json")["State"].value("Pid", 0);
    ASSERT_GT(pid, 0);
    std::string group;
    {
        std::ifstream cgroups("/proc/" + std::to_string(pid) + "/cgroup");
        for (std::string line; std::getline(cgroups, line);) {
            if (const size_t at = line.find(":blkio:"); at != std::string::npos) {
                group = line.substr(at + 7);
            }
        }
    }
    ASSERT_TRUE(group.starts_with("/grove/")) << group;
    struct stat store {};
    ASSERT_EQ(::stat(root().c_str(), &store), 0);
    const std::string device = fmt::format("{}:{}", major(store.st_dev), minor(store.st_dev));
    std::ofstream(fmt::format("/sys/fs/cgroup/blkio{}/blkio.throttle.write_bps_device", group))
        << device << " 1000000000000\n";

    docker_ok({"exec", "writer", "dd", "if=/dev/zero", "of=/direct", "bs=65536", "count=64",
               "oflag=direct"});
    uint64_t written = 0;
    base::Json blkio;
    for (const auto deadline = std::chrono::steady_clock::now() + seconds(10);
         written == 0 && std::chrono::steady_clock::now() < deadline;) {
        blkio = get_json("/containers/writer/stats?stream=false")["blkio_stats"];
        for (const auto& entry : blkio["io_service_bytes_recursive"].is_array()
                                     ? blkio["io_service_bytes_recursive"]
                                     : base::Json::array()) {
            if (entry.value("op", "") == "Write" &&
                fmt::format("{}:{}", entry.value("major", 0), entry.value("minor", 0)) == device) {
                written = entry.value("value", uint64_t{0});
            }
        }
        if (written == 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
    if (written == 0 && blkio["io_service_bytes_recursive"].is_null()) {
        GTEST_SKIP() << "skipped: the kernel accounted no block I/O for the container's group "
                        "(the store's filesystem is not on block device "
                     << device << "?)";
    }
    EXPECT_GE(written, 64u * 65536) << blkio.dump();
    EXPECT_TRUE(blkio["io_serviced_recursive"].is_array()) << blkio.dump();
    docker_ok({"rm", "-f", "writer"});
}

}  // namespace
}  // namespace grove::testing
