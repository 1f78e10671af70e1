// Block I/O counters from cgroup v1's blkio.throttle files and v2's io.stat.

#include "runtime/cgroup/blkio.hpp"

#include <gtest/gtest.h>

#include "fake_cgroupfs.hpp"
#include "runtime/cgroup/v1.hpp"

namespace grove::runtime::cgroup {
namespace {

TEST(Blkio, ParsesV1ThrottleFilesAndDropsTheTotal) {
    const auto entries = parse_blkio_v1(
        "8:0 Read 4096\n8:0 Write 1048576\n8:0 Sync 1052672\n8:0 Async 0\n8:0 Discard 0\n"
        "8:0 Total 1052672\n253:1 Write 512\nTotal 1053184\n");
    ASSERT_EQ(entries.size(), 7u);
    EXPECT_EQ(entries[1], (BlkioEntry{8, 0, "Write", 1048576}));
    EXPECT_EQ(entries[6], (BlkioEntry{253, 1, "Write", 512}));
    EXPECT_TRUE(parse_blkio_v1("").empty());
    EXPECT_TRUE(parse_blkio_v1("garbage line\n8:x Read 1\n").empty());
}

TEST(Blkio, ParsesV2IoStatAsDockerdReportsIt) {
    const IoStat stat = parse_io_stat(
        "8:0 rbytes=4096 wbytes=1048576 rios=1 wios=256 dbytes=0 dios=0\n"
        "259:0 rbytes=0 wbytes=8192 rios=0 wios=2 dbytes=0 dios=0 cost.usage=5\n");
    EXPECT_EQ(stat.service_bytes, (std::vector<BlkioEntry>{{8, 0, "read", 4096},
                                                           {8, 0, "write", 1048576},
                                                           {259, 0, "read", 0},
                                                           {259, 0, "write", 8192}}));
    EXPECT_EQ(
        stat.serviced,
        (std::vector<BlkioEntry>{
            {8, 0, "read", 1}, {8, 0, "write", 256}, {259, 0, "read", 0}, {259, 0, "write", 2}}));
}

TEST(Blkio, V1StatsReadTheGroupsCounters) {
    testing::FakeCgroupfs fs(
        testing::FakeCgroupfs::Layout::kV1,
        {.v1_controllers = {"memory", "pids", "cpu", "cpuacct", "freezer", "blkio"}});
    V1Manager manager(*find_v1_hierarchies(fs.root()), fs.hooks());
    auto group = manager.create("run1", {});
    ASSERT_TRUE(group.has_value()) << group.error().message();
    EXPECT_TRUE(fs.exists("blkio/grove/run1"));
    EXPECT_TRUE((*group)->stats()->io_service_bytes.empty());
    fs.put("blkio/grove/run1/blkio.throttle.io_service_bytes_recursive",
           "8:0 Read 0\n8:0 Write 8192\nTotal 8192\n");
    fs.put("blkio/grove/run1/blkio.throttle.io_serviced", "8:0 Write 2\nTotal 2\n");
    const auto stats = (*group)->stats();
    ASSERT_TRUE(stats.has_value());
    EXPECT_EQ(stats->io_service_bytes,
              (std::vector<BlkioEntry>{{8, 0, "Read", 0}, {8, 0, "Write", 8192}}));
    EXPECT_EQ(stats->io_serviced, (std::vector<BlkioEntry>{{8, 0, "Write", 2}}));
    ASSERT_TRUE((*group)->close().has_value());
}

}  // namespace
}  // namespace grove::runtime::cgroup
