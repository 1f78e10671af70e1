#pragma once

// RemoteClient: grove::Client over groved's HTTP API, the ConTree routes (/v1) for images, files,
// runs and inspection, and grove's own (/grove/v1) for sessions. A run is three steps on the
// HttpLoop (upload its files, spawn, follow its event stream to the completion), each started by
// the previous one's completion, so start_run never blocks and one thread carries every run.

#include <memory>

#include <grove/client.hpp>

#include "base/json.hpp"
#include "client/http_loop.hpp"
#include "image/source_spec.hpp"

namespace grove::client {

// GROVE_HOST's forms (RemoteOptions::host) as an endpoint.
Result<Endpoint> parse_host(const RemoteOptions& options);

class RemoteClient final : public Client {
public:
    explicit RemoteClient(std::unique_ptr<HttpLoop> http) : http_(std::move(http)) {}

    Result<std::vector<ImageInfo>> list_images(const ImageListOptions& options) override;
    Result<ImageInfo> find_image(std::string_view ref, bool strict) override;
    Result<ImageInfo> import_image(std::string_view reference,
                                   const ImportOptions& options) override;
    Result<ImageInfo> tag_image(const std::string& uuid, std::string_view tag) override;
    Result<std::vector<ImageInfo>> lineage(const std::string& uuid) override;
    Result<std::vector<FileEntry>> list_files(const std::string& uuid,
                                              std::string_view path) override;
    Result<std::string> read_file(const std::string& uuid, std::string_view path) override;
    Result<void> archive_path(const std::string& uuid, std::string_view path, int fd) override;
    Result<GrepResult> grep_image(const std::string& uuid, const GrepOptions& options) override;
    Result<std::string> remove_image(std::string_view ref, bool force) override;
    Result<void> untag_image(std::string_view tag) override;
    Result<PruneResult> prune_images() override;
    std::future<Result<RunResult>> start_run(const std::string& uuid, RunOptions options) override;
    Result<SessionInfo> create_session(std::string_view name, std::string_view ref) override;
    Result<SessionInfo> get_session(std::string_view name) override;
    Result<std::vector<SessionInfo>> list_sessions() override;
    Result<void> remove_session(std::string_view name) override;
    Result<SessionInfo> branch_session(std::string_view name, std::string_view branch) override;
    Result<SessionInfo> checkout_session(std::string_view name, std::string_view branch) override;
    Result<SessionInfo> rollback_session(std::string_view name, int64_t steps) override;
    Result<SessionInfo> record_run(std::string_view name, const SessionRun& run) override;
    Result<std::vector<SessionRun>> session_history(std::string_view name,
                                                    size_t limit,
                                                    std::string_view branch) override;
    Result<std::vector<OperationInfo>> list_operations(
        const OperationListOptions& options) override;
    Result<OperationInfo> wait_operation(std::string_view uuid) override;
    Result<void> cancel_operation(std::string_view uuid) override;
    // Containers, on /grove/v1/containers (remote_containers.cpp).
    Result<ContainerInfo> create_container(const ContainerOptions& options) override;
    Result<bool> start_container(std::string_view ref) override;
    Result<bool> stop_container(std::string_view ref,
                                std::optional<std::chrono::seconds> timeout) override;
    Result<void> kill_container(std::string_view ref, int signal) override;
    Result<void> remove_container(std::string_view ref, bool force) override;
    Result<std::vector<ContainerInfo>> list_containers(bool all) override;
    Result<ContainerInfo> inspect_container(std::string_view ref) override;
    Result<void> container_logs(std::string_view ref, const ContainerLogOptions& options) override;
    Result<int> exec_in_container(std::string_view ref, const ExecOptions& options) override;

private:
    // A container route's JSON answer.
    Result<base::Json> container_call(std::string method, std::string path, std::string body = {});
    Result<OperationInfo> get_operation(std::string_view uuid);
    Result<SessionInfo> session_call(std::string method, std::string path, std::string body);
    // Follows an import's events to its completion, reporting its progress events; the image.
    Result<std::string> wait_for_image(const std::string& operation,
                                       const std::function<void(const ImportProgress&)>& progress);
    Result<ImageInfo> import_file(const image::SourceSpec& spec,
                                  std::string_view transport,
                                  const ImportOptions& options);

    std::unique_ptr<HttpLoop> http_;
};

}  // namespace grove::client
