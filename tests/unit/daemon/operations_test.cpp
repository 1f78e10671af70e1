// The Operations service with executors that block until the test lets them go, so queueing,
// cancellation, event following and shutdown are tested without running anything (real runs
// are in tests/integration/daemon_operations_test.cpp).

#include "daemon/operations.hpp"

#include <thread>

#include <gtest/gtest.h>

#include "base/temp_dir.hpp"
#include "daemon/event_data.hpp"
#include "daemon/event_table.hpp"
#include "gate_executor.hpp"
#include "store/metadata/uuid.hpp"

namespace grove::daemon {
namespace {

using std::chrono::milliseconds;
using testing::GateExecutor;

class OperationsTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto dir = base::TempDir::create("grove-operations-");
        ASSERT_TRUE(dir);
        dir_.emplace(std::move(dir).value());
        const auto log = base::Logger::stderr_text(base::LogLevel::kWarn);
        auto images = image::ImageStore::open(dir_->path() / "store", log);
        ASSERT_TRUE(images) << images.error().to_string();
        images_ = std::move(images).value();
        auto state = StateDb::open(images_->paths().root);
        ASSERT_TRUE(state) << state.error().to_string();
        state_ = std::move(state).value();
        auto files = Files::open(images_->paths().root / "files", *state_);
        ASSERT_TRUE(files);
        files_ = std::move(files).value();
    }

    void start(OperationsOptions options) {
        auto gate = std::make_unique<GateExecutor>();
        gate_ = gate.get();
        operations_ = std::make_unique<Operations>(
            *state_, *images_, *files_, std::make_unique<GateExecutor>(), std::move(gate), options,
            base::Logger::stderr_text(base::LogLevel::kWarn));
    }

    std::string submit() {
        auto body = base::parse_json(R"({"registry": {"url": "docker://example.com/a:1"}})");
        auto request = parse_import_request(*body);
        EXPECT_TRUE(request);
        auto record = operations_->submit_import(*std::move(request));
        EXPECT_TRUE(record) << record.error().to_string();
        return record ? record->uuid : "";
    }

    OperationStatus status(const std::string& uuid) {
        auto record = operations_->get(uuid);
        EXPECT_TRUE(record) << record.error().to_string();
        return record ? record->status : OperationStatus::kFailed;
    }

    // Follows the log of `uuid` to its end, as an SSE client does.
    std::vector<EventRecord> follow(const std::string& uuid, int64_t after = -1) {
        std::vector<EventRecord> all;
        for (int i = 0; i < 1000; ++i) {
            auto batch = operations_->events(uuid, after, milliseconds(100), {});
            EXPECT_TRUE(batch) << batch.error().to_string();
            if (!batch) {
                break;
            }
            for (auto& event : batch->events) {
                after = event.id;
                all.push_back(std::move(event));
            }
            if (batch->finished) {
                break;
            }
        }
        return all;
    }

    static std::vector<std::string> types(const std::vector<EventRecord>& events) {
        std::vector<std::string> out;
        for (const auto& e : events) {
            out.push_back(e.type);
        }
        return out;
    }

    std::optional<base::TempDir> dir_;
    std::unique_ptr<image::ImageStore> images_;
    std::unique_ptr<StateDb> state_;
    std::unique_ptr<Files> files_;
    std::unique_ptr<Operations> operations_;
    GateExecutor* gate_ = nullptr;
};

TEST_F(OperationsTest, AnOperationRunsAndItsWholeLogIsPersisted) {
    start({});
    const auto uuid = submit();
    EXPECT_EQ(operations_->get(uuid)->kind, OperationKind::kImageImport);
    ASSERT_TRUE(gate_->wait_started(1));
    EXPECT_EQ(status(uuid), OperationStatus::kExecuting);
    gate_->release();

    const auto events = follow(uuid);
    EXPECT_EQ(types(events), (std::vector<std::string>{"init", "stdout", "completion"}));
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(events[2].id, 2);
    const auto completion = base::parse_json(events[2].data_json);
    EXPECT_EQ((*completion)["status"], "SUCCESS");
    EXPECT_EQ((*completion)["result_image_uuid"], "result-image");

    const auto record = operations_->get(uuid);
    EXPECT_EQ(record->status, OperationStatus::kSuccess);
    EXPECT_EQ(record->result_image_uuid, "result-image");
    EXPECT_TRUE(record->started_ns);
    EXPECT_TRUE(record->finished_ns);

    // Once finished, the log is read from the database, resuming after any id.
    EXPECT_EQ(types(follow(uuid, 0)), (std::vector<std::string>{"stdout", "completion"}));
    operations_.reset();
    state_->with(
        [&](store::Database& db) { EXPECT_EQ(EventTable(db).list(uuid, -1)->size(), 3u); });
}

TEST_F(OperationsTest, WorkBeyondTheWorkersWaitsPending) {
    start({.workers = 1});
    const auto first = submit();
    const auto second = submit();
    ASSERT_TRUE(gate_->wait_started(1));
    EXPECT_EQ(status(first), OperationStatus::kExecuting);
    EXPECT_EQ(status(second), OperationStatus::kPending);
    EXPECT_EQ(operations_->counts().pending, 1u);
    EXPECT_EQ(operations_->counts().executing, 1u);
    EXPECT_EQ(operations_->list({.status = OperationStatus::kPending})->size(), 1u);
    gate_->release();
    follow(second);
    EXPECT_EQ(status(first), OperationStatus::kSuccess);
    EXPECT_EQ(status(second), OperationStatus::kSuccess);
}

TEST_F(OperationsTest, AFullQueueRefusesBeforeRecordingAnything) {
    start({.workers = 1, .max_pending = 1});
    submit();
    ASSERT_TRUE(gate_->wait_started(1));
    submit();
    auto body = base::parse_json(R"({"registry": {"url": "example.com/a:1"}})");
    auto third = operations_->submit_import(*parse_import_request(*body));
    ASSERT_FALSE(third);
    EXPECT_EQ(third.error().code(), Code::kResourceExhausted);
    EXPECT_EQ(operations_->list({})->size(), 2u);
    gate_->release();
}

TEST_F(OperationsTest, CancellingAQueuedOperationEndsItAtOnce) {
    start({.workers = 1});
    const auto running = submit();
    const auto queued = submit();
    ASSERT_TRUE(gate_->wait_started(1));
    ASSERT_TRUE(operations_->cancel(queued));
    EXPECT_EQ(status(queued), OperationStatus::kCancelled);
    EXPECT_EQ(types(follow(queued)), std::vector<std::string>{"completion"});

    auto again = operations_->cancel(queued);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code(), Code::kFailedPrecondition);
    EXPECT_EQ(operations_->cancel(store::new_uuid()).error().code(), Code::kNotFound);
    gate_->release();
    follow(running);
    EXPECT_EQ(status(running), OperationStatus::kSuccess);
}

TEST_F(OperationsTest, CancellingARunningOperationSignalsIt) {
    start({});
    const auto uuid = submit();
    ASSERT_TRUE(gate_->wait_started(1));
    ASSERT_TRUE(operations_->cancel(uuid));
    const auto events = follow(uuid);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back().type, "completion");
    EXPECT_EQ((*base::parse_json(events.back().data_json))["status"], "CANCELLED");
    EXPECT_EQ(status(uuid), OperationStatus::kCancelled);
}

TEST_F(OperationsTest, AFollowerSeesEventsAsTheyCome) {
    start({});
    const auto uuid = submit();
    ASSERT_TRUE(gate_->wait_started(1));
    std::vector<EventRecord> seen;
    std::thread follower([&] { seen = follow(uuid); });
    std::this_thread::sleep_for(milliseconds(50));
    gate_->release();
    follower.join();
    EXPECT_EQ(types(seen), (std::vector<std::string>{"init", "stdout", "completion"}));
}

// A client following the events asks for the operation as soon as it reads the completion
// (contree-client's wait_operation does): it must find the operation finished.
TEST_F(OperationsTest, WhoeverReadsTheCompletionFindsTheOperationFinished) {
    start({.workers = 1});
    for (int i = 0; i < 20; ++i) {
        gate_->hold();
        const auto uuid = submit();
        ASSERT_TRUE(gate_->wait_started(i + 1));
        std::optional<OperationStatus> seen;
        std::thread follower([&] {
            int64_t after = -1;
            for (int reads = 0; reads < 1000 && !seen; ++reads) {
                auto batch = operations_->events(uuid, after, milliseconds(100), {});
                ASSERT_TRUE(batch) << batch.error().to_string();
                for (const auto& event : batch->events) {
                    after = event.id;
                    if (event.type == kCompletionEvent) {
                        seen = status(uuid);  // at once, before reading on
                    }
                }
            }
        });
        std::this_thread::sleep_for(milliseconds(5));
        gate_->release();
        follower.join();
        ASSERT_TRUE(seen) << "no completion";
        EXPECT_EQ(*seen, OperationStatus::kSuccess) << "round " << i;
    }
}

TEST_F(OperationsTest, ShutdownFailsWhatIsQueuedAndStopsWhatRuns) {
    start({.workers = 1});
    const auto running = submit();
    const auto queued = submit();
    ASSERT_TRUE(gate_->wait_started(1));
    operations_->shutdown();
    for (const auto& uuid : {running, queued}) {
        const auto record = operations_->get(uuid);
        EXPECT_EQ(record->status, OperationStatus::kFailed);
        EXPECT_EQ(record->error, kShutdownError);
    }
    auto body = base::parse_json(R"({"registry": {"url": "example.com/a:1"}})");
    EXPECT_EQ(operations_->submit_import(*parse_import_request(*body)).error().code(),
              Code::kUnavailable);
    operations_->shutdown();
}

TEST_F(OperationsTest, UnknownOperationsAreNotFound) {
    start({});
    EXPECT_EQ(operations_->get(store::new_uuid()).error().code(), Code::kNotFound);
    EXPECT_EQ(operations_->events(store::new_uuid(), -1, milliseconds(0), {}).error().code(),
              Code::kNotFound);
}

TEST_F(OperationsTest, OnlyInstancesHaveSubprocesses) {
    start({.workers = 1});
    EXPECT_EQ(operations_->subprocesses(store::new_uuid()).error().code(), Code::kNotFound);
    const std::string running = submit();
    ASSERT_TRUE(gate_->wait_started(1));
    auto import = operations_->subprocesses(running);
    ASSERT_FALSE(import);
    EXPECT_EQ(import.error().code(), Code::kNotFound) << import.error().to_string();
    gate_->release();
    follow(running);
    EXPECT_EQ(operations_->subprocesses(running).error().code(), Code::kNotFound);
}

TEST_F(OperationsTest, AnInstanceNeedsAnExistingImageAndFiles) {
    start({});
    auto body = base::parse_json(R"({"command": "true", "image": "tag:nothing"})");
    auto missing = operations_->submit_instance(*parse_instance_request(*body));
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code(), Code::kNotFound);
    EXPECT_TRUE(operations_->list({})->empty());
}

}  // namespace
}  // namespace grove::daemon
