// /grove/v1/images: what ConTree's /v1/images lacks and grove's CLI and client library need
// against groved: removal, prune (image/prune.hpp, the same as on a local store) and the import
// of an archive uploaded through /v1/files.

#include "api/contree_json.hpp"
#include "api/query.hpp"
#include "api/routes.hpp"
#include "base/error.hpp"
#include "image/prune.hpp"
#include "image/source_spec.hpp"

namespace grove::api {
namespace {

Result<void> remove(image::ImageStore& images, http::Request& request, http::ResponseWriter& w) {
    GROVE_ASSIGN_OR_RETURN(const auto image, images.find(param(request, "ref")));
    GROVE_TRY(images.remove(image.uuid, {.force = flag(request.query(), "force")}));
    return send_json(w, 200, {{"uuid", image.uuid}});
}

Result<void> prune(image::ImageStore& images, http::Request&, http::ResponseWriter& w) {
    GROVE_ASSIGN_OR_RETURN(const auto pruned, image::prune_untagged(images));
    return send_json(w, 200,
                     {{"removed", pruned.removed},
                      {"layers_removed", pruned.collected.layers_removed},
                      {"blobs_removed", pruned.collected.blobs_removed},
                      {"bytes_freed", pruned.collected.bytes_freed}});
}

// {"file": uuid, "transport": "oci-archive" | "docker-archive" | "rootfs", "ref": "...",
//  "tag": "...", "platform": "os/arch"}: the upload is read in place, without a copy.
Result<void> import_file(const ContreeServices& services,
                         http::Request& request,
                         http::ResponseWriter& w) {
    GROVE_ASSIGN_OR_RETURN(const base::Json body, read_json(request));
    GROVE_ASSIGN_OR_RETURN(const auto file, base::json_field<std::string>(body, "file"));
    GROVE_ASSIGN_OR_RETURN(const auto transport, base::json_field<std::string>(body, "transport"));
    GROVE_ASSIGN_OR_RETURN(const auto ref, base::json_optional_field<std::string>(body, "ref"));
    GROVE_ASSIGN_OR_RETURN(const auto tag, base::json_optional_field<std::string>(body, "tag"));
    GROVE_ASSIGN_OR_RETURN(const auto platform,
                           base::json_optional_field<std::string>(body, "platform"));
    if (transport != "oci-archive" && transport != "docker-archive" && transport != "rootfs") {
        return base::make_error(Code::kInvalidArgument,
                                "transport must be oci-archive, docker-archive or rootfs, not '{}'",
                                transport);
    }
    if (transport == "rootfs" && ref && !ref->empty()) {
        return base::make_error(Code::kInvalidArgument, "a rootfs import takes no ref");
    }
    GROVE_ASSIGN_OR_RETURN(const auto path, services.files.path(file));
    std::string spec = transport + ":" + path.string();
    if (ref && !ref->empty()) {
        spec += ":" + *ref;
    }
    image::ImportOptions options;
    if (tag && !tag->empty()) {
        options.tag = *tag;
    }
    if (platform && !platform->empty()) {
        GROVE_ASSIGN_OR_RETURN(options.platform, oci::Platform::parse(*platform));
    }
    GROVE_ASSIGN_OR_RETURN(auto source,
                           image::open_source(spec, {.scratch = services.images.paths().root}));
    GROVE_ASSIGN_OR_RETURN(const auto imported, services.images.import(*source, options));
    return send_json(w, imported.existed ? 200 : 201, image_json(imported.image));
}

}  // namespace

void add_grove_image_routes(http::Router& grove_v1, const RouteContext& context) {
    image::ImageStore& images = context.services.images;
    // A copy: the services struct itself may be a temporary; what it refers to outlives us.
    const ContreeServices services = context.services;
    route(grove_v1, context, "DELETE", "/images/{ref...}",
          [&images](http::Request& r, http::ResponseWriter& w) { return remove(images, r, w); });
    route(grove_v1, context, "POST", "/images/prune",
          [&images](http::Request& r, http::ResponseWriter& w) { return prune(images, r, w); });
    route(grove_v1, context, "POST", "/images/import",
          [services](http::Request& r, http::ResponseWriter& w) {
              return import_file(services, r, w);
          });
}

}  // namespace grove::api
