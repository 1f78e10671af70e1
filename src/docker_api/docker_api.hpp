#pragma once

// The Docker Engine API subset groved serves (docs/docker-api.md; what real clients send and
// expect is shared/docs/docker-api.md), on grove's HTTP server, over the same image store as the
// ConTree API: a Docker image is a grove image.
//
// Every route is served unversioned and under "/v<version>", as dockerd does; a version above
// kMaxApiVersion or below kMinApiVersion is 400 with dockerd's message. Every response carries
// Api-Version, Ostype, Server and Docker-Experimental. Errors are Docker's {"message": ...}, with
// the status decided by api::http_status (the one Code -> status mapping, src/api/
// error_mapping.cpp). Callers are authenticated like ConTree's (api::Authenticator): root on the
// unix socket is trusted, TCP needs a bearer token (the docker CLI sends one from
// ~/.docker/config.json's HttpHeaders).

#include <string_view>

#include "api/auth.hpp"
#include "docker_api/docker_events.hpp"
#include "http/router.hpp"
#include "image/image_store.hpp"
#include "registry/registry_config.hpp"

namespace grove::containers {
class Manager;
}

namespace grove::docker_api {

inline constexpr std::string_view kApiVersion = "1.41";
inline constexpr std::string_view kMinApiVersion = "1.12";

// The services the routes call; all must outlive the router.
struct DockerServices {
    image::ImageStore& images;
    const registry::RegistryConfig& registry;
    const api::Authenticator& auth;
    DockerEvents& events;
    containers::Manager& containers;
};

http::Router docker_router(const DockerServices& services);

}  // namespace grove::docker_api
