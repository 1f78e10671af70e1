// The push side of registry::Client (client.hpp): blob existence checks, blob uploads
// (cross-repository mounts, monolithic or chunked) and manifest PUTs, through the same
// endpoints, authentication and retries as pulls.

#include <algorithm>

#include "base/error.hpp"
#include "client.hpp"
#include "client_transfer.hpp"

namespace grove::registry {
namespace {

// The URL a registry answered an upload with (its Location: absolute, or a path on the
// endpoint's host).
Result<std::string> upload_url(const Endpoint& endpoint, std::string_view location) {
    if (location.starts_with("http://") || location.starts_with("https://")) {
        return std::string(location);
    }
    if (!location.starts_with('/')) {
        return base::make_error(Code::kInvalidArgument,
                                "the registry answered an upload with Location '{}'", location);
    }
    GROVE_ASSIGN_OR_RETURN(const EndpointUrl base, parse_endpoint_url(endpoint.base_url));
    return base.scheme + "://" + base.authority + std::string(location);
}

std::string with_query(std::string url, std::string_view key, std::string_view value) {
    url += url.find('?') == std::string::npos ? "?" : "&";
    return url.append(key).append("=").append(percent_encode(value));
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

Result<bool> Client::push_blob(const oci::Reference& repo,
                               const oci::Descriptor& blob,
                               int fd,
                               const Progress& progress,
                               const std::optional<std::string>& mount_from) {
    const std::string what =
        fmt::format("upload of blob '{}' to '{}'", blob.digest.str(), repo.name());
    std::string location;
    bool mounted = false;
    std::optional<Endpoint> registry;  // where the upload started, for a relative Location
    bool try_mount = mount_from.has_value();
    Transfer start{.what = what};
    start.request = [&](const Endpoint& endpoint) {
        registry = endpoint;
        std::string url = endpoint.base_url + "/v2/" + repo.repository + "/blobs/uploads/";
        if (try_mount) {
            url = with_query(with_query(url, "mount", blob.digest.str()), "from", *mount_from);
        }
        return HttpRequest{.method = "POST", .url = url};
    };
    start.accept = [&](HttpResponse&& response) -> Result<void> {
        location = response.header("location").value_or("");
        mounted = response.status == 201;
        return {};
    };
    auto started = execute_push(repo, start);
    if (!started && try_mount) {
        // A mount needs pull access to the other repository too, which a token scoped to this
        // one may lack: upload instead, as a registry that cannot mount would have us do.
        try_mount = false;
        started = execute_push(repo, start);
    }
    GROVE_TRY(std::move(started));
    if (mounted) {
        return true;
    }
    GROVE_ASSIGN_OR_RETURN(std::string url, upload_url(*registry, location));

    // Sends body bytes [offset, offset + length) to `url` with `method`; the registry answers
    // with the Location of the next request.
    const auto size = static_cast<uint64_t>(blob.size);
    const auto send = [&](std::string_view method, uint64_t offset, uint64_t length,
                          std::vector<std::string> headers) -> Result<void> {
        Transfer step{.what = what};
        step.request = [&](const Endpoint& /*endpoint*/) {
            HttpRequest request{.method = std::string(method),
                                .url = url,
                                .headers = headers,
                                .body_fd = fd,
                                .body_size = length,
                                .body_offset = offset};
            if (progress) {
                request.on_upload = [&progress, offset, size](uint64_t sent) {
                    progress(offset + sent, size);
                };
            }
            return request;
        };
        step.accept = [&](HttpResponse&& response) -> Result<void> {
            if (auto next = response.header("location")) {
                GROVE_ASSIGN_OR_RETURN(url, upload_url(*registry, *next));
            }
            return {};
        };
        return execute_push(repo, step);
    };
    uint64_t offset = 0;
    while (size > kUploadChunk && offset < size) {
        const uint64_t length = std::min(kUploadChunk, size - offset);
        GROVE_TRY(send("PATCH", offset, length,
                       {"Content-Type: application/octet-stream",
                        fmt::format("Content-Range: {}-{}", offset, offset + length - 1)}));
        offset += length;
    }
    url = with_query(url, "digest", blob.digest.str());
    GROVE_TRY(send("PUT", offset, size - offset, {"Content-Type: application/octet-stream"}));
    return false;
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
