// `docker save` and `docker load`: GET /images/get, GET /images/{name}/get, POST /images/load.
//
// A saved image is flattened (flat_image.hpp): one layer holding its whole filesystem. `docker
// load` and grove's docker-archive import both read it back.

#include <fcntl.h>

#include "base/digest.hpp"
#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "docker_api/docker_tar.hpp"
#include "docker_api/flat_image.hpp"
#include "docker_api/image_json.hpp"
#include "docker_api/image_names.hpp"
#include "docker_api/routes.hpp"
#include "image/archive_sources.hpp"

namespace grove::docker_api {
namespace {

constexpr uint64_t kMaxManifest = 16 << 20;

struct SavedImage {
    store::ImageRecord image;
    std::optional<std::string> repo_tag;  // when it was named by a tag
};

Result<void> write_image(image::ImageStore& images,
                         const SavedImage& saved,
                         const std::filesystem::path& scratch,
                         const TarSink& sink,
                         base::Json& manifest,
                         base::Json& repositories) {
    GROVE_ASSIGN_OR_RETURN(const FlatImage flat,
                           flatten_image(images, saved.image, scratch / "layer.tar"));
    const std::string layer_dir(flat.diff_id.encoded());
    const std::string config_name =
        std::string(base::Digest::sha256_of(flat.config).encoded()) + ".json";

    GROVE_TRY(sink(tar_header(layer_dir + "/", 0, true, 0)));
    GROVE_TRY(write_tar_file(sink, layer_dir + "/VERSION", "1.0"));
    GROVE_TRY(write_tar_file(sink, layer_dir + "/json",
                             base::dump_json({{"id", layer_dir}, {"created", flat.created}})));
    GROVE_TRY(write_tar_file_fd(sink, layer_dir + "/layer.tar", flat.layer.get()));
    GROVE_TRY(write_tar_file(sink, config_name, flat.config));

    base::Json tags = nullptr;
    if (saved.repo_tag) {
        tags = base::Json::array({*saved.repo_tag});
        const size_t colon = saved.repo_tag->rfind(':');
        repositories[saved.repo_tag->substr(0, colon)][saved.repo_tag->substr(colon + 1)] =
            layer_dir;
    }
    manifest.push_back({{"Config", config_name},
                        {"RepoTags", std::move(tags)},
                        {"Layers", base::Json::array({layer_dir + "/layer.tar"})}});
    return {};
}

Result<void> save(const DockerServices& services,
                  const std::vector<std::string>& names,
                  http::ResponseWriter& writer) {
    std::vector<SavedImage> saved;
    for (const auto& name : names) {
        GROVE_ASSIGN_OR_RETURN(auto image, find_image(services.images, name));
        std::optional<std::string> repo_tag;
        if (auto ref = oci::Reference::parse(name); ref && !name.starts_with("sha256:")) {
            GROVE_ASSIGN_OR_RETURN(const auto tag, find_tag(services.images, *ref));
            if (tag) {
                repo_tag = repo_tag_of(*tag);
            }
        }
        saved.push_back({std::move(image), std::move(repo_tag)});
    }
    GROVE_ASSIGN_OR_RETURN(auto scratch,
                           base::TempDir::create("docker-save-", services.images.paths().root));
    http::StreamHead head{.status = 200};
    head.headers.set("Content-Type", "application/x-tar");
    GROVE_TRY(writer.start(std::move(head)));
    const TarSink sink = [&writer](std::string_view data) {
        return writer.write(data);
    };
    base::Json manifest = base::Json::array();
    base::Json repositories = base::Json::object();
    for (const auto& image : saved) {
        GROVE_TRY(
            write_image(services.images, image, scratch.path(), sink, manifest, repositories));
        services.events.publish({.type = "image",
                                 .action = "save",
                                 .id = image.repo_tag.value_or(docker_id(image.image.uuid))});
    }
    GROVE_TRY(write_tar_file(sink, "manifest.json", base::dump_json(manifest)));
    GROVE_TRY(write_tar_file(sink, "repositories", base::dump_json(repositories)));
    GROVE_TRY(sink(tar_end()));
    return writer.finish();
}

// Imports every image of the archive `file`, one per tag (and one without a tag for an entry
// that has none), writing dockerd's "Loaded image" lines.
Result<void> load_archive(const DockerServices& services,
                          const std::filesystem::path& file,
                          const std::filesystem::path& scratch,
                          http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(auto fd, base::UniqueFd::open(file.string(), O_RDONLY));
    GROVE_ASSIGN_OR_RETURN(const auto manifest_text,
                           read_tar_file(fd.get(), "manifest.json", kMaxManifest));
    if (!manifest_text) {
        return base::make_error(Code::kInvalidArgument,
                                "invalid archive: no manifest.json (not a docker save tar)");
    }
    GROVE_ASSIGN_OR_RETURN(const base::Json manifest, base::parse_json(*manifest_text));
    if (!manifest.is_array()) {
        return base::make_error(Code::kInvalidArgument, "invalid manifest.json: want an array");
    }
    for (const auto& entry : manifest) {
        std::vector<std::string> tags;
        if (entry.is_object() && entry.contains("RepoTags") && entry["RepoTags"].is_array()) {
            for (const auto& tag : entry["RepoTags"]) {
                tags.push_back(tag.is_string() ? tag.get<std::string>() : "");
            }
        }
        if (tags.empty()) {
            tags.push_back("");
        }
        for (const auto& tag : tags) {
            GROVE_ASSIGN_OR_RETURN(auto source, image::open_docker_archive(file, tag, scratch));
            GROVE_ASSIGN_OR_RETURN(const auto imported, services.images.import(*source, {}));
            std::string line = "Loaded image ID: " + docker_id(imported.image.uuid);
            if (!tag.empty()) {
                GROVE_ASSIGN_OR_RETURN(const auto ref, oci::Reference::parse(tag));
                GROVE_TRY(name_image(services.images, imported.image, ref.familiar()));
                line = "Loaded image: " + ref.familiar();
            }
            services.events.publish({.type = "image",
                                     .action = "load",
                                     .id = tag.empty() ? docker_id(imported.image.uuid) : tag});
            GROVE_TRY(write_json_line(writer, {{"stream", line + "\n"}}, "\r\n"));
        }
    }
    return {};
}

Result<void> load(const DockerServices& services,
                  http::Request& request,
                  http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(auto scratch,
                           base::TempDir::create("docker-load-", services.images.paths().root));
    const auto file = scratch.path() / "images.tar";
    {
        GROVE_ASSIGN_OR_RETURN(
            auto fd, base::UniqueFd::open(file.string(), O_WRONLY | O_CREAT | O_EXCL, 0600));
        GROVE_TRY(request.copy_body_to(fd.get()));
    }
    // dockerd answers 200 and reports a bad archive in the stream (docker-py's ImageLoadError).
    GROVE_TRY(start_json_stream(writer));
    if (auto loaded = load_archive(services, file, scratch.path(), writer); !loaded) {
        GROVE_TRY(write_stream_error(writer, loaded.error(), "\r\n"));
    }
    return writer.finish();
}

}  // namespace

void add_archive_routes(http::Router& router, const DockerServices& services) {
    route(router, services, "GET", "/images/get",
          [services](http::Request& r, http::ResponseWriter& w) {
              std::vector<std::string> names;
              for (const auto name : r.query().get_all("names")) {
                  names.emplace_back(name);
              }
              return save(services, names, w);
          });
    route(router, services, "GET", "/images/{name...}/get",
          [services](http::Request& r, http::ResponseWriter& w) {
              return save(services, {param(r, "name")}, w);
          });
    route(router, services, "POST", "/images/load",
          [services](http::Request& r, http::ResponseWriter& w) { return load(services, r, w); },
          {.max_body_size = uint64_t{64} << 30});
}

}  // namespace grove::docker_api
