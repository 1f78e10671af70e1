// The daemon's Operations service with the real executors: runs in sandboxes made from the
// busybox test image, and imports from a local registry. Checks what ConTree clients read: the
// event log, the statuses, the results.

#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "base/json.hpp"
#include "base/temp_dir.hpp"
#include "daemon/files.hpp"
#include "daemon/import_executor.hpp"
#include "daemon/instance_executor.hpp"
#include "daemon/operations.hpp"
#include "daemon/state_db.hpp"
#include "daemon/stream_repr.hpp"
#include "engine/host_cgroups.hpp"
#include "helpers/registry_fixture.hpp"
#include "helpers/requirements.hpp"
#include "helpers/test_images.hpp"
#include "image/layout_source.hpp"

namespace grove::daemon {
namespace {

using std::chrono::milliseconds;

class DaemonOperationsTest : public grove::testing::RegistryFixture {
protected:
    void SetUp() override {
        RegistryFixture::SetUp();
        if (IsSkipped() || HasFailure()) {
            return;
        }
        GROVE_REQUIRE(grove::testing::missing_root());
        GROVE_REQUIRE(grove::testing::missing_overlay());
        auto images = grove::testing::TestImages::load();
        ASSERT_TRUE(images) << images.error().to_string();
        auto dir = base::TempDir::create("grove-daemon-ops-", "/var/tmp");
        ASSERT_TRUE(dir);
        dir_.emplace(std::move(dir).value());
        const auto log = base::Logger::stderr_text(base::LogLevel::kWarn);
        auto store = image::ImageStore::open(dir_->path() / "root", log);
        ASSERT_TRUE(store) << store.error().to_string();
        store_ = std::move(store).value();
        auto source = image::LayoutSource::open(images->dir() / "busybox", "latest");
        ASSERT_TRUE(source);
        auto imported = store_->import(**source, {.tag = "busybox"});
        ASSERT_TRUE(imported) << imported.error().to_string();
        base_ = imported->image.uuid;
        runner_.emplace(*store_, engine::host_cgroups(log, true), log);
        auto state = StateDb::open(store_->paths().root);
        ASSERT_TRUE(state) << state.error().to_string();
        state_ = std::move(state).value();
        auto files = Files::open(store_->paths().root / "files", *state_);
        ASSERT_TRUE(files);
        files_ = std::move(files).value();
        operations_.emplace(*state_, *store_, *files_,
                            std::make_unique<InstanceExecutor>(*runner_, *files_),
                            std::make_unique<ImportExecutor>(*store_, registry::RegistryConfig{}),
                            OperationsOptions{.workers = 2}, log);
    }

    std::string spawn(const std::string& json) {
        auto body = base::parse_json(json);
        EXPECT_TRUE(body) << body.error().to_string();
        auto request = parse_instance_request(*body);
        EXPECT_TRUE(request) << request.error().to_string();
        auto record = operations_->submit_instance(*std::move(request));
        EXPECT_TRUE(record) << record.error().to_string();
        return record ? record->uuid : "";
    }

    // Follows the log of `uuid` to its end; returns (type, data) pairs.
    std::vector<std::pair<std::string, base::Json>> follow(const std::string& uuid) {
        std::vector<std::pair<std::string, base::Json>> events;
        int64_t after = -1;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
        while (std::chrono::steady_clock::now() < deadline) {
            auto batch = operations_->events(uuid, after, milliseconds(500), {});
            EXPECT_TRUE(batch) << batch.error().to_string();
            if (!batch) {
                break;
            }
            for (const auto& event : batch->events) {
                EXPECT_EQ(event.id, after + 1) << "ids are consecutive";
                after = event.id;
                events.emplace_back(event.type, *base::parse_json(event.data_json));
            }
            if (batch->finished) {
                break;
            }
        }
        return events;
    }

    static base::Json find(const std::vector<std::pair<std::string, base::Json>>& events,
                           const std::string& type) {
        for (const auto& [t, data] : events) {
            if (t == type) {
                return data;
            }
        }
        return nullptr;
    }

    static std::string output(const std::vector<std::pair<std::string, base::Json>>& events,
                              const std::string& stream) {
        std::string out;
        for (const auto& [type, data] : events) {
            if (type == stream) {
                auto bytes = decode_stream_repr(data);
                EXPECT_TRUE(bytes);
                out += bytes.value_or("");
            }
        }
        return out;
    }

    OperationRecord record(const std::string& uuid) {
        auto got = operations_->get(uuid);
        EXPECT_TRUE(got) << got.error().to_string();
        return got.value_or(OperationRecord{});
    }

    std::optional<base::TempDir> dir_;
    std::unique_ptr<image::ImageStore> store_;
    std::string base_;
    std::optional<engine::Runner> runner_;
    std::unique_ptr<StateDb> state_;
    std::unique_ptr<Files> files_;
    std::optional<Operations> operations_;
};

TEST_F(DaemonOperationsTest, ROOT_ARunLogsItsOutputAndExit) {
    const auto uuid = spawn(R"({"command": "echo out; echo err >&2; exit 3", "shell": true,
                                "image": "tag:busybox", "disposable": true})");
    const auto events = follow(uuid);
    ASSERT_GE(events.size(), 5u);
    EXPECT_EQ(events.front().first, "init");
    EXPECT_EQ(events[1].first, "spawn");
    EXPECT_EQ(events[1].second["command"], "/bin/sh");
    EXPECT_EQ(events.back().first, "completion");
    EXPECT_EQ(output(events, "stdout"), "out\n");
    EXPECT_EQ(output(events, "stderr"), "err\n");
    const auto exit = find(events, "exit");
    EXPECT_EQ(exit["code"], 3);
    EXPECT_EQ(exit["signal"], -1);
    EXPECT_EQ(exit["timed_out"], false);
    EXPECT_TRUE(exit["resources"].contains("max_rss_kb"));
    const auto& completion = events.back().second;
    EXPECT_EQ(completion["status"], "SUCCESS") << "a failing command is a successful operation";
    EXPECT_TRUE(completion["result_image_uuid"].is_null()) << "disposable";

    const auto done = record(uuid);
    EXPECT_EQ(done.status, OperationStatus::kSuccess);
    EXPECT_EQ(done.image_uuid, base_);
    const auto result = base::parse_json(done.result_json.value_or("{}"));
    EXPECT_EQ((*result)["state"]["exit_code"], 3);
    EXPECT_EQ((*result)["stdout"]["value"], "out\n");
}

TEST_F(DaemonOperationsTest, ROOT_RunsKeepTheirFilesystemAsImages) {
    auto uuid = spawn(R"({"command": "cat", "args": ["/etc/passwd"], "image": "tag:busybox"})");
    follow(uuid);
    EXPECT_EQ(record(uuid).result_image_uuid, base_) << "an unchanged run yields its input";

    uuid = spawn(fmt::format(R"({{"command": "echo 1 > /root/state", "shell": true,
                                 "image": "{}", "tag": "daemon/step1"}})",
                             base_));
    const auto events = follow(uuid);
    const auto changed = record(uuid);
    ASSERT_TRUE(changed.result_image_uuid);
    EXPECT_NE(*changed.result_image_uuid, base_);
    EXPECT_EQ(changed.result_tag, "daemon/step1");
    EXPECT_EQ(events.back().second["result_image_uuid"], *changed.result_image_uuid);
    EXPECT_TRUE(events.back().second["image_size_bytes"].is_number());

    uuid = spawn(R"({"command": "cat /root/state", "shell": true, "image": "tag:daemon/step1",
                     "disposable": true})");
    EXPECT_EQ(output(follow(uuid), "stdout"), "1\n");
}

TEST_F(DaemonOperationsTest, ROOT_OutputPastTruncateAtIsDroppedAndCounted) {
    const auto uuid = spawn(R"({"command": "yes | head -c 1000; printf '\\001'", "shell": true,
                                "image": "tag:busybox", "disposable": true,
                                "truncate_output_at": 10})");
    const auto events = follow(uuid);
    EXPECT_EQ(output(events, "stdout"), "y\ny\ny\ny\ny\n");
    const auto truncated = find(events, "truncated");
    EXPECT_EQ(truncated["stream"], "stdout");
    EXPECT_EQ(truncated["bytes_emitted"], 10);
    EXPECT_EQ(truncated["bytes_dropped"], 991);
    const auto result = base::parse_json(*record(uuid).result_json);
    EXPECT_EQ((*result)["stdout"]["truncated"], true);
}

TEST_F(DaemonOperationsTest, ROOT_EnvCwdHostnameAndUserReachTheCommand) {
    const auto uuid = spawn(R"({"command": "echo $A; pwd; hostname; id -u; id -g", "shell": true,
                                "image": "tag:busybox", "disposable": true,
                                "env": {"A": "from env"}, "cwd": "/tmp", "hostname": "box",
                                "uid": 1000, "gid": 1001})");
    const auto events = follow(uuid);
    EXPECT_EQ(output(events, "stdout"), "from env\n/tmp\nbox\n1000\n1001\n");
    EXPECT_EQ(events[1].second["uid"], 1000);
    EXPECT_EQ(events[1].second["cwd"], "/tmp");
}

TEST_F(DaemonOperationsTest, ROOT_ARunOverMaxLayerBytesFailsAndKeepsNothing) {
    const auto uuid = spawn(R"({"command": "dd if=/dev/zero of=/root/big bs=1M count=16",
                                "shell": true, "image": "tag:busybox",
                                "resources_limits": {"max_layer_bytes": 1048576}})");
    const auto events = follow(uuid);
    EXPECT_EQ(find(events, "size_cap")["limit_bytes"], 1048576);
    EXPECT_EQ(events.back().second["status"], "FAILED");
    const auto failed = record(uuid);
    EXPECT_EQ(failed.status, OperationStatus::kFailed);
    EXPECT_NE(failed.error.value_or("").find("max_layer_bytes"), std::string::npos);
    EXPECT_FALSE(failed.result_image_uuid);
}

TEST_F(DaemonOperationsTest, ROOT_BinaryOutputAndStdin) {
    const auto uuid = spawn(R"({"command": "cat", "image": "tag:busybox", "disposable": true,
                                "stdin": {"value": "AAH/", "encoding": "base64"}})");
    const auto events = follow(uuid);
    EXPECT_EQ(output(events, "stdout"), std::string("\0\1\377", 3));
    EXPECT_EQ(find(events, "stdout")["encoding"], "base64");
}

TEST_F(DaemonOperationsTest, ROOT_UploadedFilesAreInjected) {
    const std::string content = "#!/bin/sh\necho injected\n";
    size_t offset = 0;
    auto file = files_->upload([&](std::span<char> out) -> Result<size_t> {
        const size_t n = std::min(out.size(), content.size() - offset);
        std::copy_n(content.data() + offset, n, out.data());
        offset += n;
        return n;
    });
    ASSERT_TRUE(file) << file.error().to_string();
    const auto uuid = spawn(fmt::format(R"({{"command": "/opt/tool; stat -c '%a %u' /opt/tool",
        "shell": true, "image": "tag:busybox", "disposable": true,
        "files": {{"/opt/tool": {{"uuid": "{}", "mode": "0o750", "uid": 7}}}}}})",
                                        file->uuid));
    EXPECT_EQ(output(follow(uuid), "stdout"), "injected\n750 7\n");

    auto body = base::parse_json(R"({"command": "true", "image": "tag:busybox",
        "files": {"/x": {"uuid": "00000000-0000-4000-8000-000000000000"}}})");
    auto missing = operations_->submit_instance(*parse_instance_request(*body));
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code(), Code::kNotFound);
}

TEST_F(DaemonOperationsTest, ROOT_TimeoutsAndCancellationKillTheRun) {
    auto uuid = spawn(R"({"command": "sleep", "args": ["60"], "image": "tag:busybox",
                          "timeout": 1})");
    auto events = follow(uuid);
    EXPECT_EQ(find(events, "exit")["timed_out"], true);
    EXPECT_EQ(record(uuid).status, OperationStatus::kSuccess);

    uuid = spawn(R"({"command": "sleep", "args": ["60"], "image": "tag:busybox"})");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (record(uuid).status != OperationStatus::kExecuting &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(milliseconds(20));
    }
    const auto cancelled_at = std::chrono::steady_clock::now();
    ASSERT_TRUE(operations_->cancel(uuid));
    events = follow(uuid);
    EXPECT_LT(std::chrono::steady_clock::now() - cancelled_at, std::chrono::seconds(20));
    EXPECT_EQ(events.back().second["status"], "CANCELLED");
    const auto cancelled = record(uuid);
    EXPECT_EQ(cancelled.status, OperationStatus::kCancelled);
    EXPECT_FALSE(cancelled.result_image_uuid) << "a cancelled run commits nothing";
    EXPECT_EQ(operations_->cancel(uuid).error().code(), Code::kFailedPrecondition);
}

TEST_F(DaemonOperationsTest, ROOT_ImportsFromARegistry) {
    auto registry = start_registry();
    ASSERT_TRUE(registry.push(images().oci_ref("busybox"), "library/busybox:1"));
    auto body = base::parse_json(fmt::format(
        R"({{"registry": {{"url": "docker://{}/library/busybox:1"}}, "tag": "imported:1"}})",
        registry.host()));
    auto request = parse_import_request(*body);
    ASSERT_TRUE(request) << request.error().to_string();
    auto submitted = operations_->submit_import(*std::move(request));
    ASSERT_TRUE(submitted) << submitted.error().to_string();
    const auto events = follow(submitted->uuid);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back().second["status"], "SUCCESS") << events.back().second.dump();
    const auto done = record(submitted->uuid);
    EXPECT_EQ(done.kind, OperationKind::kImageImport);
    EXPECT_EQ(done.result_image_uuid, base_) << "the same image as the test image's layout";
    EXPECT_EQ(done.result_tag, "imported:1");
    EXPECT_EQ(store_->resolve("imported:1", image::ImageStore::Lookup::kStrict).value_or(""),
              base_);
}

}  // namespace
}  // namespace grove::daemon
