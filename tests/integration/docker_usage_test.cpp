// What containers use, through groved's Docker API: SizeRw and SizeRootFs (?size=1 of inspect
// and list, `docker ps -s`, `system/df`), and the blkio counters of `docker stats`.

#include <chrono>
#include <filesystem>
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

// O_DIRECT writes (or, where overlayfs refuses O_DIRECT, an fsync) reach the block device in the
// writer's context, so the kernel charges them to the container's group.
TEST_F(DockerUsageTest, ROOT_StatsCountBlockWrites) {
    GROVE_REQUIRE(missing_file(kDockerCli, "docker.io"));
    const bool v2 = std::filesystem::exists("/sys/fs/cgroup/cgroup.controllers");
    GROVE_REQUIRE(v2 ? std::optional<std::string>("on cgroup v2 grove does not enable the io "
                                                  "controller, so io.stat is not there")
                     : missing_cgroup_controller("blkio"));
    docker_ok({"run", "-d", "--name", "writer", "busybox", "sh", "-c",
               "dd if=/dev/zero of=/direct bs=65536 count=64 oflag=direct conv=fsync || "
               "dd if=/dev/zero of=/direct bs=65536 count=64 conv=fsync; sleep 60"});
    uint64_t written = 0;
    base::Json blkio;
    for (const auto deadline = std::chrono::steady_clock::now() + seconds(20);
         written == 0 && std::chrono::steady_clock::now() < deadline;) {
        blkio = get_json("/containers/writer/stats?stream=false")["blkio_stats"];
        for (const auto& entry : blkio["io_service_bytes_recursive"].is_array()
                                     ? blkio["io_service_bytes_recursive"]
                                     : base::Json::array()) {
            if (entry.value("op", "") == "Write") {
                written += entry.value("value", uint64_t{0});
                EXPECT_TRUE(entry.contains("major") && entry.contains("minor")) << entry.dump();
            }
        }
        if (written == 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
    EXPECT_GE(written, 64u * 65536) << blkio.dump();
    EXPECT_TRUE(blkio["io_serviced_recursive"].is_array()) << blkio.dump();
    docker_ok({"rm", "-f", "writer"});
}

}  // namespace
}  // namespace grove::testing
