// grove cat <image> <path>
// Writes a file of an image to stdout (symlinks resolve inside the image, never on the host),
// through the client library: the same against groved.

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "base/unique_fd.hpp"
#include "cli/commands.hpp"
#include "cli/context.hpp"

namespace grove::cli {

void add_fs_cat(CLI::App& app, CommandEnv env) {
    auto args = std::make_shared<std::pair<std::string, std::string>>();
    CLI::App* cmd = app.add_subcommand("cat", "Print a file of an image");
    cmd->add_option("image", args->first, "UUID, UUID prefix or tag")->required();
    cmd->add_option("path", args->second, "A file in the image")->required();
    cmd->callback([args, env] {
        env.exit_code = exit_code_of([&]() -> Result<void> {
            GROVE_ASSIGN_OR_RETURN(auto* client, env.context.client());
            GROVE_ASSIGN_OR_RETURN(const auto image, client->images().use(args->first, true));
            GROVE_ASSIGN_OR_RETURN(const auto content, image.read(args->second));
            return base::write_all(STDOUT_FILENO, content);
        }());
    });
}

}  // namespace grove::cli
