#pragma once

// A platform (os/architecture/variant) as image indexes describe it, normalised the way
// containerd's platforms package does: x86_64 -> amd64, aarch64 -> arm64 (variant v8), so that
// "linux/arm64" and "linux/arm64/v8" name the same thing.

#include <string>
#include <string_view>

#include <grove/result.hpp>

namespace grove::oci {

struct Platform {
    std::string os;
    std::string architecture;
    std::string variant;  // may be empty

    // "linux/amd64", "linux/arm64/v8", "arm64" (os defaults to linux). Normalises.
    static Result<Platform> parse(std::string_view text);
    // The platform this process runs on.
    static Platform host();

    // The same platform in canonical spelling.
    Platform normalized() const;
    // "linux/arm64/v8"
    std::string to_string() const;
    // Whether an index entry for `candidate` can serve a request for this platform: same os and
    // architecture, and the same variant when this one names one.
    bool matches(const Platform& candidate) const;

    friend bool operator==(const Platform&, const Platform&) = default;
};

}  // namespace grove::oci
