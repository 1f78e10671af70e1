#pragma once

// A content descriptor: what a manifest or index says about a blob it points at.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <grove/result.hpp>

#include "base/digest.hpp"
#include "base/json.hpp"
#include "platform.hpp"

namespace grove::oci {

// Descriptors past this size are refused: no layer or config is a petabyte, and the size is
// trusted to bound downloads.
inline constexpr int64_t kMaxDescriptorSize = int64_t{1} << 42;  // 4 TiB

struct Descriptor {
    std::string media_type;
    base::Digest digest;
    int64_t size = 0;
    std::optional<Platform> platform;
    std::map<std::string, std::string> annotations;

    // Validates mediaType (non-empty), digest (sha256/sha512) and size (0..kMaxDescriptorSize).
    static Result<Descriptor> from_json(const base::Json& json);
    base::Json to_json() const;
};

}  // namespace grove::oci
