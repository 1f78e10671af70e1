// POST /images/{name}/push: `docker push`, answered with dockerd's stream of JSON progress lines.
// What goes to the registry is push_plan.hpp's. A blob the repository has is skipped ("Layer
// already exists"); one this daemon pushed to another repository of the registry is mounted
// from there ("Mounted from <repo>"), as dockerd does with what its pushes recorded.

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>

#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "docker_api/image_names.hpp"
#include "docker_api/push_plan.hpp"
#include "docker_api/registry_auth.hpp"
#include "docker_api/routes.hpp"
#include "registry/client.hpp"

namespace grove::docker_api {
namespace {

// Which repositories of which registry hold a blob, as this daemon's pushes learned it: a blob
// pushed to one repository is mounted into the next instead of uploaded again.
class KnownBlobs {
public:
    void add(const oci::Reference& repo, const base::Digest& digest) {
        std::lock_guard lock(mutex_);
        auto& repos = repos_[repo.domain + " " + digest.str()];
        if (std::find(repos.begin(), repos.end(), repo.repository) == repos.end()) {
            repos.push_back(repo.repository);
        }
    }
    // Another repository of `repo`'s registry holding `digest`, if one is known.
    std::optional<std::string> elsewhere(const oci::Reference& repo, const base::Digest& digest) {
        std::lock_guard lock(mutex_);
        const auto it = repos_.find(repo.domain + " " + digest.str());
        if (it != repos_.end()) {
            for (const auto& other : it->second) {
                if (other != repo.repository) {
                    return other;
                }
            }
        }
        return std::nullopt;
    }

private:
    std::mutex mutex_;
    std::map<std::string, std::vector<std::string>> repos_;  // "<domain> <digest>" -> repositories
};

// Pushes the image tagged `ref` (a name with its tag), writing dockerd's progress lines.
Result<void> push_tag(const DockerServices& services,
                      KnownBlobs& known,
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
    GROVE_ASSIGN_OR_RETURN(const PushPlan plan, push_plan(services.images, *found, scratch.path()));
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
        const base::Digest& digest = blob.descriptor.digest;
        GROVE_ASSIGN_OR_RETURN(const bool present, client.has_blob(ref, digest));
        if (present) {
            known.add(ref, digest);
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
        const auto from = known.elsewhere(ref, digest);
        GROVE_ASSIGN_OR_RETURN(const bool mounted, client.push_blob(ref, blob.descriptor,
                                                                    blob.fd.get(), progress, from));
        known.add(ref, digest);
        if (!is_config) {
            GROVE_TRY(status(mounted ? "Mounted from " + *from : "Pushed", blob.descriptor));
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
                  KnownBlobs& known,
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
        if (auto pushed = push_tag(services, known, client, ref, writer); !pushed) {
            GROVE_TRY(write_stream_error(writer, pushed.error()));
            break;
        }
    }
    return writer.finish();
}

}  // namespace

void add_push_routes(http::Router& router, const DockerServices& services) {
    auto known = std::make_shared<KnownBlobs>();
    route(router, services, "POST", "/images/{name...}/push",
          [services, known](http::Request& r, http::ResponseWriter& w) {
              return push(services, *known, r, w);
          });
}

}  // namespace grove::docker_api
