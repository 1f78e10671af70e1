#pragma once

// PinTable records what outside the image tree uses an image: a long-lived container runs on its
// image's layers for as long as it exists. A pin names its image with a RESTRICT reference, as a
// session's state does, so ImageTable::remove refuses a pinned image (naming its holder) and GC,
// which keeps the layers of every image, keeps its layers.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <grove/result.hpp>

#include "store/metadata/database.hpp"

namespace grove::store {

class PinTable {
public:
    explicit PinTable(Database& db) : db_(db) {}

    // `holder` ("container <id>") uses `image`; pinning again moves the pin. NotFound when the
    // image does not exist.
    Result<void> pin(std::string_view holder, std::string_view image);
    // Idempotent: a holder without a pin is success.
    Result<void> unpin(std::string_view holder);
    // A holder pinning `image`, if any.
    Result<std::optional<std::string>> pinning(std::string_view image);
    // The holders whose names start with `prefix`.
    Result<std::vector<std::string>> holders(std::string_view prefix);

private:
    Database& db_;
};

}  // namespace grove::store
