#include "cli/context.hpp"

#include <cstdlib>
#include <filesystem>

#include "base/error.hpp"
#include "engine/host_cgroups.hpp"

namespace grove::cli {
namespace {

// Where docker and podman/skopeo keep registry logins, read when present.
std::vector<std::filesystem::path> default_auth_files() {
    std::vector<std::filesystem::path> files;
    if (const char* home = std::getenv("HOME")) {
        files.push_back(std::string(home) + "/.docker/config.json");
    }
    if (const char* runtime = std::getenv("XDG_RUNTIME_DIR")) {
        files.push_back(std::string(runtime) + "/containers/auth.json");
    }
    std::erase_if(files, [](const auto& f) { return !std::filesystem::exists(f); });
    return files;
}

}  // namespace

const base::Logger& Context::log() {
    if (!log_) {
        log_.emplace(base::Logger::stderr_text(options_.debug ? base::LogLevel::kDebug
                                                              : base::LogLevel::kWarn));
    }
    return *log_;
}

Result<image::ImageStore*> Context::store() {
    if (remote()) {
        return base::make_error(Code::kUnimplemented,
                                "this command works on the local store only, not against groved "
                                "(--host {}) yet",
                                options_.host);
    }
    if (!store_) {
        GROVE_ASSIGN_OR_RETURN(
            store_, image::ImageStore::open(options_.root, log(), {.spare_run_dirs = 0}));
    }
    return store_.get();
}

Result<engine::Runner*> Context::runner() {
    if (!runner_) {
        GROVE_ASSIGN_OR_RETURN(auto* image_store, store());
        runner_ = std::make_unique<engine::Runner>(
            *image_store, engine::host_cgroups(log(), options_.tune_cgroups), log(),
            /*warm=*/0);
    }
    return runner_.get();
}

Result<Client*> Context::client() {
    if (!client_) {
        if (remote()) {
            GROVE_ASSIGN_OR_RETURN(
                client_, Client::remote({.host = options_.host, .token = options_.token}));
        } else {
            auto auth_files = default_auth_files();
            auth_files.insert(auth_files.end(), options_.auth_files.begin(),
                              options_.auth_files.end());
            GROVE_ASSIGN_OR_RETURN(
                client_, Client::embedded({.root = options_.root,
                                           .registry_mirrors = options_.registry_mirrors,
                                           .insecure_registries = options_.insecure_registries,
                                           .auth_files = std::move(auth_files),
                                           .parallel_runs = 1}));
        }
    }
    return client_.get();
}

Result<inspect::LayerStack> Context::image_files(std::string_view ref) {
    GROVE_ASSIGN_OR_RETURN(auto* image_store, store());
    GROVE_ASSIGN_OR_RETURN(const auto image, image_store->find(ref));
    return image_store->filesystem(image);
}

int exit_code_of(const Result<void>& result) {
    if (result) {
        return 0;
    }
    fmt::print(stderr, "grove: {}\n", result.error().message());
    return 1;
}

}  // namespace grove::cli
