#pragma once

// How Docker's names for images map onto grove's.
//
// IDs. A grove image is named by a UUID, whatever its kind (imported, or the result of a run with
// no registry config of its own), and Docker's clients expect "sha256:" and 64 hex digits they
// may shorten to any prefix. The Docker ID of an image is "sha256:" + the UUID's 32 hex digits +
// the first 32 hex digits of sha256(UUID): unique, stable, and reversible from any prefix of up
// to 32 digits, which is a UUID prefix with its dashes put back (`docker rmi 3f2a9b1c` works).
// A full ID must also carry the right second half.
//
// Names. grove tags hold Docker's familiar form of a reference ("busybox:latest",
// "127.0.0.1:5000/team/app:1"), so "busybox", "busybox:latest" and
// "docker.io/library/busybox:latest" all name the tag "busybox:latest". A grove tag written
// without a Docker tag ("busybox", from the ConTree API) reads as "busybox:latest", and
// "busybox:latest" finds it too, as does the full form.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <grove/result.hpp>

#include "image/image_store.hpp"
#include "oci/reference.hpp"

namespace grove::docker_api {

// "sha256:<64 hex>" for the image `uuid`.
std::string docker_id(std::string_view uuid);
// The UUID prefix that a Docker ID or ID prefix ("sha256:3f2a", "3f2a9b") stands for; nullopt
// when `text` is not one.
std::optional<std::string> uuid_prefix_of_id(std::string_view text);

// The grove tags that may hold the Docker reference `ref`, the familiar form first.
std::vector<std::string> tag_candidates(const oci::Reference& ref);
// The Docker name ("busybox:latest") a grove tag stands for.
std::string repo_tag_of(std::string_view grove_tag);

// The image a Docker name, ID or ID prefix names; NotFound with dockerd's message ("No such
// image: busybox:latest") otherwise.
Result<store::ImageRecord> find_image(image::ImageStore& images, std::string_view name);
// The grove tag of `ref`'s image if it has one (`ref` is a name, not an ID).
Result<std::optional<std::string>> find_tag(image::ImageStore& images, const oci::Reference& ref);

// Names `image` with the grove tag `tag`, which moves off any other image as in dockerd. An image
// that carries another tag already gets a derived image (same files, ImageStore::derive) with
// the new one, since a grove image has one tag: both names keep working, under two IDs. A tag
// already on `image`, or on an image derived from it with the same files and config, stays.
Result<store::ImageRecord> name_image(image::ImageStore& images,
                                      const store::ImageRecord& image,
                                      const std::string& tag);

}  // namespace grove::docker_api
