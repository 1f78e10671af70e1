#include "client.hpp"

#include <algorithm>
#include <charconv>
#include <thread>

#include "base/error.hpp"
#include "base/json.hpp"
#include "client_transfer.hpp"
#include "oci/manifest.hpp"
#include "oci/media_types.hpp"
#include "status_error.hpp"

namespace grove::registry {
namespace {

// A Retry-After beyond this is not waited out in full: a pull thread must not sleep for hours.
constexpr auto kMaxRetryDelay = std::chrono::milliseconds(60'000);

bool is_success(long status) {
    return status >= 200 && status < 300;
}

Error unsupported_digest(const base::Digest& digest) {
    return base::make_error(Code::kUnimplemented, "cannot verify '{}': only sha256 is supported",
                            digest.str());
}

// Content-Type without parameters, or, when that names no manifest type (some registries serve
// application/json), the document's own mediaType.
std::string media_type_of(const HttpResponse& response) {
    std::string_view type = response.header("content-type").value_or("");
    type = type.substr(0, type.find(';'));
    while (type.ends_with(' ')) {
        type.remove_suffix(1);
    }
    if (oci::media_type::is_index(type) || oci::media_type::is_manifest(type)) {
        return std::string(type);
    }
    if (auto json = base::parse_json(response.body)) {
        auto field = base::json_optional_field<std::string>(*json, "mediaType");
        if (field && *field) {
            return std::move(**field);
        }
    }
    return std::string(type);
}

Result<FetchedManifest> verify_manifest(const oci::Reference& ref,
                                        std::string_view what,
                                        HttpResponse&& response) {
    base::Digest digest = base::Digest::sha256_of(response.body);
    const auto mismatch = [&](std::string_view source, std::string_view expected) {
        return base::make_error(Code::kDataLoss,
                                "{} failed verification: {} says '{}', the bytes hash to '{}'",
                                what, source, expected, digest.str());
    };
    if (ref.digest && *ref.digest != digest) {
        return mismatch("the reference", ref.digest->str());
    }
    if (const auto header = response.header("docker-content-digest")) {
        const auto claimed = base::Digest::parse(*header);
        if (!claimed || (claimed->algorithm() == "sha256" && *claimed != digest)) {
            return mismatch("Docker-Content-Digest", *header);
        }
    }
    std::string media_type = media_type_of(response);
    return FetchedManifest{std::move(response.body), std::move(media_type), std::move(digest)};
}

// How many bytes at the start of a blob response the sink has already taken: all `delivered`
// when the server ignored the Range request (200), the overlap when it answered 206.
Result<uint64_t> bytes_to_skip(const HttpResponse& head, uint64_t delivered) {
    if (head.status != 206) {
        return delivered;
    }
    // "bytes <first>-<last>/<total>"
    const std::string_view range = head.header("content-range").value_or("");
    uint64_t first = 0;
    const bool parsed =
        range.starts_with("bytes ") &&
        std::from_chars(range.data() + 6, range.data() + range.size(), first).ec == std::errc();
    if (!parsed || first > delivered) {
        return base::make_error(Code::kUnavailable,
                                "unexpected Content-Range '{}' for a request from byte {}", range,
                                delivered);
    }
    return delivered - first;
}

}  // namespace

Client::Client(RegistryConfig config)
    : config_(std::move(config)),
      http_(HttpOptions{.connect_timeout = config_.connect_timeout,
                        .user_agent = config_.user_agent}),
      auth_(config_, http_) {}

Result<FetchedManifest> Client::fetch_manifest(const oci::Reference& ref) {
    if (ref.digest && ref.digest->algorithm() != "sha256") {
        return unsupported_digest(*ref.digest);
    }
    std::optional<FetchedManifest> fetched;
    Transfer transfer{.what = fmt::format("manifest '{}'", ref.to_string())};
    transfer.request = [&](const Endpoint& endpoint) {
        return HttpRequest{.url = manifest_url(endpoint, ref.repository, ref.tag_or_digest()),
                           .headers = {"Accept: " + std::string(oci::media_type::kManifestAccept)},
                           .max_body = oci::kMaxManifestSize};
    };
    transfer.accept = [&](HttpResponse&& response) -> Result<void> {
        GROVE_ASSIGN_OR_RETURN(auto manifest,
                               verify_manifest(ref, transfer.what, std::move(response)));
        fetched.emplace(std::move(manifest));
        return {};
    };
    GROVE_TRY(execute(ref, transfer));
    return std::move(*fetched);
}

Result<FetchedManifest> Client::fetch_manifest(const oci::Reference& repo,
                                               const base::Digest& digest) {
    oci::Reference ref = repo;
    ref.tag.reset();
    ref.digest = digest;
    return fetch_manifest(ref);
}

Result<void> Client::fetch_blob(const oci::Reference& repo,
                                const oci::Descriptor& blob,
                                const BlobSink& sink,
                                const Progress& progress) {
    if (blob.digest.algorithm() != "sha256") {
        return unsupported_digest(blob.digest);
    }
    if (blob.size < 0) {
        return base::make_error(Code::kInvalidArgument, "blob '{}' has a negative size",
                                blob.digest.str());
    }
    const auto size = static_cast<uint64_t>(blob.size);
    const auto verification_error = [&](const std::string& why) {
        return base::make_error(Code::kDataLoss, "blob '{}' failed verification: {}",
                                blob.digest.str(), why);
    };
    base::Sha256 hasher;
    uint64_t skip = 0;  // bytes at the start of the current response that the sink already has
    Transfer transfer{.what = fmt::format("blob '{}' of '{}'", blob.digest.str(), repo.name())};
    transfer.request = [&](const Endpoint& endpoint) {
        HttpRequest request{.url = blob_url(endpoint, repo.repository, blob.digest)};
        if (transfer.delivered > 0) {
            request.headers.push_back(fmt::format("Range: bytes={}-", transfer.delivered));
        }
        request.on_head = [&](const HttpResponse& head) -> Result<void> {
            GROVE_ASSIGN_OR_RETURN(skip, bytes_to_skip(head, transfer.delivered));
            return {};
        };
        request.sink = [&](std::span<const std::byte> chunk) -> Result<void> {
            const auto dropped = static_cast<size_t>(std::min<uint64_t>(skip, chunk.size()));
            skip -= dropped;
            chunk = chunk.subspan(dropped);
            if (chunk.size() > size - transfer.delivered) {
                transfer.fatal = true;
                return verification_error(
                    fmt::format("the registry sent more than {} bytes", size));
            }
            hasher.update(chunk);
            if (auto sunk = sink(chunk); !sunk) {
                transfer.fatal = true;
                return sunk;
            }
            transfer.delivered += chunk.size();
            if (progress) {
                progress(transfer.delivered, size);
            }
            return {};
        };
        return request;
    };
    transfer.accept = [&](HttpResponse&& /*response*/) -> Result<void> {
        if (transfer.delivered != size) {
            // A response that ended early without breaking the connection is the server's own
            // idea of the blob: resuming would not help.
            transfer.fatal = transfer.delivered > 0;
            return verification_error(
                fmt::format("the registry sent {} of {} bytes", transfer.delivered, size));
        }
        if (const base::Digest got = hasher.finish(); got != blob.digest) {
            transfer.fatal = true;
            return verification_error(fmt::format("the bytes hash to '{}'", got.str()));
        }
        return {};
    };
    return execute(repo, transfer);
}

Result<void> Client::execute(const oci::Reference& repo, Transfer& transfer) {
    GROVE_ASSIGN_OR_RETURN(const std::vector<Endpoint> endpoints, config_.endpoints(repo.domain));
    const std::string scope = "repository:" + repo.repository + ":pull";
    std::string mirror_failures;
    for (size_t i = 0;; ++i) {
        Result<void> outcome = try_endpoint(endpoints[i], scope, transfer);
        if (outcome || transfer.fatal) {
            return outcome;
        }
        if (i + 1 == endpoints.size()) {
            // The registry's own answer decides the code; the mirrors' say why they were passed.
            Error error = std::move(outcome).error();
            return mirror_failures.empty()
                       ? error
                       : Error(error.code(), error.message() + mirror_failures, error.sys_errno());
        }
        mirror_failures += fmt::format("; mirror '{}' failed first: {}", endpoints[i].base_url,
                                       outcome.error().message());
    }
}

Result<void> Client::try_endpoint(const Endpoint& endpoint,
                                  const std::string& scope,
                                  Transfer& transfer) {
    for (int failures = 0;;) {
        const uint64_t before = transfer.delivered;
        Result<HttpResponse> response = send(endpoint, scope, transfer.request(endpoint));
        std::optional<std::chrono::seconds> wait_at_least;
        Result<void> outcome;
        if (!response) {
            outcome = std::move(response).error();
        } else if (is_success(response->status)) {
            outcome = transfer.accept(std::move(response).value());
        } else {
            outcome = status_error(*response, transfer.what);
            wait_at_least = retry_after(*response);
        }
        if (outcome || transfer.fatal) {
            return outcome;
        }
        if (!response) {
            outcome = std::move(outcome).context(transfer.what);
        }
        const Code code = outcome.error().code();
        if (code != Code::kUnavailable && code != Code::kDeadlineExceeded) {
            return outcome;
        }
        const bool progressed = transfer.delivered > before;
        failures = progressed ? 0 : failures + 1;
        // A mirror that fails before sending anything costs no backoff: the next endpoint can
        // serve the same content now.
        if ((endpoint.mirror && !progressed) || failures >= config_.max_attempts) {
            return outcome;
        }
        if (failures > 0) {
            auto delay = config_.backoff * (int64_t{1} << std::min(failures - 1, 16));
            if (wait_at_least) {
                delay = std::max<std::chrono::milliseconds>(delay, *wait_at_least);
            }
            std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(delay, kMaxRetryDelay));
        }
    }
}

Result<HttpResponse> Client::send(const Endpoint& endpoint,
                                  const std::string& scope,
                                  const HttpRequest& request) {
    std::optional<std::string> authorization = auth_.cached(endpoint, scope);
    // Round 0 uses the cached answer, if any; a 401 then gets one fresh answer, and a second 401
    // is the registry's final word.
    for (int round = 0;; ++round) {
        HttpRequest attempt = request;
        if (authorization) {
            attempt.headers.push_back("Authorization: " + *authorization);
        }
        GROVE_ASSIGN_OR_RETURN(HttpResponse response, http_.perform(attempt));
        if (response.status != 401 || round == 1) {
            return response;
        }
        GROVE_ASSIGN_OR_RETURN(authorization,
                               base::with_context(auth_.answer(endpoint, scope, response),
                                                  "authenticate to '{}'", endpoint.base_url));
    }
}

}  // namespace grove::registry
