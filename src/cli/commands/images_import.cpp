// grove images import <source> [--tag T] [--platform P] [--username U --password P]
// <source>: a registry reference (busybox, host:5000/x:tag, docker://...), oci:<dir>[:ref],
// oci-archive:<file>[:ref], docker-archive:<file>[:repo:tag] or rootfs:<dir-or-tarball>.
// Prints per-layer progress on stderr and the image's UUID, last, on stdout. The same through
// groved, by the client library: a file is uploaded first (directories import locally only), and
// a registry import's progress comes from its operation's events.
// `grove import` is the same command.

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/error.hpp"
#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "cli/progress.hpp"
#include "image/source_spec.hpp"

namespace grove::cli {
namespace {

struct Options {
    std::string source;
    std::string tag;
    std::string platform;
    std::string username;
    std::string password;
    bool quiet = false;
};

Result<void> run(Context& context, const Options& options) {
    if (options.username.empty() != options.password.empty()) {
        return base::make_error(Code::kInvalidArgument, "--username and --password go together");
    }
    grove::ImportOptions settings;
    if (!options.tag.empty()) {
        settings.tag = options.tag;
    }
    if (!options.platform.empty()) {
        settings.platform = options.platform;
    }
    if (!options.username.empty()) {
        settings.credentials = Credentials{options.username, options.password};
    }
    ImportProgress progress(stderr);
    if (!options.quiet) {
        settings.progress = [&](const grove::ImportProgress& p) {
            progress.update(p);
        };
    }
    GROVE_ASSIGN_OR_RETURN(auto* client, context.client());
    GROVE_ASSIGN_OR_RETURN(const auto image,
                           client->images().import_from(options.source, settings));
    if (!options.quiet) {
        // A registry reference in full, as the store records where it came from.
        const auto spec = image::parse_source_spec(options.source);
        fmt::print(stderr, "imported {}{}\n",
                   spec && spec->reference ? spec->reference->to_string() : options.source,
                   image.info().tag ? " as " + *image.info().tag : "");
    }
    fmt::print("{}\n", image.uuid());
    return {};
}

}  // namespace

void add_images_import(CLI::App& images, CommandEnv env) {
    auto options = std::make_shared<Options>();
    CLI::App* cmd = images.add_subcommand("import", "Import an image from a registry or a file");
    cmd->alias("pull");
    cmd->add_option("source", options->source,
                    "busybox, host:5000/x:tag, oci:<dir>[:ref], oci-archive:<file>[:ref], "
                    "docker-archive:<file>[:repo:tag], rootfs:<dir-or-tar>")
        ->required();
    cmd->add_option("-t,--tag", options->tag, "Tag the imported image");
    cmd->add_option("--platform", options->platform, "os/arch[/variant] (default: this host's)");
    cmd->add_option("-u,--username", options->username, "Registry user name");
    cmd->add_option("-p,--password", options->password, "Registry password");
    cmd->add_flag("-q,--quiet", options->quiet, "Print only the image UUID");
    cmd->callback([options, env] { env.exit_code = exit_code_of(run(env.context, *options)); });
}

}  // namespace grove::cli
