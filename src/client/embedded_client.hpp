#pragma once

// EmbeddedClient: grove::Client on the engine in this process (image::ImageStore and
// engine::Runner on a local root), no daemon. Other processes (a groved, `grove`) may use the
// same root at once: the store is shared, sessions included. run_async's runs go to a pool of
// `parallel_runs` threads, since a run blocks its thread while the command runs.

#include <memory>
#include <mutex>

#include <boost/asio/thread_pool.hpp>

#include <grove/client.hpp>

#include "base/log.hpp"
#include "containers/manager.hpp"
#include "engine/runner.hpp"
#include "image/image_store.hpp"

namespace grove::client {

class EmbeddedClient final : public Client {
public:
    EmbeddedClient(const EmbeddedOptions& options,
                   base::Logger log,
                   std::unique_ptr<image::ImageStore> store,
                   size_t parallel_runs);
    // Waits for the runs in flight.
    ~EmbeddedClient() override;

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
    // Containers (embedded_containers.cpp).
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
    // The containers of the store's root, opened at the first use.
    Result<containers::Manager*> manager();
    static Error no_operations();
    Result<RunResult> run(const std::string& uuid, const RunOptions& options);

    EmbeddedOptions options_;
    base::Logger log_;
    std::unique_ptr<image::ImageStore> store_;
    engine::Runner runner_;
    std::mutex manager_mutex_;
    std::unique_ptr<containers::Manager> manager_;  // guarded by manager_mutex_ until set
    boost::asio::thread_pool pool_;                 // last: joined before the rest goes
};

}  // namespace grove::client
