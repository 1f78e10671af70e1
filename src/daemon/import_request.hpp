#pragma once

// ImportRequest: an image to pull from a registry (ConTree's POST /v1/images/import), parsed from
// its JSON body and echoed back, password masked, as the operation's `metadata`:
//   {"registry": {"url": "docker://docker.io/library/busybox:latest",
//                 "credentials": {"username": "u", "password": "p"}},
//    "tag": "busybox:latest", "timeout": 300, "platform": "linux/arm64"}
// The url is a registry reference with an optional docker:// prefix; empty credentials mean
// anonymous (contree-mcp always sends them). `platform` is grove's: the one to pick from an index
// (the host's when absent).

#include <cstdint>
#include <optional>
#include <string>

#include <grove/result.hpp>

#include "base/json.hpp"
#include "oci/platform.hpp"
#include "oci/reference.hpp"

namespace grove::daemon {

struct RegistryCredentials {
    std::string username;
    std::string password;
};

struct ImportRequest {
    std::string url;  // as the client sent it
    oci::Reference reference;
    std::optional<RegistryCredentials> credentials;
    std::optional<std::string> tag;
    std::optional<uint32_t> timeout_seconds;
    std::optional<oci::Platform> platform;
};

Result<ImportRequest> parse_import_request(const base::Json& body);
base::Json import_request_json(const ImportRequest& request);

}  // namespace grove::daemon
