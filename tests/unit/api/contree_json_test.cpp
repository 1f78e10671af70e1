#include "api/contree_json.hpp"

#include <gtest/gtest.h>

#include "api/ls_text.hpp"

namespace grove::api {
namespace {

constexpr int64_t kS = 1'000'000'000;

TEST(ContreeJson, Images) {
    store::ImageRecord image{.uuid = "0b3ba3b5-2bcd-4ab6-8d2a-6a4fd2a4b1ab",
                             .parent = "p",
                             .tag = "busybox:latest",
                             .kind = store::ImageKind::kRun,
                             .created_ns = 1'704'110'400 * kS + 123'456'789,
                             .operation = "1c3ba3b5-2bcd-4ab6-8d2a-6a4fd2a4b1ab",
                             .size_logical = 10,
                             .size_physical = 4};
    auto json = image_json(image);
    EXPECT_EQ(json["uuid"], image.uuid);
    EXPECT_EQ(json["tag"], "busybox:latest");
    EXPECT_EQ(json["created_at"], "2024-01-01T12:00:00.123456+00:00");
    EXPECT_EQ(json["operation_uuid"], image.operation);
    EXPECT_EQ(json["size"]["logical"], 10);
    image.operation = "import docker.io/library/busybox:latest";
    image.tag.reset();
    json = image_json(image);
    EXPECT_TRUE(json["operation_uuid"].is_null());
    EXPECT_TRUE(json["tag"].is_null());
}

TEST(ContreeJson, Operations) {
    daemon::OperationRecord op{.uuid = "u",
                               .kind = daemon::OperationKind::kInstance,
                               .status = daemon::OperationStatus::kSuccess,
                               .created_ns = 10 * kS,
                               .started_ns = 11 * kS,
                               .finished_ns = 13 * kS + kS / 2,
                               .request_json = R"({"command":"ls"})",
                               .result_json = R"({"state":{"exit_code":0}})",
                               .image_uuid = "in",
                               .result_image_uuid = "out",
                               .result_tag = "t",
                               .image_size = 7};
    auto json = operation_json(op, 100 * kS);
    EXPECT_EQ(json["status"], "SUCCESS");
    EXPECT_EQ(json["kind"], "instance");
    EXPECT_DOUBLE_EQ(json["duration"].get<double>(), 2.5);
    EXPECT_EQ(json["metadata"]["command"], "ls");
    EXPECT_EQ(json["metadata"]["result"]["state"]["exit_code"], 0);
    EXPECT_EQ(json["result"]["image"], "out");
    EXPECT_EQ(json["result"]["tag"], "t");
    EXPECT_EQ(json["result_image_uuid"], "out");
    EXPECT_EQ(json["image_uuid"], "in");
    EXPECT_EQ(json["image_size"], 7);
    EXPECT_TRUE(json["error"].is_null());

    const auto summary = operation_summary_json(op, 100 * kS);
    EXPECT_FALSE(summary.contains("metadata"));
}

TEST(ContreeJson, Events) {
    const auto json = event_json({.id = 3,
                                  .ts_ns = 1'704'110'400 * kS + 5,
                                  .spid = 1,
                                  .type = "stdout",
                                  .data_json = R"({"value":"hi","encoding":"ascii"})"});
    EXPECT_EQ(json["id"], 3);
    EXPECT_EQ(json["ts"], "2024-01-01T12:00:00.000000005Z");
    EXPECT_EQ(json["spid"], 1);
    EXPECT_EQ(json["type"], "stdout");
    EXPECT_EQ(json["data"]["value"], "hi");
}

TEST(ContreeJson, FileItemsAndLsText) {
    const inspect::FileInfo passwd{.path = "/etc/passwd",
                                   .name = "passwd",
                                   .type = inspect::EntryType::kFile,
                                   .size = 1198,
                                   .mode = 0644,
                                   .owner = "root",
                                   .mtime_ns = 0,
                                   .nlink = 1};
    const inspect::FileInfo link{.name = "sbin",
                                 .type = inspect::EntryType::kSymlink,
                                 .size = 3,
                                 .mode = 0777,
                                 .nlink = 1,
                                 .symlink_target = "bin"};
    const auto item = file_item_json(passwd);
    EXPECT_EQ(item["path"], "passwd");
    EXPECT_EQ(item["mode"], 0100644);
    EXPECT_EQ(item["owner"], "root");
    EXPECT_EQ(item["group"], 0) << "no name: the number";
    EXPECT_EQ(item["is_regular"], true);
    EXPECT_EQ(item["symlink_to"], "");
    EXPECT_EQ(file_item_json(link)["is_symlink"], true);

    EXPECT_EQ(ls_text({passwd, link}),
              "total 1.17 KB\n"
              "-rw-r--r-- 1 0 0    1.17 KB Jan  1 00:00 passwd\n"
              "lrwxrwxrwx 1 0 0        3 B Jan  1 00:00 sbin -> bin\n");
    EXPECT_EQ(human_size(512), "512 B");
    EXPECT_EQ(human_size(3 << 20), "3.00 MB");
}

}  // namespace
}  // namespace grove::api
