#pragma once

// Every grove benchmark registers pairs: a grove benchmark and the peer doing the same work
// (sha256sum, crun run, skopeo copy + umoci unpack, ...). The shared main runs them all and then
// prints, for each pair, how many times faster (>1) or slower (<1) grove was than the peer.

#include <string>

namespace grove::bench {

// Declares that benchmark `grove_name` is measured against benchmark `peer_name`.
void compare(std::string grove_name, std::string peer_name);

}  // namespace grove::bench
