// POST /images/{name}/push: `docker push`, answered with dockerd's stream of JSON progress lines.
//
// What goes to the registry:
// - an image imported from a manifest (or a tag of one: same layers, same config) is pushed as
//   it was fetched: the stored manifest, config and layer blobs, so its digest is unchanged;
// - any other image (a run's or a commit's, or one whose blobs are gone) is flattened as `docker
//   save` does (flat_image.hpp) and pushed as a Docker schema 2 manifest of one gzip layer, which
//   compresses the same way every time: a re-push finds its layer already there.

#include <fcntl.h>

#include "archive/gzip.hpp"
#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "docker_api/flat_image.hpp"
#include "docker_api/image_names.hpp"
#include "docker_api/registry_auth.hpp"
#include "docker_api/routes.hpp"
#include "oci/manifest.hpp"
#include "oci/media_types.hpp"
#include "registry/client.hpp"

namespace grove::docker_api {
namespace {

struct Blob {
    oci::Descriptor descriptor;
    base::UniqueFd fd;
};

// What one tag's push sends: the blobs, then the manifest that names them.
struct PushPlan {
    std::vector<Blob> layers;
    std::optional<Blob> config;  // always set once planned
    std::string manifest;
    std::string media_type;
};

Result<Blob> stored_blob(const store::ContentStore& content, const oci::Descriptor& descriptor) {
    GROVE_ASSIGN_OR_RETURN(auto fd, content.open_blob(descriptor.digest));
    return Blob{descriptor, std::move(fd)};
}

// The plan of an image whose manifest the store still holds with every blob it names, if any:
// `image` itself when imported, or the imported ancestor it shares its layers and config with.
Result<std::optional<PushPlan>> stored_plan(image::ImageStore& images,
                                            const store::ImageRecord& image) {
    GROVE_ASSIGN_OR_RETURN(std::vector<store::ImageRecord> candidates, images.lineage(image.uuid));
    candidates.insert(candidates.begin(), image);
    const store::ContentStore& content = images.content();
    for (const auto& candidate : candidates) {
        if (candidate.top_layer != image.top_layer || candidate.config_json != image.config_json) {
            break;
        }
        if (!candidate.manifest_digest) {
            continue;
        }
        GROVE_ASSIGN_OR_RETURN(const auto digest, base::Digest::parse(*candidate.manifest_digest));
        auto bytes = content.read_blob(digest, oci::kMaxManifestSize);
        if (!bytes) {
            return std::optional<PushPlan>();
        }
        GROVE_ASSIGN_OR_RETURN(const oci::Manifest manifest, oci::parse_manifest(*bytes));
        PushPlan plan{.manifest = std::move(bytes).value(), .media_type = manifest.media_type};
        auto config = stored_blob(content, manifest.config);
        if (!config) {
            return std::optional<PushPlan>();
        }
        plan.config.emplace(std::move(config).value());
        for (const auto& layer : manifest.layers) {
            auto blob = stored_blob(content, layer);
            if (!blob) {
                return std::optional<PushPlan>();
            }
            plan.layers.push_back(std::move(blob).value());
        }
        return std::optional<PushPlan>(std::move(plan));
    }
    return std::optional<PushPlan>();
}

Result<Blob> file_blob(const std::filesystem::path& file, std::string_view media_type) {
    GROVE_ASSIGN_OR_RETURN(auto fd, base::UniqueFd::open(file.string(), O_RDONLY));
    GROVE_ASSIGN_OR_RETURN(base::Digest digest, base::sha256_fd(fd.get()));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return base::last_errno_error("stat '{}'", file.string());
    }
    return Blob{
        oci::Descriptor{
            .media_type = std::string(media_type), .digest = std::move(digest), .size = st.st_size},
        std::move(fd)};
}

// The image flattened into one gzip layer under `scratch`, with a Docker schema 2 manifest.
Result<PushPlan> flat_plan(image::ImageStore& images,
                           const store::ImageRecord& image,
                           const std::filesystem::path& scratch) {
    GROVE_ASSIGN_OR_RETURN(const FlatImage flat,
                           flatten_image(images, image, scratch / "layer.tar"));
    const auto gzipped = scratch / "layer.tar.gz";
    {
        GROVE_ASSIGN_OR_RETURN(
            auto out, base::UniqueFd::open(gzipped.string(), O_WRONLY | O_CREAT | O_TRUNC, 0600));
        GROVE_TRY(archive::gzip_fd(flat.layer.get(), out.get()));
    }
    const auto config_file = scratch / "config.json";
    {
        GROVE_ASSIGN_OR_RETURN(auto out, base::UniqueFd::open(config_file.string(),
                                                              O_WRONLY | O_CREAT | O_TRUNC, 0600));
        GROVE_TRY(base::write_all(out.get(), flat.config));
    }
    PushPlan plan{.media_type = std::string(oci::media_type::kDockerManifest)};
    GROVE_ASSIGN_OR_RETURN(auto config, file_blob(config_file, oci::media_type::kDockerConfig));
    plan.config.emplace(std::move(config));
    GROVE_ASSIGN_OR_RETURN(auto layer, file_blob(gzipped, oci::media_type::kDockerLayerGzip));
    plan.layers.push_back(std::move(layer));
    const auto descriptor = [](const oci::Descriptor& d) {
        return base::Json{
            {"mediaType", d.media_type}, {"size", d.size}, {"digest", d.digest.str()}};
    };
    plan.manifest = base::dump_json({{"schemaVersion", 2},
                                     {"mediaType", plan.media_type},
                                     {"config", descriptor(plan.config->descriptor)},
                                     {"layers", {descriptor(plan.layers[0].descriptor)}}});
    return plan;
}

// Pushes the image tagged `ref` (a name with its tag), writing dockerd's progress lines.
Result<void> push_tag(const DockerServices& services,
                      registry::Client& client,
                      const oci::Reference& ref,
                      http::ResponseWriter& writer) {
    const std::string name = ref.familiar();
    auto found = find_image(services.images, name);
    if (!found) {
        return found.error().code() == Code::kNotFound
                   ? base::make_error(Code::kNotFound,
                                      "An image does not exist locally with the tag: {}",
                                      name.substr(0, name.rfind(':')))
                   : found.error();
    }
    GROVE_ASSIGN_OR_RETURN(auto scratch,
                           base::TempDir::create("docker-push-", services.images.paths().root));
    GROVE_ASSIGN_OR_RETURN(std::optional<PushPlan> stored, stored_plan(services.images, *found));
    if (!stored) {
        GROVE_ASSIGN_OR_RETURN(stored, flat_plan(services.images, *found, scratch.path()));
    }
    const PushPlan& plan = *stored;
    const auto status = [&](std::string_view what, const oci::Descriptor& layer) {
        return write_json_line(writer, {{"status", what},
                                        {"progressDetail", base::Json::object()},
                                        {"id", layer_id(layer.digest.str())}});
    };
    for (const auto& layer : plan.layers) {
        GROVE_TRY(status("Preparing", layer.descriptor));
    }
    // The layers, then the config: a registry accepts a manifest only once it has both.
    for (size_t i = 0; i <= plan.layers.size(); ++i) {
        const bool is_config = i == plan.layers.size();
        const Blob& blob = is_config ? *plan.config : plan.layers[i];
        GROVE_ASSIGN_OR_RETURN(const bool present, client.has_blob(ref, blob.descriptor.digest));
        if (present) {
            if (!is_config) {
                GROVE_TRY(status("Layer already exists", blob.descriptor));
            }
            continue;
        }
        uint64_t reported = 0;
        const auto progress = [&](uint64_t done, uint64_t total) {
            // At most every 1/8 of the blob, as a progress bar needs no more.
            if (is_config || (done < total && done - reported < total / 8 + 1)) {
                return;
            }
            reported = done;
            (void)write_json_line(writer,
                                  {{"status", "Pushing"},
                                   {"progressDetail", {{"current", done}, {"total", total}}},
                                   {"id", layer_id(blob.descriptor.digest.str())}});
        };
        GROVE_TRY(client.push_blob(ref, blob.descriptor, blob.fd.get(), progress));
        if (!is_config) {
            GROVE_TRY(status("Pushed", blob.descriptor));
        }
    }
    GROVE_ASSIGN_OR_RETURN(const base::Digest digest,
                           client.push_manifest(ref, plan.media_type, plan.manifest));
    const std::string tag = ref.tag.value_or("latest");
    GROVE_TRY(
        write_json_line(writer, {{"status", fmt::format("{}: digest: {} size: {}", tag,
                                                        digest.str(), plan.manifest.size())}}));
    GROVE_TRY(write_json_line(
        writer,
        {{"progressDetail", base::Json::object()},
         {"aux", {{"Tag", tag}, {"Digest", digest.str()}, {"Size", plan.manifest.size()}}}}));
    services.events.publish({.type = "image",
                             .action = "push",
                             .id = name,
                             .attributes = {{"name", name.substr(0, name.rfind(':'))}}});
    return {};
}

// The tags to push: `tag` of `repository`, or with none every tag of it, as dockerd does.
Result<std::vector<oci::Reference>> tags_to_push(image::ImageStore& images,
                                                 const oci::Reference& repository,
                                                 std::string_view tag) {
    if (!tag.empty()) {
        oci::Reference ref = repository;
        ref.tag = std::string(tag);
        return std::vector<oci::Reference>{std::move(ref)};
    }
    std::vector<oci::Reference> refs;
    GROVE_ASSIGN_OR_RETURN(const auto tagged, images.list({.tagged_only = true}));
    for (const auto& image : tagged) {
        auto ref = oci::Reference::parse(repo_tag_of(*image.tag));
        if (ref && ref->domain == repository.domain && ref->repository == repository.repository) {
            refs.push_back(std::move(ref).value());
        }
    }
    if (refs.empty()) {
        return base::make_error(Code::kNotFound, "An image does not exist locally with the tag: {}",
                                repository.familiar());
    }
    return refs;
}

Result<void> push(const DockerServices& services,
                  http::Request& request,
                  http::ResponseWriter& writer) {
    const std::string name = param(request, "name");
    auto repository = oci::Reference::parse(name);
    if (!repository || repository->digest) {
        return base::make_error(Code::kInvalidArgument, "invalid reference format: {}", name);
    }
    std::string tag(request.query().get("tag").value_or(""));
    if (tag.empty() && repository->tag && name.ends_with(":" + *repository->tag)) {
        tag = *repository->tag;
    }
    repository->tag.reset();
    registry::RegistryConfig config = services.registry;
    GROVE_ASSIGN_OR_RETURN(const auto credentials, registry_auth(request));
    if (credentials) {
        config.hosts[repository->domain].credentials = *credentials;
    }
    registry::Client client(std::move(config));
    GROVE_TRY(start_json_stream(writer));
    GROVE_TRY(write_json_line(
        writer, {{"status", "The push refers to repository [" + repository->name() + "]"}}));
    auto refs = tags_to_push(services.images, *repository, tag);
    if (!refs) {
        GROVE_TRY(write_stream_error(writer, refs.error()));
        return writer.finish();
    }
    for (const auto& ref : *refs) {
        if (auto pushed = push_tag(services, client, ref, writer); !pushed) {
            GROVE_TRY(write_stream_error(writer, pushed.error()));
            break;
        }
    }
    return writer.finish();
}

}  // namespace

void add_push_routes(http::Router& router, const DockerServices& services) {
    route(router, services, "POST", "/images/{name...}/push",
          [services](http::Request& r, http::ResponseWriter& w) { return push(services, r, w); });
}

}  // namespace grove::docker_api
