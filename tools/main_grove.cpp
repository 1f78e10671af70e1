// grove: the command-line client. It runs the engine in-process on a local store (podman-style,
// no daemon needed; several grove processes may share one store), or talks to a groved with
// --host. Settings come from ~/.config/grove/config, then the environment, then flags.

#include <string_view>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/version.hpp"
#include "cli/commands.hpp"
#include "cli/config.hpp"
#include "cli/context.hpp"

int main(int argc, char** argv) {
    auto settings = grove::cli::load_settings();
    if (!settings) {
        fmt::print(stderr, "grove: {}\n", settings.error().message());
        return 1;
    }
    CLI::App app{"grove: branchable container sandboxes"};
    const std::string version = fmt::format("grove {}", grove::base::version());
    app.set_version_flag("-v,--version", version);
    app.require_subcommand(1);

    grove::cli::GlobalOptions options{
        .root = settings->root.empty() ? grove::cli::kDefaultRoot : settings->root,
        .host = settings->host,
        .token = settings->token};
    app.add_option("--root", options.root,
                   fmt::format("Store directory (default $GROVE_ROOT or {}); beats a host from the "
                               "environment or the config file",
                               grove::cli::kDefaultRoot))
        ->each([&options](const std::string&) { options.root_flag = true; });
    app.add_option("--registry-mirror", options.registry_mirrors,
                   "DOMAIN=URL: try URL first for DOMAIN's images (repeatable)")
        ->allow_extra_args(false);
    app.add_option("--insecure-registry", options.insecure_registries,
                   "HOST[:PORT] reached over plain HTTP (repeatable; loopback always is)")
        ->allow_extra_args(false);
    app.add_option("--auth-file", options.auth_files,
                   "Docker config.json or containers auth.json with registry logins (repeatable)")
        ->allow_extra_args(false);
    app.add_option("--host", options.host,
                   "Use this groved (unix:///path or http://host:port; default $GROVE_HOST) "
                   "instead of the local store")
        ->each([&options](const std::string&) { options.host_flag = true; });
    app.add_option("--token", options.token, "groved's bearer token (default $GROVE_TOKEN)");
    app.add_flag("--debug", options.debug, "Log debug messages");
    app.add_flag("!--no-cgroup-tuning", options.tune_cgroups,
                 "Leave the host's cgroup2 mount as it is (grove turns on favordynmods, which "
                 "makes moving each run into its cgroup ~50x faster on cgroup v1 hosts)");

    grove::cli::Context context(options);
    int exit_code = 0;
    const grove::cli::CommandEnv env{context, exit_code};

    CLI::App* images =
        app.add_subcommand("images", "List images (with no verb), import, tag and remove them");
    images->require_subcommand(0, 1);
    grove::cli::add_images_import(*images, env);
    grove::cli::add_images_ls(*images, env);
    grove::cli::add_images_tag(*images, env);
    grove::cli::add_images_rm(*images, env);
    grove::cli::add_images_prune(*images, env);
    grove::cli::add_images_import(app, env);  // ConTree's CLI has these at the top
    grove::cli::add_images_tag(app, env);
    grove::cli::add_fs_ls(app, env);
    grove::cli::add_fs_cat(app, env);
    grove::cli::add_fs_cp(app, env);
    grove::cli::add_fs_grep(app, env);
    grove::cli::add_run(app, env);
    grove::cli::add_session(app, env);
    grove::cli::add_use(app, env);
    grove::cli::add_tree(app, env);
    grove::cli::add_container(app, env);
    grove::cli::add_operations(app, env);
    grove::cli::add_completion(app, env);

    app.add_subcommand("version", "Print the version")->callback([&] {
        fmt::print("{}\n", version);
    });
    // What follows the first `--` is a command, never an image or an option (context.hpp).
    int parsed = argc;
    for (int i = 1; i < argc; ++i) {
        if (std::string_view(argv[i]) == "--") {
            options.after_dashes.assign(argv + i + 1, argv + argc);
            parsed = i;
            break;
        }
    }
    CLI11_PARSE(app, parsed, argv);
    return exit_code;
}
