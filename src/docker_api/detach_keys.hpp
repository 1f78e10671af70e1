#pragma once

// Docker's detach keys: a client attached with stdin leaves the container (or exec) running by
// typing a key sequence, ctrl-p,ctrl-q unless it names another (`detachKeys`, "ctrl-x,y").
// As dockerd's escape proxy, the sequence is held back while it may still match, and bytes that
// turn out not to belong to it go on to the process.

#include <string>
#include <string_view>

#include <grove/result.hpp>

namespace grove::docker_api {

class DetachKeys {
public:
    // `spec` as Docker writes it: comma-separated keys, each one character or "ctrl-" and one of
    // a-z @ [ \ ] ^ _; empty for the default. InvalidArgument otherwise.
    static Result<DetachKeys> parse(std::string_view spec);

    struct Scan {
        std::string forward;    // what goes on to the process
        bool detached = false;  // the sequence is complete: what followed it is dropped
    };
    Scan feed(std::string_view input);

private:
    explicit DetachKeys(std::string keys) : keys_(std::move(keys)) {}
    std::string keys_;
    size_t matched_ = 0;  // keys_[0, matched_) was typed last and is held back
};

}  // namespace grove::docker_api
