#pragma once

// LocalRegistry runs Debian's docker-registry (the CNCF distribution registry) on a free
// 127.0.0.1 port with storage in a temporary directory, for tests that need a real OCI registry.
// Images are pushed into it with skopeo. The registry process and its storage live as long as the
// object. No test ever reaches past loopback.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <grove/result.hpp>

#include "base/child_process.hpp"
#include "base/temp_dir.hpp"

namespace grove::testing {

struct RegistryOptions {
    enum class Auth {
        kAnonymous,
        // Basic auth against an htpasswd file: every request needs the credentials.
        kBasic,
        // Bearer tokens from tests/helpers/token_server.py (the WWW-Authenticate challenge flow):
        // the credentials get every action, anonymous clients may only pull, and nothing under
        // `private/`.
        kToken,
    };

    Auth auth = Auth::kAnonymous;
    // The credentials a kBasic or kToken registry accepts.
    std::string user = "grove";
    std::string password = "grove-test-secret";
    // The registry logs every request it serves (its access log), for access_log().
    bool access_log = false;
};

class LocalRegistry {
public:
    static Result<LocalRegistry> start(RegistryOptions options = {});

    // "127.0.0.1:PORT"
    const std::string& host() const { return host_; }
    const RegistryOptions& options() const { return options_; }
    // The registry's filesystem storage root (docker/registry/v2/...), for tests that corrupt it.
    std::filesystem::path storage_dir() const { return dir_.path() / "storage"; }
    // The registry's log so far: with RegistryOptions::access_log, a line per request
    // ("PATCH /v2/<repo>/blobs/uploads/... HTTP/1.1\" 202 ...).
    std::string access_log() const;
    // "docker://127.0.0.1:PORT/<repo_tag>", the skopeo reference of an image in this registry.
    std::string docker_ref(const std::string& repo_tag) const;

    // Runs `skopeo <args...>` with this registry's TLS and credential flags inserted after the
    // verb (copy: --src-* and --dest-*; others: --tls-verify, --creds). kOmit leaves out the
    // credentials, to act as an anonymous client.
    enum class Credentials { kUse, kOmit };
    Result<base::CommandOutput> skopeo(std::vector<std::string> args,
                                       Credentials credentials = Credentials::kUse) const;

    // skopeo copy `source` (e.g. "oci:/dir:latest") to `repo_tag` here; `extra` adds flags such as
    // "--all" or "--format=v2s2". Fails with skopeo's stderr when skopeo fails.
    Result<void> push(const std::string& source,
                      const std::string& repo_tag,
                      std::vector<std::string> extra = {}) const;

private:
    LocalRegistry(base::TempDir dir,
                  std::optional<base::ChildProcess> token_server,
                  base::ChildProcess process,
                  std::string host,
                  RegistryOptions options)
        : dir_(std::move(dir)),
          token_server_(std::move(token_server)),
          process_(std::move(process)),
          host_(std::move(host)),
          options_(std::move(options)) {}

    // Members are destroyed in reverse: the registry dies, then the token server, then storage.
    base::TempDir dir_;
    std::optional<base::ChildProcess> token_server_;
    base::ChildProcess process_;
    std::string host_;
    RegistryOptions options_;
};

}  // namespace grove::testing
