#include "daemon/import_executor.hpp"

#include <chrono>
#include <mutex>
#include <vector>

#include "base/error.hpp"
#include "daemon/event_data.hpp"
#include "daemon/wire_time.hpp"
#include "image/layer_phase.hpp"
#include "image/registry_source.hpp"

namespace grove::daemon {
namespace {

// The importer's progress as `progress` events, thinned: bytes of a download that moves fast
// would flood the log, which is kept in the database once the import ends.
class ProgressEvents {
public:
    explicit ProgressEvents(EventLog& log) : log_(log) {}

    // From the importer's worker threads.
    void report(const image::LayerProgress& progress) {
        const auto now = std::chrono::steady_clock::now();
        std::lock_guard lock(mutex_);
        if (last_.size() < progress.count) {
            last_.resize(progress.count);
        }
        Last& last = last_[progress.index];
        if (last.reported && last.phase == progress.phase && now - last.at < kInterval) {
            return;
        }
        last = {.reported = true, .phase = progress.phase, .at = now};
        log_.append(kSandboxSpid, kProgressEvent,
                    {{"layer", progress.index},
                     {"layers", progress.count},
                     {"digest", progress.digest},
                     {"phase", image::phase_name(progress.phase)},
                     {"done", progress.done},
                     {"total", progress.total}});
    }

private:
    static constexpr auto kInterval = std::chrono::milliseconds(200);
    struct Last {
        bool reported = false;
        image::LayerProgress::Phase phase{};
        std::chrono::steady_clock::time_point at;
    };
    EventLog& log_;
    std::mutex mutex_;
    std::vector<Last> last_;  // by layer index
};

}  // namespace

ImportExecutor::ImportExecutor(image::ImageStore& images, registry::RegistryConfig config)
    : images_(images), config_(std::move(config)), shared_client_(config_) {}

OperationOutcome ImportExecutor::run(LiveOperation& operation, const MarkExecuting& executing) {
    auto outcome = execute(operation, executing);
    if (outcome) {
        return *std::move(outcome);
    }
    return {.status = OperationStatus::kFailed, .error = outcome.error().message()};
}

Result<OperationOutcome> ImportExecutor::execute(LiveOperation& operation,
                                                 const MarkExecuting& executing) {
    const auto& request = std::get<ImportRequest>(operation.request);
    const int64_t started = now_ns();
    operation.log.append(kSandboxSpid, kInitEvent, init_event_data(started));
    executing();

    std::unique_ptr<registry::Client> own_client;
    registry::Client* client = &shared_client_;
    if (request.credentials) {
        registry::RegistryConfig config = config_;
        config.hosts[request.reference.domain].credentials =
            registry::Credentials{request.credentials->username, request.credentials->password};
        own_client = std::make_unique<registry::Client>(std::move(config));
        client = own_client.get();
    }
    image::RegistrySource source(*client, request.reference);
    ProgressEvents progress(operation.log);
    GROVE_ASSIGN_OR_RETURN(const auto imported,
                           images_.import(source, {.platform = request.platform,
                                                   .tag = request.tag,
                                                   .progress = [&](const image::LayerProgress& p) {
                                                       progress.report(p);
                                                   }}));

    OperationOutcome outcome{.status = OperationStatus::kSuccess,
                             .result_image_uuid = imported.image.uuid,
                             .result_tag = imported.image.tag,
                             .image_size = imported.image.size_logical};
    const auto elapsed = std::chrono::nanoseconds(now_ns() - started);
    if (operation.stop_reason.load() == StopReason::kCancelled) {
        outcome.status = OperationStatus::kCancelled;
        outcome.error = "cancelled";
    } else if (request.timeout_seconds &&
               elapsed > std::chrono::seconds(*request.timeout_seconds)) {
        outcome.status = OperationStatus::kFailed;
        outcome.error =
            fmt::format("the import took longer than its timeout ({} s)", *request.timeout_seconds);
    }
    return outcome;
}

}  // namespace grove::daemon
