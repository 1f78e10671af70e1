#pragma once

// LocalRegistry runs Debian's docker-registry (the CNCF distribution registry) on a free
// 127.0.0.1 port with storage in a temporary directory, for tests that need a real OCI registry.
// Images are pushed into it with skopeo. The registry process and its storage live as long as the
// object. No test ever reaches past loopback.

#include <string>
#include <vector>

#include <grove/result.hpp>

#include "base/child_process.hpp"
#include "base/temp_dir.hpp"

namespace grove::testing {

struct RegistryOptions {
    enum class Auth { kAnonymous, kBasic };

    Auth auth = Auth::kAnonymous;
    // Credentials accepted by a kBasic registry (stored bcrypt-hashed in an htpasswd file).
    std::string user = "grove";
    std::string password = "grove-test-secret";
};

class LocalRegistry {
public:
    static Result<LocalRegistry> start(RegistryOptions options = {});

    // "127.0.0.1:PORT"
    const std::string& host() const { return host_; }
    const RegistryOptions& options() const { return options_; }
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
                  base::ChildProcess process,
                  std::string host,
                  RegistryOptions options)
        : dir_(std::move(dir)),
          process_(std::move(process)),
          host_(std::move(host)),
          options_(std::move(options)) {}

    // Declared first so the process dies (member destruction is in reverse) before its storage.
    base::TempDir dir_;
    base::ChildProcess process_;
    std::string host_;
    RegistryOptions options_;
};

}  // namespace grove::testing
