// Images: list, inspect, history, tag, remove, prune.

#include <set>

#include "base/error.hpp"
#include "base/time_point.hpp"
#include "daemon/wire_time.hpp"
#include "docker_api/filters.hpp"
#include "docker_api/image_json.hpp"
#include "docker_api/image_names.hpp"
#include "docker_api/routes.hpp"

namespace grove::docker_api {
namespace {

// The 12 hex digits dockerd's messages name an image by.
std::string short_id(std::string_view uuid) {
    return docker_id(uuid).substr(7, 12);
}

// The UUIDs of the images that have children.
std::set<std::string> parents(const std::vector<store::ImageRecord>& all) {
    std::set<std::string> out;
    for (const auto& image : all) {
        if (image.parent) {
            out.insert(*image.parent);
        }
    }
    return out;
}

// The image `text` (a reference, an ID or a prefix) names, for before/since filters.
Result<int64_t> created_of(image::ImageStore& images, std::string_view text) {
    GROVE_ASSIGN_OR_RETURN(const auto image, find_image(images, text));
    return created_ns(image, config_of(image));
}

bool reference_matches(const Filters& filters, const store::ImageRecord& image) {
    if (!filters.has("reference")) {
        return true;
    }
    if (!image.tag) {
        return false;
    }
    const std::string name = repo_tag_of(*image.tag);
    const std::string repository = name.substr(0, name.rfind(':'));
    for (const auto& pattern : filters.values("reference")) {
        if (glob_match(pattern, name) || glob_match(pattern, repository)) {
            return true;
        }
    }
    return false;
}

bool label_matches(const Filters& filters, const base::Json& labels) {
    for (const auto& want : filters.values("label")) {
        const size_t eq = want.find('=');
        const std::string key = want.substr(0, eq);
        if (!labels.is_object() || !labels.contains(key)) {
            return false;
        }
        if (eq != std::string::npos &&
            (!labels[key].is_string() || labels[key].get<std::string>() != want.substr(eq + 1))) {
            return false;
        }
    }
    return true;
}

base::Json labels_of(const store::ImageRecord& image) {
    const base::Json config = config_of(image);
    return config.value("config", base::Json::object()).value("Labels", base::Json());
}

Result<void> list_images(image::ImageStore& images,
                         http::Request& request,
                         http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(
        const Filters filters,
        Filters::parse(request, {"dangling", "label", "reference", "before", "since"}));
    GROVE_ASSIGN_OR_RETURN(const auto dangling, filters.boolean("dangling"));
    std::optional<int64_t> before;
    std::optional<int64_t> since;
    for (const auto& ref : filters.values("before")) {
        GROVE_ASSIGN_OR_RETURN(before, created_of(images, ref));
    }
    for (const auto& ref : filters.values("since")) {
        GROVE_ASSIGN_OR_RETURN(since, created_of(images, ref));
    }
    const bool all = query_flag(request, "all");
    GROVE_ASSIGN_OR_RETURN(const auto found, images.list({}));
    const auto with_children = parents(found);
    base::Json list = base::Json::array();
    for (const auto& image : found) {
        const bool intermediate = !image.tag && with_children.contains(image.uuid);
        // dockerd hides untagged images with children unless asked for all of them.
        if (intermediate && !all) {
            continue;
        }
        if (dangling && *dangling != (!image.tag && !intermediate)) {
            continue;
        }
        const int64_t created = created_ns(image, config_of(image));
        if ((before && created >= *before) || (since && created <= *since) ||
            !reference_matches(filters, image) || !label_matches(filters, labels_of(image))) {
            continue;
        }
        list.push_back(list_entry(image));
    }
    return send_json(writer, 200, list);
}

Result<void> inspect_image(image::ImageStore& images,
                           http::Request& request,
                           http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const auto image, find_image(images, param(request, "name")));
    return send_json(writer, 200, inspect_json(image));
}

Result<void> image_history(image::ImageStore& images,
                           http::Request& request,
                           http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const auto image, find_image(images, param(request, "name")));
    GROVE_ASSIGN_OR_RETURN(const auto lineage, images.lineage(image.uuid));
    return send_json(writer, 200, history_json(image, lineage));
}

Result<void> tag_image(const DockerServices& services,
                       http::Request& request,
                       http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const auto image, find_image(services.images, param(request, "name")));
    const std::string repo(request.query().get("repo").value_or(""));
    const std::string tag(request.query().get("tag").value_or(""));
    auto ref = oci::Reference::parse(tag.empty() ? repo : repo + ":" + tag);
    if (repo.empty() || !ref || ref->digest) {
        return base::make_error(Code::kInvalidArgument, "invalid reference format");
    }
    GROVE_ASSIGN_OR_RETURN(const auto named, name_image(services.images, image, ref->familiar()));
    services.events.publish({.type = "image",
                             .action = "tag",
                             .id = docker_id(named.uuid),
                             .attributes = {{"name", ref->familiar()}}});
    return writer.send(http::Response::empty(201));
}

struct Removal {
    base::Json items = base::Json::array();  // [{"Untagged": ...}, {"Deleted": ...}]
};

// Deletes `image` (untagged by now). Never its parents, as dockerd prunes a built image's: in
// grove an image's parent is a state of its own in the tree (a ConTree run's input, a session's
// earlier step) that other clients may still name by UUID, so `noprune` is always in effect.
Result<void> delete_image(const DockerServices& services,
                          const store::ImageRecord& image,
                          Removal& removal) {
    GROVE_TRY(services.images.remove(image.uuid, {}));
    removal.items.push_back({{"Deleted", docker_id(image.uuid)}});
    services.events.publish({.type = "image", .action = "delete", .id = docker_id(image.uuid)});
    return {};
}

Result<void> untag(const DockerServices& services,
                   const store::ImageRecord& image,
                   const std::string& tag,
                   Removal& removal) {
    GROVE_TRY(services.images.untag(tag));
    removal.items.push_back({{"Untagged", repo_tag_of(tag)}});
    services.events.publish({.type = "image",
                             .action = "untag",
                             .id = docker_id(image.uuid),
                             .attributes = {{"name", repo_tag_of(tag)}}});
    return {};
}

Result<void> remove_image(const DockerServices& services,
                          http::Request& request,
                          http::ResponseWriter& writer) {
    const std::string name = param(request, "name");
    GROVE_ASSIGN_OR_RETURN(const auto image, find_image(services.images, name));
    GROVE_ASSIGN_OR_RETURN(const auto children, services.images.children(image.uuid));
    Removal removal;
    std::optional<std::string> by_tag;
    if (auto ref = oci::Reference::parse(name); ref && !name.starts_with("sha256:")) {
        GROVE_ASSIGN_OR_RETURN(by_tag, find_tag(services.images, *ref));
    }
    // A container's image stays while the container exists: refused, or forced to lose the name.
    GROVE_ASSIGN_OR_RETURN(const auto user, services.images.user_of(image.uuid));
    const bool in_use = user && user->starts_with("container ");
    if (in_use && !query_flag(request, "force")) {
        return base::make_error(Code::kFailedPrecondition,
                                "conflict: unable to remove repository reference \"{}\" (must "
                                "force) - container {} is using its referenced image {}",
                                name, user->substr(std::string_view("container ").size(), 12),
                                short_id(image.uuid));
    }
    if (by_tag) {
        // A name: untag, and delete the image unless other images stand on it.
        GROVE_TRY(untag(services, image, *by_tag, removal));
    } else {
        if (!children.empty()) {
            return base::make_error(Code::kFailedPrecondition,
                                    "conflict: unable to delete {} (cannot be forced) - image has "
                                    "dependent child images",
                                    short_id(image.uuid));
        }
        if (image.tag) {
            GROVE_TRY(untag(services, image, *image.tag, removal));
        }
    }
    if (children.empty() && !in_use) {
        GROVE_TRY(delete_image(services, image, removal));
    }
    return send_json(writer, 200, removal.items);
}

Result<void> prune_images(const DockerServices& services,
                          http::Request& request,
                          http::ResponseWriter& writer) {
    GROVE_ASSIGN_OR_RETURN(const Filters filters,
                           Filters::parse(request, {"dangling", "label", "until", "label!"}));
    GROVE_ASSIGN_OR_RETURN(const auto dangling_filter, filters.boolean("dangling"));
    const bool dangling_only = dangling_filter.value_or(true);
    std::optional<int64_t> until;
    for (const auto& text : filters.values("until")) {
        GROVE_ASSIGN_OR_RETURN(until, base::parse_time_point(text, daemon::now_ns()));
    }
    Removal removal;
    // Only root images (pulled, loaded, imported): an image with a parent is a state in grove's
    // tree (a ConTree run's result, a session's step), untagged by nature and named by UUID, which
    // Docker's idea of "dangling" would sweep away; `grove images prune` is the tool for those.
    // One that a session or a container pins is in use, as a container's image is for dockerd.
    GROVE_ASSIGN_OR_RETURN(const auto found, services.images.list({}));
    const auto with_children = parents(found);
    for (const auto& image : found) {
        if (image.parent || with_children.contains(image.uuid) || (dangling_only && image.tag) ||
            (until && created_ns(image, config_of(image)) >= *until) ||
            !label_matches(filters, labels_of(image))) {
            continue;
        }
        GROVE_ASSIGN_OR_RETURN(const auto user, services.images.user_of(image.uuid));
        if (user) {
            continue;
        }
        if (image.tag) {
            GROVE_TRY(untag(services, image, *image.tag, removal));
        }
        GROVE_TRY(delete_image(services, image, removal));
    }
    GROVE_ASSIGN_OR_RETURN(const auto gc, services.images.collect_garbage());
    return send_json(writer, 200,
                     {{"ImagesDeleted", removal.items.empty() ? base::Json() : removal.items},
                      {"SpaceReclaimed", gc.bytes_freed}});
}

}  // namespace

void add_image_routes(http::Router& router, const DockerServices& services) {
    image::ImageStore& images = services.images;
    route(
        router, services, "GET", "/images/json",
        [&images](http::Request& r, http::ResponseWriter& w) { return list_images(images, r, w); });
    route(router, services, "GET", "/images/{name...}/json",
          [&images](http::Request& r, http::ResponseWriter& w) {
              return inspect_image(images, r, w);
          });
    route(router, services, "GET", "/images/{name...}/history",
          [&images](http::Request& r, http::ResponseWriter& w) {
              return image_history(images, r, w);
          });
    route(router, services, "POST", "/images/{name...}/tag",
          [services](http::Request& r, http::ResponseWriter& w) {
              return tag_image(services, r, w);
          });
    route(router, services, "DELETE", "/images/{name...}",
          [services](http::Request& r, http::ResponseWriter& w) {
              return remove_image(services, r, w);
          });
    route(router, services, "POST", "/images/prune",
          [services](http::Request& r, http::ResponseWriter& w) {
              return prune_images(services, r, w);
          });
}

}  // namespace grove::docker_api
