// grove images tag <image> <tag>   (moves the tag if another image has it)
// grove images untag <tag>          (the image stays)
// `grove tag` and `grove untag` are the same commands.

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/context.hpp"

namespace grove::cli {

void add_images_tag(CLI::App& images, CommandEnv env) {
    auto args = std::make_shared<std::pair<std::string, std::string>>();
    CLI::App* tag = images.add_subcommand("tag", "Point a tag at an image (moving it if taken)");
    tag->add_option("image", args->first, "UUID, UUID prefix or tag")->required();
    tag->add_option("tag", args->second, "The tag, e.g. team/agent/base or busybox:latest")
        ->required();
    tag->callback([args, env] {
        env.exit_code = exit_code_of([&]() -> Result<void> {
            GROVE_ASSIGN_OR_RETURN(auto* client, env.context.client());
            GROVE_ASSIGN_OR_RETURN(const auto image, client->images().use(args->first, true));
            GROVE_ASSIGN_OR_RETURN(const auto tagged, image.tag(args->second));
            fmt::print("{}\n", tagged.uuid());
            return {};
        }());
    });

    auto untag_name = std::make_shared<std::string>();
    CLI::App* untag = images.add_subcommand("untag", "Remove a tag (the image stays)");
    untag->add_option("tag", *untag_name, "The tag")->required();
    untag->callback([untag_name, env] {
        env.exit_code = exit_code_of([&]() -> Result<void> {
            GROVE_ASSIGN_OR_RETURN(auto* client, env.context.client());
            return client->images().untag(*untag_name);
        }());
    });
}

}  // namespace grove::cli
