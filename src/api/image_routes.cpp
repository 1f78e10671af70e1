// /v1/images: list, tag, untag, and import (an operation).

#include <algorithm>

#include "api/contree_json.hpp"
#include "api/query.hpp"
#include "api/routes.hpp"
#include "base/error.hpp"
#include "daemon/import_request.hpp"
#include "daemon/wire_time.hpp"

namespace grove::api {
namespace {

Result<void> list_images(image::ImageStore& images,
                         http::Request& request,
                         http::ResponseWriter& writer) {
    const auto& query = request.query();
    GROVE_ASSIGN_OR_RETURN(const Page page, parse_page(query));
    const int64_t now = daemon::now_ns();
    store::ImageFilter filter{
        .limit = page.limit, .offset = page.offset, .tagged_only = flag(query, "tagged")};
    // `tag` is a prefix filter (contree-cli's --prefix); contree-mcp sends `tag_prefix`.
    for (const std::string_view name : {"tag", "tag_prefix"}) {
        if (const auto tag = query.get(name); tag && !tag->empty()) {
            filter.tag_prefix = std::string(*tag);
        }
    }
    if (const auto uuid = query.get("uuid"); uuid && !uuid->empty()) {
        filter.uuid_prefix = std::string(*uuid);
    }
    GROVE_ASSIGN_OR_RETURN(filter.since_ns, parse_time(query, "since", now));
    GROVE_ASSIGN_OR_RETURN(filter.until_ns, parse_time(query, "until", now));
    GROVE_ASSIGN_OR_RETURN(auto found, images.list(filter));
    // A tag resolved by prefix should find the exact match first (contree-cli takes images[0]).
    if (filter.tag_prefix) {
        std::stable_partition(found.begin(), found.end(), [&](const store::ImageRecord& image) {
            return image.tag == filter.tag_prefix;
        });
    }
    base::Json list = base::Json::array();
    for (const auto& image : found) {
        list.push_back(image_json(image));
    }
    return send_json(writer, 200, {{"images", std::move(list)}});
}

Result<void> import_image(daemon::Operations& operations,
                          http::Request& request,
                          http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const base::Json body, read_json(request));
    GROVE_ASSIGN_OR_RETURN(auto import, daemon::parse_import_request(body));
    GROVE_ASSIGN_OR_RETURN(const auto record, operations.submit_import(std::move(import)));
    http::Response response = http::Response::json(201, base::dump_json({{"uuid", record.uuid}}));
    response.headers.set("Location", api_base(request) + "/operations/" + record.uuid);
    return writer.send(std::move(response));
}

Result<void> set_tag(image::ImageStore& images,
                     http::Request& request,
                     http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const base::Json body, read_json(request));
    GROVE_ASSIGN_OR_RETURN(const std::string tag, base::json_field<std::string>(body, "tag"));
    GROVE_ASSIGN_OR_RETURN(const auto image, images.tag(param(request, "image_uuid"), tag));
    return send_json(writer, 200, image_json(image));
}

// With ?tag=NAME the image must carry that tag; without it (contree-mcp, the SDK), whatever tag
// the image has goes. An image without a tag is left as it is.
Result<void> remove_tag(image::ImageStore& images,
                        http::Request& request,
                        http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const auto image, images.find(param(request, "image_uuid")));
    const auto wanted = request.query().get("tag");
    if (wanted && !wanted->empty() && image.tag != *wanted) {
        return base::make_error(Code::kNotFound, "image '{}' has no tag '{}'", image.uuid, *wanted);
    }
    if (image.tag) {
        GROVE_TRY(images.untag(*image.tag));
    }
    return writer.send(http::Response::empty(204));
}

}  // namespace

void add_image_routes(http::Router& v1, const RouteContext& context) {
    image::ImageStore& images = context.services.images;
    daemon::Operations& operations = context.services.operations;
    route(v1, context, "GET", "/images", [&images](http::Request& req, http::ResponseWriter& w) {
        return list_images(images, req, w);
    });
    route(v1, context, "POST", "/images/import",
          [&operations](http::Request& req, http::ResponseWriter& w) {
              return import_image(operations, req, w);
          });
    route(
        v1, context, "PATCH", "/images/{image_uuid}/tag",
        [&images](http::Request& req, http::ResponseWriter& w) { return set_tag(images, req, w); });
    route(v1, context, "DELETE", "/images/{image_uuid}/tag",
          [&images](http::Request& req, http::ResponseWriter& w) {
              return remove_tag(images, req, w);
          });
}

}  // namespace grove::api
