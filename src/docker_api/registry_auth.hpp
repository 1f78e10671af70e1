#pragma once

// X-Registry-Auth, the credentials a Docker client sends with a pull or a push.

#include <optional>

#include <grove/result.hpp>

#include "http/request.hpp"
#include "registry/auth_file.hpp"

namespace grove::docker_api {

// The credentials of X-Registry-Auth (base64url of {"username","password",...}), if any.
Result<std::optional<registry::Credentials>> registry_auth(const http::Request& request);

}  // namespace grove::docker_api
