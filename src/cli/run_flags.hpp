#pragma once

// The flags of a run, shared by `grove run` and `grove session run`, and what they become: the
// client library's RunOptions. `run_command` picks where the run happens: on the image given
// (embedded engine or groved), or with no image on the active session's head, which it advances.

#include <string>
#include <vector>

#include <grove/client.hpp>
#include <grove/result.hpp>

namespace CLI {
class App;
}

namespace grove::cli {

class Context;

struct RunFlags {
    std::string image;  // empty: the active session
    std::vector<std::string> command;
    std::string shell;
    std::vector<std::string> env;
    std::vector<std::string> files;
    std::string cwd;
    std::string user;
    std::string hostname = "sandbox";
    double timeout_seconds = 0;
    std::string memory;
    uint64_t pids = 0;
    double cpus = 0;
    std::string max_layer_size;
    std::string network = "none";
    std::string runtime;
    bool disposable = false;
    std::string tag;
    bool interactive = false;
    bool json = false;
};

// Every flag but the image.
void add_run_flags(CLI::App& cmd, RunFlags& flags);
// The run as the client library takes it (stdin read when -i, files read); output not routed.
Result<RunOptions> client_run_options(const RunFlags& flags);
// "256m", "1g", "512k", "1048576"
Result<uint64_t> parse_size(std::string_view text);
// The exit code grove exits with.
Result<int> run_command(Context& context, RunFlags flags);

}  // namespace grove::cli
