#pragma once

// TagTable maps tags to images. A tag is a movable name ("busybox:latest", "team/agent/base")
// that points at exactly one image, and an image has at most one tag.
//
// Tag syntax, Docker's reference rules loosely: 1 to 255 characters of lowercase letters, digits
// and the separators . _ - / :, starting with a letter or digit. Uppercase is refused, so two tags
// never differ only by case. A tag shaped like a full UUID is refused too, so a UUID given to
// ImageTable::resolve always means that image.

#include <optional>
#include <string>
#include <string_view>

#include <grove/result.hpp>

#include "store/metadata/database.hpp"

namespace grove::store {

// InvalidArgument, naming the rule broken, unless `tag` follows the syntax above.
Result<void> validate_tag(std::string_view tag);

class TagTable {
public:
    explicit TagTable(Database& db) : db_(db) {}

    // Points `tag` at image `uuid` (NotFound if there is no such image). The tag moves if it was
    // on another image, and the image's previous tag, if any, is removed.
    Result<void> set(std::string_view tag, std::string_view uuid);
    // NotFound if the tag does not exist.
    Result<void> remove(std::string_view tag);
    // The image `tag` points at, if the tag exists.
    Result<std::optional<std::string>> get(std::string_view tag);

private:
    Database& db_;
};

}  // namespace grove::store
