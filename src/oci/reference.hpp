#pragma once

// An image reference as registries and Docker understand it: "busybox", "busybox:1.36",
// "docker.io/library/busybox:latest", "ghcr.io/o/i:tag", "host:port/path@sha256:...".
// parse() applies Docker's normalisation (distribution/reference ParseNormalizedNamed):
// a first component without '.' or ':' that is not "localhost" is a path on docker.io, and a
// single-component docker.io repository gets "library/". A reference with neither tag nor digest
// gets the tag "latest". A leading "docker://" (skopeo's transport prefix) is accepted.

#include <optional>
#include <string>
#include <string_view>

#include <grove/result.hpp>

#include "base/digest.hpp"

namespace grove::oci {

inline constexpr std::string_view kDockerHubDomain = "docker.io";

struct Reference {
    std::string domain;      // "docker.io", "ghcr.io", "127.0.0.1:5000"
    std::string repository;  // "library/busybox"
    std::optional<std::string> tag;
    std::optional<base::Digest> digest;

    static Result<Reference> parse(std::string_view text);

    // "docker.io/library/busybox"
    std::string name() const;
    // "docker.io/library/busybox:latest", with "@sha256:..." when a digest is set.
    std::string to_string() const;
    // Docker's short form: "busybox:latest", "team/x:1", "ghcr.io/o/i:tag".
    std::string familiar() const;
    // What a registry's manifest endpoint takes: the digest if set, else the tag.
    std::string tag_or_digest() const;

    friend bool operator==(const Reference&, const Reference&) = default;
};

}  // namespace grove::oci
