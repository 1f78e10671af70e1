#pragma once

// The parts of an OCI image config (application/vnd.oci.image.config.v1+json, or Docker's
// container.image.v1+json, which has the same shape) that grove acts on. The store keeps the
// config's original bytes; this is the typed view of them.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <grove/result.hpp>

#include "base/digest.hpp"
#include "platform.hpp"

namespace grove::oci {

struct ImageConfig {
    Platform platform;
    std::string user;
    std::vector<std::string> env;
    std::vector<std::string> entrypoint;
    std::vector<std::string> cmd;
    std::string working_dir;
    std::map<std::string, std::string> labels;
    std::vector<std::string> exposed_ports;  // "80/tcp"
    std::string stop_signal;
    std::vector<base::Digest> diff_ids;  // rootfs.diff_ids, bottom layer first
    std::string created;                 // RFC 3339, empty when absent
};

Result<ImageConfig> parse_image_config(std::string_view bytes);

// The chain IDs of a layer stack (OCI image spec, "Layer ChainID"): ChainID(L0) = DiffID(L0),
// ChainID(L0..n) = sha256(ChainID(L0..n-1) + " " + DiffID(Ln)). A chain ID names a layer together
// with everything under it, so an unpacked layer directory can be shared by every image whose
// stack starts the same way.
std::vector<base::Digest> chain_ids(const std::vector<base::Digest>& diff_ids);

}  // namespace grove::oci
