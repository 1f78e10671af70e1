#include "docker_api/flat_image.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "base/error.hpp"
#include "daemon/wire_time.hpp"
#include "docker_api/image_json.hpp"
#include "docker_api/image_names.hpp"
#include "inspect/tar_export.hpp"

namespace grove::docker_api {

Result<FlatImage> flatten_image(image::ImageStore& images,
                                const store::ImageRecord& image,
                                const std::filesystem::path& layer_file) {
    GROVE_ASSIGN_OR_RETURN(
        auto layer, base::UniqueFd::open(layer_file.string(), O_RDWR | O_CREAT | O_TRUNC, 0600));
    {
        GROVE_ASSIGN_OR_RETURN(const auto stack, images.filesystem(image));
        GROVE_TRY(inspect::write_tar(stack, "/", layer.get(), nullptr));
    }
    if (::lseek(layer.get(), 0, SEEK_SET) != 0) {
        return base::last_errno_error("rewind '{}'", layer_file.string());
    }
    GROVE_ASSIGN_OR_RETURN(base::Digest diff_id, base::sha256_fd(layer.get()));
    if (::lseek(layer.get(), 0, SEEK_SET) != 0) {
        return base::last_errno_error("rewind '{}'", layer_file.string());
    }
    base::Json config = config_of(image);
    std::string created = daemon::rfc3339_nanos(created_ns(image, config));
    config["rootfs"] = {{"type", "layers"}, {"diff_ids", {diff_id.str()}}};
    config["history"] = base::Json::array(
        {{{"created", created}, {"created_by", "grove save " + docker_id(image.uuid)}}});
    config["created"] = created;
    return FlatImage{.layer = std::move(layer),
                     .diff_id = std::move(diff_id),
                     .config = base::dump_json(config),
                     .created = std::move(created)};
}

}  // namespace grove::docker_api
