#pragma once

// Client: the OCI distribution API (manifests and blobs), over libcurl: pulls, and pushes
// (push.cpp).
//
// Every request goes to the endpoints of the reference's domain in order: its mirrors, then the
// registry itself (RegistryConfig::endpoints). On each endpoint, transient failures (connection
// errors, stalls, 429, 500/502/503/504) are retried up to max_attempts times with exponential
// backoff, honouring Retry-After; a mirror that fails before sending anything is left at once
// for the next endpoint instead. A mirror's failure falls through to the next endpoint, as
// Docker's registry-mirrors do, unless the sink already failed or holds bytes that did not
// verify: those cannot be taken back.
//
// 401 challenges are answered by the Authenticator (Bearer tokens, Basic credentials). Errors:
// 404 NotFound, 401 after authenticating Unauthenticated, 403 PermissionDenied, retries
// exhausted Unavailable, content that does not match its digest or size DataLoss.
//
// Thread-safe: one Client serves every pull of a daemon, fetching layers from many threads.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <grove/result.hpp>

#include "authenticator.hpp"
#include "base/digest.hpp"
#include "http_client.hpp"
#include "oci/descriptor.hpp"
#include "oci/reference.hpp"
#include "registry_config.hpp"

namespace grove::registry {

struct FetchedManifest {
    std::string bytes;
    std::string media_type;  // from Content-Type, or the document's mediaType
    base::Digest digest;     // sha256 of bytes
};

using Progress = std::function<void(uint64_t done, uint64_t total)>;
using BlobSink = std::function<Result<void>(std::span<const std::byte>)>;

class Client {
public:
    explicit Client(RegistryConfig config);
    // The authenticator borrows config_ and http_: the object stays where it was built.
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // GET /v2/<repo>/manifests/<tag or digest>. With a digest in `ref`, bytes that hash to
    // anything else are DataLoss, as is a Docker-Content-Digest header that does not match them.
    // Bodies over oci::kMaxManifestSize are OutOfRange.
    Result<FetchedManifest> fetch_manifest(const oci::Reference& ref);
    // The manifest `digest` of `repo`'s repository (its tag, if any, is ignored).
    Result<FetchedManifest> fetch_manifest(const oci::Reference& repo, const base::Digest& digest);

    // GET /v2/<repo>/blobs/<digest>, streaming the body to `sink` as it arrives. The sink sees
    // each byte exactly once, at most blob.size of them: a dropped connection resumes with a
    // Range request, and bytes a server sends again are skipped. The bytes are verified against
    // blob.size and blob.digest; a mismatch is DataLoss, after which the caller must discard
    // what the sink received. An error from the sink aborts the transfer and is returned as is;
    // the sink reports failures that way and never throws (libcurl's C frames sit in between).
    // `progress` is called with (bytes so far, blob.size) after each chunk.
    Result<void> fetch_blob(const oci::Reference& repo,
                            const oci::Descriptor& blob,
                            const BlobSink& sink,
                            const Progress& progress = {});

    // Pushes go to the registry itself, never to a mirror, with a "pull,push" scope; transient
    // failures are retried like a pull's.
    //
    // HEAD /v2/<repo>/blobs/<digest>: whether the repository has the blob already.
    Result<bool> has_blob(const oci::Reference& repo, const base::Digest& digest);
    // Uploads the blob read from `fd` (borrowed; blob.size bytes from offset 0): POST
    // /v2/<repo>/blobs/uploads/, then one PUT of the whole blob to the Location with ?digest=,
    // or for a blob over kUploadChunk a PATCH per chunk (Content-Range) and an empty PUT.
    // With `mount_from` (another repository of the same registry said to hold the blob), the
    // POST asks for a cross-repository mount first (?mount=<digest>&from=<repo>): a 201 is the
    // whole push, and a registry that cannot mount starts a plain upload instead.
    // `progress` is called with (bytes sent, blob.size) as the body goes. Returns whether the
    // blob was mounted.
    static constexpr uint64_t kUploadChunk = 8 << 20;
    Result<bool> push_blob(const oci::Reference& repo,
                           const oci::Descriptor& blob,
                           int fd,
                           const Progress& progress = {},
                           const std::optional<std::string>& mount_from = std::nullopt);
    // PUT /v2/<repo>/manifests/<tag or digest> of `ref`; the manifest's digest.
    Result<base::Digest> push_manifest(const oci::Reference& ref,
                                       std::string_view media_type,
                                       const std::string& bytes);

private:
    struct Transfer;

    Result<void> execute(const oci::Reference& repo, Transfer& transfer);
    // execute() for a push: the registry itself, with push access.
    Result<void> execute_push(const oci::Reference& repo, Transfer& transfer);
    Result<void> try_endpoint(const Endpoint& endpoint,
                              const std::string& scope,
                              Transfer& transfer);
    Result<HttpResponse> send(const Endpoint& endpoint,
                              const std::string& scope,
                              const HttpRequest& request);

    const RegistryConfig config_;
    HttpClient http_;
    Authenticator auth_;
};

}  // namespace grove::registry
