#include "daemon/import_executor.hpp"

#include <chrono>

#include "base/error.hpp"
#include "daemon/event_data.hpp"
#include "daemon/wire_time.hpp"
#include "image/registry_source.hpp"

namespace grove::daemon {

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
    GROVE_ASSIGN_OR_RETURN(const auto imported, images_.import(source, {.tag = request.tag}));

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
