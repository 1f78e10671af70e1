#include "docker_api/image_names.hpp"

#include <algorithm>

#include "base/digest.hpp"
#include "base/error.hpp"
#include "store/metadata/uuid.hpp"

namespace grove::docker_api {
namespace {

constexpr size_t kUuidHex = 32;

bool is_hex(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    });
}

// The second half of a Docker ID: the first 32 hex digits of sha256(uuid).
std::string id_suffix(std::string_view uuid) {
    return std::string(base::Digest::sha256_of(uuid).encoded().substr(0, kUuidHex));
}

Result<store::ImageRecord> no_such_image(std::string_view name) {
    return base::make_error(Code::kNotFound, "No such image: {}", name);
}

}  // namespace

std::string docker_id(std::string_view uuid) {
    std::string hex;
    for (const char c : uuid) {
        if (c != '-') {
            hex += c;
        }
    }
    return "sha256:" + hex + id_suffix(uuid);
}

std::optional<std::string> uuid_prefix_of_id(std::string_view text) {
    if (text.starts_with("sha256:")) {
        text.remove_prefix(7);
    }
    if (!is_hex(text) || text.size() > 2 * kUuidHex) {
        return std::nullopt;
    }
    // The UUID's dashes sit after its 8th, 12th, 16th and 20th hex digit.
    std::string uuid;
    for (size_t i = 0; i < std::min(text.size(), kUuidHex); ++i) {
        if (i == 8 || i == 12 || i == 16 || i == 20) {
            uuid += '-';
        }
        uuid += text[i];
    }
    if (text.size() > kUuidHex && !id_suffix(uuid).starts_with(text.substr(kUuidHex))) {
        return std::nullopt;
    }
    return uuid;
}

std::vector<std::string> tag_candidates(const oci::Reference& ref) {
    std::vector<std::string> tags{ref.familiar()};
    if (!ref.tag || *ref.tag == "latest") {
        const std::string full = ref.familiar();
        tags.push_back(full.substr(0, full.rfind(':')));
    }
    tags.push_back(ref.to_string());
    return tags;
}

std::string repo_tag_of(std::string_view grove_tag) {
    const size_t slash = grove_tag.rfind('/');
    const size_t colon = grove_tag.rfind(':');
    if (colon == std::string_view::npos || (slash != std::string_view::npos && colon < slash)) {
        return std::string(grove_tag) + ":latest";
    }
    return std::string(grove_tag);
}

Result<std::optional<std::string>> find_tag(image::ImageStore& images, const oci::Reference& ref) {
    for (const auto& tag : tag_candidates(ref)) {
        auto found = images.find(tag);
        if (found && found->tag == tag) {
            return std::optional<std::string>(tag);
        }
        if (!found && found.error().code() != Code::kNotFound &&
            found.error().code() != Code::kInvalidArgument) {
            return found.error();
        }
    }
    return std::optional<std::string>();
}

Result<store::ImageRecord> find_image(image::ImageStore& images, std::string_view name) {
    // A name first, as dockerd does: "deadbeef" may be a repository as well as an ID prefix.
    // dockerd's message names a reference in its familiar form: "No such image: nosuch:latest".
    std::string missing(name);
    if (auto ref = oci::Reference::parse(name); ref && !name.starts_with("sha256:")) {
        missing = ref->familiar();
        if (ref->digest) {
            GROVE_ASSIGN_OR_RETURN(const auto all, images.list({}));
            for (const auto& image : all) {
                if (image.manifest_digest == ref->digest->str()) {
                    return image;
                }
            }
        } else {
            GROVE_ASSIGN_OR_RETURN(const auto tag, find_tag(images, *ref));
            if (tag) {
                return images.find(*tag);
            }
        }
    }
    const auto prefix = uuid_prefix_of_id(name);
    if (!prefix || prefix->size() < store::ImageTable::kMinUuidPrefix) {
        return no_such_image(missing);
    }
    auto found = images.find(*prefix);
    if (!found && found.error().code() == Code::kNotFound) {
        return no_such_image(missing);
    }
    return found;
}

Result<store::ImageRecord> name_image(image::ImageStore& images,
                                      const store::ImageRecord& image,
                                      const std::string& tag) {
    if (auto holder = images.find(tag); holder && holder->tag == tag) {
        // Named so already, by itself or by an image derived from it: a pull again is a no-op.
        const bool same = holder->uuid == image.uuid ||
                          (holder->parent == image.uuid && holder->top_layer == image.top_layer &&
                           holder->config_json == image.config_json);
        if (same) {
            return *holder;
        }
        GROVE_TRY(images.untag(tag));
    }
    if (!image.tag) {
        return images.tag(image.uuid, tag);
    }
    return images.derive(image, {.tag = tag, .operation = "docker tag " + repo_tag_of(tag)});
}

}  // namespace grove::docker_api
