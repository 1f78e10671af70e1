#include "docker_api/push_plan.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include "archive/gzip.hpp"
#include "base/error.hpp"
#include "daemon/wire_time.hpp"
#include "docker_api/flat_image.hpp"
#include "docker_api/image_json.hpp"
#include "inspect/tar_export.hpp"
#include "oci/manifest.hpp"
#include "oci/media_types.hpp"

namespace grove::docker_api {
namespace {

Result<Blob> stored_blob(const store::ContentStore& content, const oci::Descriptor& descriptor) {
    GROVE_ASSIGN_OR_RETURN(auto fd, content.open_blob(descriptor.digest));
    return Blob{descriptor, std::move(fd)};
}

// The plan of `imported` as it was fetched, if the store still holds its manifest and every blob
// the manifest names.
Result<std::optional<PushPlan>> fetched_plan(const store::ContentStore& content,
                                             const store::ImageRecord& imported) {
    GROVE_ASSIGN_OR_RETURN(const auto digest, base::Digest::parse(*imported.manifest_digest));
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

Result<Blob> write_blob(const std::filesystem::path& file,
                        std::string_view bytes,
                        std::string_view media_type) {
    {
        GROVE_ASSIGN_OR_RETURN(
            auto out, base::UniqueFd::open(file.string(), O_WRONLY | O_CREAT | O_TRUNC, 0600));
        GROVE_TRY(base::write_all(out.get(), bytes));
    }
    return file_blob(file, media_type);
}

// `tar` (read from offset 0) gzipped into `file`.
Result<Blob> gzip_blob(int tar, const std::filesystem::path& file, std::string_view media_type) {
    {
        GROVE_ASSIGN_OR_RETURN(
            auto out, base::UniqueFd::open(file.string(), O_WRONLY | O_CREAT | O_TRUNC, 0600));
        GROVE_TRY(archive::gzip_fd(tar, out.get()));
    }
    return file_blob(file, media_type);
}

// Sets plan.manifest: a schema 2 manifest of plan.media_type naming the plan's blobs.
void write_manifest(PushPlan& plan) {
    base::Json layers = base::Json::array();
    for (const auto& layer : plan.layers) {
        layers.push_back(layer.descriptor.to_json());
    }
    plan.manifest = base::dump_json({{"schemaVersion", 2},
                                     {"mediaType", plan.media_type},
                                     {"config", plan.config->descriptor.to_json()},
                                     {"layers", std::move(layers)}});
}

// The image flattened into one gzip layer under `scratch`, with a Docker schema 2 manifest.
Result<PushPlan> flat_plan(image::ImageStore& images,
                           const store::ImageRecord& image,
                           const std::filesystem::path& scratch) {
    GROVE_ASSIGN_OR_RETURN(const FlatImage flat,
                           flatten_image(images, image, scratch / "layer.tar"));
    PushPlan plan{.media_type = std::string(oci::media_type::kDockerManifest)};
    GROVE_ASSIGN_OR_RETURN(auto layer, gzip_blob(flat.layer.get(), scratch / "layer.tar.gz",
                                                 oci::media_type::kDockerLayerGzip));
    plan.layers.push_back(std::move(layer));
    GROVE_ASSIGN_OR_RETURN(auto config, write_blob(scratch / "config.json", flat.config,
                                                   oci::media_type::kDockerConfig));
    plan.config.emplace(std::move(config));
    write_manifest(plan);
    return plan;
}

// `base`'s fetched plan with a layer on top for each run in `above` (nearest the base first)
// that has one of its own, and `image`'s config naming them all.
Result<std::optional<PushPlan>> layered_plan(image::ImageStore& images,
                                             const store::ImageRecord& image,
                                             const store::ImageRecord& base,
                                             const std::vector<store::ImageRecord>& above,
                                             const std::filesystem::path& scratch) {
    GROVE_ASSIGN_OR_RETURN(std::optional<PushPlan> plan, fetched_plan(images.content(), base));
    if (!plan) {
        return plan;
    }
    const base::Json base_config = config_of(base);
    base::Json diff_ids = base::Json::array();
    if (base_config.contains("rootfs") && base_config["rootfs"].is_object()) {
        diff_ids = base_config["rootfs"].value("diff_ids", base::Json::array());
    }
    if (!diff_ids.is_array() || diff_ids.size() != plan->layers.size()) {
        return std::optional<PushPlan>();  // a config that does not match its manifest
    }
    base::Json history = base_config.value("history", base::Json::array());
    const bool oci = plan->media_type == oci::media_type::kOciManifest;
    std::optional<int64_t> below = base.top_layer;
    for (const auto& run : above) {
        if (!run.top_layer || run.top_layer == below) {
            continue;  // a tag or a config change: no files of its own
        }
        below = run.top_layer;
        const auto tar_file = scratch / fmt::format("layer-{}.tar", *run.top_layer);
        GROVE_ASSIGN_OR_RETURN(
            auto tar, base::UniqueFd::open(tar_file.string(), O_RDWR | O_CREAT | O_TRUNC, 0600));
        GROVE_TRY(inspect::write_layer_tar(images.paths().layer(*run.top_layer), tar.get()));
        if (::lseek(tar.get(), 0, SEEK_SET) != 0) {
            return base::last_errno_error("rewind '{}'", tar_file.string());
        }
        GROVE_ASSIGN_OR_RETURN(const base::Digest diff_id, base::sha256_fd(tar.get()));
        if (::lseek(tar.get(), 0, SEEK_SET) != 0) {
            return base::last_errno_error("rewind '{}'", tar_file.string());
        }
        GROVE_ASSIGN_OR_RETURN(
            auto layer,
            gzip_blob(tar.get(), scratch / fmt::format("layer-{}.tar.gz", *run.top_layer),
                      oci ? oci::media_type::kOciLayerGzip : oci::media_type::kDockerLayerGzip));
        std::filesystem::remove(tar_file);
        plan->layers.push_back(std::move(layer));
        diff_ids.push_back(diff_id.str());
        history.push_back(
            {{"created", daemon::rfc3339_nanos(run.created_ns)}, {"created_by", run.operation}});
    }
    base::Json config = config_of(image);
    config["rootfs"] = {{"type", "layers"}, {"diff_ids", std::move(diff_ids)}};
    config["history"] = std::move(history);
    config["created"] = daemon::rfc3339_nanos(image.created_ns);
    GROVE_ASSIGN_OR_RETURN(
        auto blob, write_blob(scratch / "config.json", base::dump_json(config),
                              oci ? oci::media_type::kOciConfig : oci::media_type::kDockerConfig));
    plan->config.emplace(std::move(blob));
    write_manifest(*plan);
    return plan;
}

}  // namespace

Result<PushPlan> push_plan(image::ImageStore& images,
                           const store::ImageRecord& image,
                           const std::filesystem::path& scratch) {
    // The image and its ancestors, nearest first, up to the import at the root of its chain.
    GROVE_ASSIGN_OR_RETURN(std::vector<store::ImageRecord> chain, images.lineage(image.uuid));
    chain.insert(chain.begin(), image);
    size_t base = 0;
    while (base < chain.size() && !chain[base].manifest_digest) {
        ++base;
    }
    if (base < chain.size()) {
        const store::ImageRecord& imported = chain[base];
        std::optional<PushPlan> plan;
        if (imported.top_layer == image.top_layer && imported.config_json == image.config_json) {
            GROVE_ASSIGN_OR_RETURN(plan, fetched_plan(images.content(), imported));
        } else {
            const std::vector<store::ImageRecord> above(chain.rend() - static_cast<long>(base),
                                                        chain.rend());
            GROVE_ASSIGN_OR_RETURN(plan, layered_plan(images, image, imported, above, scratch));
        }
        if (plan) {
            return std::move(plan).value();
        }
    }
    return flat_plan(images, image, scratch);
}

}  // namespace grove::docker_api
