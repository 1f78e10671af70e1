#include "rootfs_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/layer_stream.hpp"
#include "archive_extract.hpp"
#include "base/error.hpp"
#include "base/json.hpp"
#include "oci/media_types.hpp"
#include "oci/platform.hpp"
#include "rootfs_tar.hpp"
#include "synthetic_source.hpp"

namespace grove::image {
namespace {

// Docker's default for images that set no PATH.
constexpr std::string_view kDefaultPath =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string rootfs_config(const base::Digest& diff_id) {
    const oci::Platform host = oci::Platform::host();
    base::Json config = {{"architecture", host.architecture},
                         {"os", host.os},
                         {"config", {{"Env", {std::string(kDefaultPath)}}}},
                         {"rootfs", {{"type", "layers"}, {"diff_ids", {diff_id.str()}}}}};
    if (!host.variant.empty()) {
        config["variant"] = host.variant;
    }
    return config.dump();
}

// The sha256 of the uncompressed tar in the file `fd` (read from its start).
Result<base::Digest> diff_id_of(int fd, archive::Compression compression) {
    if (::lseek(fd, 0, SEEK_SET) < 0) {
        return base::last_errno_error("seek");
    }
    GROVE_ASSIGN_OR_RETURN(auto stream, archive::LayerStream::open(fd, compression));
    return stream.finish();
}

}  // namespace

Result<std::unique_ptr<ImageSource>> open_rootfs(const std::filesystem::path& path,
                                                 const std::filesystem::path& scratch) {
    // The path itself may be a symlink (the user named it); nothing inside the tree is followed.
    GROVE_ASSIGN_OR_RETURN(auto input, base::UniqueFd::open(path.string(), O_RDONLY | O_NONBLOCK));
    struct stat st {};
    if (::fstat(input.get(), &st) != 0) {
        return base::last_errno_error("stat '{}'", path.string());
    }
    std::optional<base::TempDir> temp;
    base::UniqueFd blob;
    if (S_ISDIR(st.st_mode)) {
        GROVE_ASSIGN_OR_RETURN(temp, base::TempDir::create("grove-rootfs-", scratch));
        GROVE_ASSIGN_OR_RETURN(blob, base::UniqueFd::open((temp->path() / "layer.tar").string(),
                                                          O_RDWR | O_CREAT | O_EXCL, 0600));
        GROVE_TRY(base::with_context(write_rootfs_tar(input.get(), blob.get()), "pack '{}'",
                                     path.string()));
    } else if (S_ISREG(st.st_mode)) {
        blob = std::move(input);
    } else {
        return base::make_error(Code::kInvalidArgument, "'{}' is neither a directory nor a tarball",
                                path.string());
    }
    GROVE_ASSIGN_OR_RETURN(const auto compression, sniff_compression(blob.get()));
    // A plain tar is its own diff_id: add_blob_file hashes it anyway.
    std::optional<base::Digest> diff_id;
    if (compression != archive::Compression::kNone) {
        GROVE_ASSIGN_OR_RETURN(diff_id, base::with_context(diff_id_of(blob.get(), compression),
                                                           "'{}'", path.string()));
    }
    auto source = std::make_unique<SyntheticSource>("rootfs:" + path.string(), std::move(temp));
    GROVE_ASSIGN_OR_RETURN(
        const auto layer,
        source->add_blob_file(std::move(blob), std::string(layer_media_type(compression))));
    const auto config = source->add_blob_bytes(rootfs_config(diff_id.value_or(layer.digest)),
                                               std::string(oci::media_type::kOciConfig));
    source->set_manifest(config, {layer});
    return std::unique_ptr<ImageSource>(std::move(source));
}

}  // namespace grove::image
