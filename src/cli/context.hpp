#pragma once

// The state every `grove` command shares: the global options given before the subcommand, and
// the engine objects built from them on first use, so `grove --help` opens no store.
//
// Commands go through the client library (include/grove/client.hpp), the same on the local store
// and against groved (--host / GROVE_HOST). A few drive the embedded engine (image::ImageStore on
// a local root) directly, for what the client does not carry: `run` with an image on the local
// store (--network, --runtime, rusage), and `ls`'s owners and times; against groved
// those that have no route say so: store() is Unimplemented against groved.

#include <memory>
#include <string>
#include <vector>

#include <grove/client.hpp>
#include <grove/result.hpp>

#include "base/log.hpp"
#include "engine/runner.hpp"
#include "image/image_store.hpp"

namespace grove::cli {

struct GlobalOptions {
    std::string root;   // --root, $GROVE_ROOT, or kDefaultRoot
    std::string host;   // a groved to use instead of the local store (config.hpp's order)
    std::string token;  // its bearer token
    // The words after the first `--`, kept from the parser so `grove run -- cmd` cannot take
    // `cmd` for an image; commands that take a command append them to it.
    std::vector<std::string> after_dashes;
    std::vector<std::string> registry_mirrors;     // "docker.io=http://127.0.0.1:5000"
    std::vector<std::string> insecure_registries;  // "host[:port]"
    std::vector<std::string> auth_files;           // Docker config.json / containers auth.json
    bool debug = false;
    bool tune_cgroups = true;  // --no-cgroup-tuning clears it (engine/host_cgroups.hpp)
    bool root_flag = false;    // --root was given
    bool host_flag = false;    // --host was given

    // A groved rather than the local store: a host is set, unless --root alone was given on the
    // command line (which beats a host from the environment or the file).
    bool remote() const { return !host.empty() && (host_flag || !root_flag); }
};

inline constexpr const char* kDefaultRoot = "/var/lib/grove";

class Context {
public:
    // `options` is borrowed: commands are registered with this context before the command line
    // is parsed, and everything here is built from the options on first use, after parsing.
    explicit Context(const GlobalOptions& options) : options_(options) {}

    const GlobalOptions& options() const { return options_; }
    bool remote() const { return options_.remote(); }
    const base::Logger& log();
    // The local store; Unimplemented, saying so, against groved.
    Result<image::ImageStore*> store();
    // Runs on the local store, with the host's cgroups when it has usable ones.
    Result<engine::Runner*> runner();
    // The files of the image `ref` names (a UUID, a unique UUID prefix or a tag).
    Result<inspect::LayerStack> image_files(std::string_view ref);
    // The client library: remote when a host is set, else embedded on the root.
    Result<Client*> client();

private:
    const GlobalOptions& options_;
    std::optional<base::Logger> log_;
    std::unique_ptr<image::ImageStore> store_;
    std::unique_ptr<engine::Runner> runner_;
    std::unique_ptr<Client> client_;
};

// 0 for success; otherwise prints "grove: <message>" to stderr and returns 1.
int exit_code_of(const Result<void>& result);

}  // namespace grove::cli
