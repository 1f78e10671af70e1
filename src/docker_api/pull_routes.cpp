// POST /images/create: a pull from a registry (fromImage, tag, platform) or an import of a root
// filesystem tarball (fromSrc=-), answered with dockerd's stream of JSON progress lines.

#include <fcntl.h>
#include <mutex>

#include "base/base64.hpp"
#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "docker_api/image_names.hpp"
#include "docker_api/registry_auth.hpp"
#include "docker_api/routes.hpp"
#include "image/registry_source.hpp"
#include "image/rootfs_source.hpp"

namespace grove::docker_api {
namespace {

std::string_view phase_status(image::LayerProgress::Phase phase) {
    switch (phase) {
        case image::LayerProgress::Phase::kCached:
            return "Already exists";
        case image::LayerProgress::Phase::kDownloading:
            return "Downloading";
        case image::LayerProgress::Phase::kUnpacking:
            return "Extracting";
        case image::LayerProgress::Phase::kDone:
            return "Pull complete";
    }
    return "Downloading";
}

Result<void> pull(const DockerServices& services,
                  http::Request& request,
                  http::ResponseWriter& writer) {
    std::string text(request.query().get("fromImage").value_or(""));
    const std::string tag(request.query().get("tag").value_or(""));
    if (!tag.empty()) {
        text += (tag.starts_with("sha256:") ? "@" : ":") + tag;
    }
    auto ref = oci::Reference::parse(text);
    if (!ref) {
        return base::make_error(Code::kInvalidArgument, "invalid reference format: {}",
                                ref.error().message());
    }
    std::optional<oci::Platform> platform;
    if (const auto wanted = request.query().get("platform"); wanted && !wanted->empty()) {
        GROVE_ASSIGN_OR_RETURN(platform, oci::Platform::parse(*wanted));
    }
    registry::RegistryConfig config = services.registry;
    GROVE_ASSIGN_OR_RETURN(const auto credentials, registry_auth(request));
    if (credentials) {
        config.hosts[ref->domain].credentials = *credentials;
    }
    registry::Client client(std::move(config));
    image::RegistrySource source(client, *ref);
    // A missing repository or tag is an error response (404), not a failed stream: docker-py
    // turns that 404 into ImageNotFound, and `docker run` then says so.
    // dockerd's words, which docker-py reads: "repository does not exist" is ImageNotFound.
    if (auto root = source.root(); !root) {
        const Error& error = root.error();
        if (error.message().find("MANIFEST_UNKNOWN") != std::string::npos ||
            error.message().find("manifest unknown") != std::string::npos) {
            return base::make_error(Code::kNotFound, "manifest for {} not found: {}",
                                    ref->familiar(), error.message());
        }
        const bool denied = error.code() == Code::kNotFound ||
                            error.code() == Code::kPermissionDenied ||
                            error.code() == Code::kUnauthenticated;
        const std::string name = ref->familiar();
        if (!denied) {
            return base::make_error(error.code(), "pull {}: {}", name, error.message());
        }
        return base::make_error(Code::kNotFound,
                                "pull access denied for {}, repository does not exist or may "
                                "require 'docker login': {}",
                                name.substr(0, name.rfind(':')), error.message());
    }
    GROVE_TRY(start_json_stream(writer));
    const std::string name = ref->familiar();
    const std::string repository = name.substr(0, name.rfind(':'));
    GROVE_TRY(write_json_line(writer, {{"status", "Pulling from " + ref->repository},
                                       {"id", ref->tag.value_or(ref->tag_or_digest())}}));
    std::mutex mutex;  // progress comes from the importer's worker threads
    std::map<size_t, image::LayerProgress::Phase> phases;
    std::map<size_t, uint64_t> reported;
    const auto progress = [&](const image::LayerProgress& layer) {
        std::lock_guard lock(mutex);
        const auto phase = phases.find(layer.index);
        const bool same_phase = phase != phases.end() && phase->second == layer.phase;
        // Downloading lines at most every 1/8 of the layer, as a progress bar needs no more.
        if (same_phase && (layer.phase != image::LayerProgress::Phase::kDownloading ||
                           layer.done - reported[layer.index] < layer.total / 8 + 1)) {
            return;
        }
        phases[layer.index] = layer.phase;
        reported[layer.index] = layer.done;
        base::Json line{{"status", phase_status(layer.phase)}, {"id", layer_id(layer.digest)}};
        line["progressDetail"] = layer.phase == image::LayerProgress::Phase::kDownloading
                                     ? base::Json{{"current", layer.done}, {"total", layer.total}}
                                     : base::Json::object();
        (void)write_json_line(writer, line);
    };
    auto imported = services.images.import(source, {.platform = platform, .progress = progress});
    if (!imported) {
        return write_stream_error(writer, imported.error());
    }
    GROVE_TRY(name_image(services.images, imported->image, name));
    if (imported->image.manifest_digest) {
        GROVE_TRY(
            write_json_line(writer, {{"status", "Digest: " + *imported->image.manifest_digest}}));
    }
    services.events.publish(
        {.type = "image", .action = "pull", .id = name, .attributes = {{"name", repository}}});
    GROVE_TRY(write_json_line(
        writer, {{"status", (!imported->existed ? "Status: Downloaded newer image for "
                                                : "Status: Image is up to date for ") +
                                name}}));
    return writer.finish();
}

Result<void> import_tarball(const DockerServices& services,
                            http::Request& request,
                            http::ResponseWriter& writer) {
    if (request.query().get("fromSrc") != "-") {
        return base::make_error(Code::kInvalidArgument,
                                "fromSrc: only \"-\" (the request body) is supported");
    }
    std::optional<std::string> tag;
    if (const std::string repo(request.query().get("repo").value_or("")); !repo.empty()) {
        const std::string version(request.query().get("tag").value_or(""));
        GROVE_ASSIGN_OR_RETURN(
            const auto ref, oci::Reference::parse(version.empty() ? repo : repo + ":" + version));
        tag = ref.familiar();
    }
    const auto& root = services.images.paths().root;
    GROVE_ASSIGN_OR_RETURN(auto scratch, base::TempDir::create("docker-import-", root));
    const auto file = scratch.path() / "rootfs.tar";
    {
        GROVE_ASSIGN_OR_RETURN(
            auto fd, base::UniqueFd::open(file.string(), O_WRONLY | O_CREAT | O_EXCL, 0600));
        GROVE_TRY(request.copy_body_to(fd.get()));
    }
    GROVE_ASSIGN_OR_RETURN(auto source, image::open_rootfs(file, scratch.path()));
    GROVE_ASSIGN_OR_RETURN(auto imported, services.images.import(*source, {}));
    store::ImageRecord image = imported.image;
    if (tag) {
        GROVE_ASSIGN_OR_RETURN(image, name_image(services.images, image, *tag));
    }
    services.events.publish({.type = "image", .action = "import", .id = docker_id(image.uuid)});
    GROVE_TRY(start_json_stream(writer));
    GROVE_TRY(write_json_line(writer, {{"status", docker_id(image.uuid)}}, "\r\n"));
    return writer.finish();
}

}  // namespace

void add_pull_routes(http::Router& router, const DockerServices& services) {
    route(router, services, "POST", "/images/create",
          [services](http::Request& r, http::ResponseWriter& w) {
              return r.query().contains("fromSrc") ? import_tarball(services, r, w)
                                                   : pull(services, r, w);
          },
          {.max_body_size = uint64_t{64} << 30});
}

}  // namespace grove::docker_api
