// grove images prune [--json]
// Removes untagged images that no image was built from and nothing pins (repeatedly, so an
// untagged chain goes from its leaf up), then collects the layers and blobs nothing references
// any more (image/prune.hpp; groved does the same through /grove/v1/images/prune).

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/json.hpp"
#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "cli/format.hpp"

namespace grove::cli {
namespace {

Result<void> run(Context& context, bool json) {
    GROVE_ASSIGN_OR_RETURN(auto* client, context.client());
    GROVE_ASSIGN_OR_RETURN(const auto pruned, client->images().prune());
    if (json) {
        fmt::print("{}\n", base::Json{{"removed", pruned.removed},
                                      {"layers_removed", pruned.layers_removed},
                                      {"blobs_removed", pruned.blobs_removed},
                                      {"bytes_freed", pruned.bytes_freed}}
                               .dump(2));
        return {};
    }
    for (const auto& uuid : pruned.removed) {
        fmt::print("{}\n", uuid);
    }
    fmt::print(stderr, "removed {} images, {} layers, {} blobs ({})\n", pruned.removed.size(),
               pruned.layers_removed, pruned.blobs_removed, human_size(pruned.bytes_freed));
    return {};
}

}  // namespace

void add_images_prune(CLI::App& images, CommandEnv env) {
    auto json = std::make_shared<bool>(false);
    CLI::App* cmd =
        images.add_subcommand("prune", "Remove untagged leaf images and unused layers and blobs");
    cmd->add_flag("--json", *json, "Print JSON");
    cmd->callback([json, env] { env.exit_code = exit_code_of(run(env.context, *json)); });
}

}  // namespace grove::cli
