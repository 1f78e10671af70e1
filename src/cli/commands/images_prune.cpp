// grove images prune
// Removes untagged images that no image was built from (repeatedly, so an untagged chain goes
// from its leaf up), then collects the layers and blobs nothing references any more.

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "cli/format.hpp"

namespace grove::cli {
namespace {

Result<void> run(Context& context) {
    GROVE_ASSIGN_OR_RETURN(auto* store, context.store());
    size_t removed = 0;
    for (bool again = true; again;) {
        again = false;
        GROVE_ASSIGN_OR_RETURN(const auto images, store->list({}));
        for (const auto& image : images) {
            if (image.tag) {
                continue;
            }
            GROVE_ASSIGN_OR_RETURN(const auto children, store->children(image.uuid));
            if (children.empty()) {
                GROVE_TRY(store->remove(image.uuid, {}));
                fmt::print("{}\n", image.uuid);
                ++removed;
                again = true;
            }
        }
    }
    GROVE_ASSIGN_OR_RETURN(const auto stats, store->collect_garbage());
    fmt::print(stderr, "removed {} images, {} layers, {} blobs ({})\n", removed,
               stats.layers_removed, stats.blobs_removed, human_size(stats.bytes_freed));
    return {};
}

}  // namespace

void add_images_prune(CLI::App& images, CommandEnv env) {
    images.add_subcommand("prune", "Remove untagged leaf images and unused layers and blobs")
        ->callback([env] { env.exit_code = exit_code_of(run(env.context)); });
}

}  // namespace grove::cli
