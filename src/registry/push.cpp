// The push side of registry::Client (client.hpp): blob existence checks, monolithic blob
// uploads and manifest PUTs, through the same endpoints, authentication and retries as pulls.

#include "base/error.hpp"
#include "client.hpp"
#include "client_transfer.hpp"

namespace grove::registry {
namespace {

// The URL of an upload's next request: the Location a registry answered (absolute, or a path on
// the endpoint's host) with `digest` added to its query.
Result<std::string> upload_url(const Endpoint& endpoint,
                               std::string_view location,
                               const base::Digest& digest) {
    std::string url(location);
    if (!location.starts_with("http://") && !location.starts_with("https://")) {
        if (!location.starts_with('/')) {
            return base::make_error(Code::kInvalidArgument,
                                    "the registry answered an upload with Location '{}'", location);
        }
        GROVE_ASSIGN_OR_RETURN(const EndpointUrl base, parse_endpoint_url(endpoint.base_url));
        url = base.scheme + "://" + base.authority + url;
    }
    url += url.find('?') == std::string::npos ? "?digest=" : "&digest=";
    return url + percent_encode(digest.str());
}

}  // namespace

Result<void> Client::execute_push(const oci::Reference& repo, Transfer& transfer) {
    GROVE_ASSIGN_OR_RETURN(const std::vector<Endpoint> endpoints, config_.endpoints(repo.domain));
    return try_endpoint(endpoints.back(), "repository:" + repo.repository + ":pull,push", transfer);
}

Result<bool> Client::has_blob(const oci::Reference& repo, const base::Digest& digest) {
    Transfer transfer{.what = fmt::format("blob '{}' of '{}'", digest.str(), repo.name())};
    transfer.request = [&](const Endpoint& endpoint) {
        return HttpRequest{.method = "HEAD", .url = blob_url(endpoint, repo.repository, digest)};
    };
    transfer.accept = [](HttpResponse&& /*response*/) -> Result<void> {
        return {};
    };
    auto found = execute_push(repo, transfer);
    if (!found && found.error().code() == Code::kNotFound) {
        return false;
    }
    GROVE_TRY(std::move(found));
    return true;
}

Result<void> Client::push_blob(const oci::Reference& repo,
                               const oci::Descriptor& blob,
                               int fd,
                               const Progress& progress) {
    std::string location;
    std::optional<Endpoint> registry;  // where the upload started, for a relative Location
    Transfer start{.what =
                       fmt::format("upload of blob '{}' to '{}'", blob.digest.str(), repo.name())};
    start.request = [&](const Endpoint& endpoint) {
        registry = endpoint;
        return HttpRequest{.method = "POST",
                           .url = endpoint.base_url + "/v2/" + repo.repository + "/blobs/uploads/"};
    };
    start.accept = [&](HttpResponse&& response) -> Result<void> {
        location = response.header("location").value_or("");
        return {};
    };
    GROVE_TRY(execute_push(repo, start));
    GROVE_ASSIGN_OR_RETURN(const std::string url, upload_url(*registry, location, blob.digest));

    const auto size = static_cast<uint64_t>(blob.size);
    Transfer put{.what = start.what};
    put.request = [&](const Endpoint& /*endpoint*/) {
        HttpRequest request{.method = "PUT",
                            .url = url,
                            .headers = {"Content-Type: application/octet-stream"},
                            .body_fd = fd,
                            .body_size = size};
        if (progress) {
            request.on_upload = [&progress, size](uint64_t sent) {
                progress(sent, size);
            };
        }
        return request;
    };
    put.accept = [](HttpResponse&& /*response*/) -> Result<void> {
        return {};
    };
    return execute_push(repo, put);
}

Result<base::Digest> Client::push_manifest(const oci::Reference& ref,
                                           std::string_view media_type,
                                           const std::string& bytes) {
    const base::Digest digest = base::Digest::sha256_of(bytes);
    Transfer transfer{.what = fmt::format("manifest '{}'", ref.to_string())};
    transfer.request = [&](const Endpoint& endpoint) {
        return HttpRequest{.method = "PUT",
                           .url = manifest_url(endpoint, ref.repository, ref.tag_or_digest()),
                           .headers = {fmt::format("Content-Type: {}", media_type)},
                           .body = bytes};
    };
    transfer.accept = [](HttpResponse&& /*response*/) -> Result<void> {
        return {};
    };
    GROVE_TRY(execute_push(ref, transfer));
    return digest;
}

}  // namespace grove::registry
