// grove images import <source> [--tag T] [--platform P] [--username U --password P]
// <source>: a registry reference (busybox, host:5000/x:tag, docker://...), oci:<dir>[:ref],
// oci-archive:<file>[:ref], docker-archive:<file>[:repo:tag] or rootfs:<dir-or-tarball>.
// Prints per-layer progress on stderr and the image's UUID, last, on stdout. Against groved,
// through the client library: registry references only, no progress before the end.
// `grove import` is the same command.

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/error.hpp"
#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "cli/progress.hpp"
#include "image/registry_source.hpp"
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

// Through groved's import (a registry reference only): it reports no progress before the end.
Result<void> run_remote(Context& context, const Options& options) {
    if (!options.platform.empty()) {
        return base::make_error(Code::kUnimplemented, "--platform works on the local store only");
    }
    grove::ImportOptions import;
    if (!options.tag.empty()) {
        import.tag = options.tag;
    }
    if (!options.username.empty()) {
        import.credentials = Credentials{options.username, options.password};
    }
    GROVE_ASSIGN_OR_RETURN(auto* client, context.client());
    GROVE_ASSIGN_OR_RETURN(const auto image, client->images().import_from(options.source, import));
    if (!options.quiet) {
        fmt::print(stderr, "imported {}{}\n", options.source,
                   image.info().tag ? " as " + *image.info().tag : "");
    }
    fmt::print("{}\n", image.uuid());
    return {};
}

Result<void> run(Context& context, const Options& options) {
    if (options.username.empty() != options.password.empty()) {
        return base::make_error(Code::kInvalidArgument, "--username and --password go together");
    }
    if (context.remote()) {
        return run_remote(context, options);
    }
    image::ImportOptions import;
    if (!options.tag.empty()) {
        import.tag = options.tag;
    }
    if (!options.platform.empty()) {
        GROVE_ASSIGN_OR_RETURN(import.platform, oci::Platform::parse(options.platform));
    }
    ImportProgress progress(stderr);
    if (!options.quiet) {
        import.progress = [&](const image::LayerProgress& p) { progress.update(p);
    };
}
GROVE_ASSIGN_OR_RETURN(auto* store, context.store());
image::SourceContext sources{
    .scratch = store->paths().root,
    .registry = [&](const oci::Reference& ref) -> Result<std::unique_ptr<image::ImageSource>> {
        std::optional<std::pair<std::string, registry::Credentials>> login;
        if (!options.username.empty()) {
            login.emplace(ref.domain, registry::Credentials{options.username, options.password});
        }
        GROVE_ASSIGN_OR_RETURN(auto* client, context.registry(login));
        return std::make_unique<image::RegistrySource>(*client, ref);
    }};
GROVE_ASSIGN_OR_RETURN(auto source, image::open_source(options.source, sources));
GROVE_ASSIGN_OR_RETURN(const auto result, store->import(*source, import));
if (!options.quiet) {
    fmt::print(stderr, "{} {}{}\n", result.existed ? "already have" : "imported",
               source->describe(), result.image.tag ? " as " + *result.image.tag : "");
}
fmt::print("{}\n", result.image.uuid);
return {};
}  // namespace

}  // namespace grove::cli

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
