// grove images rm [--force] <image>...
// Removes images; their layers and blobs go at the next `grove images prune`. A tagged image
// needs --force; an image with children, or one a session or container pins, cannot be removed.

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/context.hpp"

namespace grove::cli {

void add_images_rm(CLI::App& images, CommandEnv env) {
    struct Options {
        std::vector<std::string> refs;
        bool force = false;
    };
    auto options = std::make_shared<Options>();
    CLI::App* cmd = images.add_subcommand("rm", "Remove images");
    cmd->alias("remove");
    cmd->add_option("image", options->refs, "UUIDs, UUID prefixes or tags")->required();
    cmd->add_flag("-f,--force", options->force, "Remove tagged images too (untagging them)");
    cmd->callback([options, env] {
        env.exit_code = exit_code_of([&]() -> Result<void> {
            GROVE_ASSIGN_OR_RETURN(auto* client, env.context.client());
            for (const auto& ref : options->refs) {
                GROVE_ASSIGN_OR_RETURN(const auto uuid,
                                       client->images().remove(ref, options->force));
                fmt::print("{}\n", uuid);
            }
            return {};
        }());
    });
}

}  // namespace grove::cli
