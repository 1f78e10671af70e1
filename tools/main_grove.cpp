// grove: the command-line client. It runs the engine in-process on a local store (podman-style,
// no daemon needed); several grove processes may share one store.

#include <cstdlib>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/version.hpp"
#include "cli/commands.hpp"
#include "cli/context.hpp"

int main(int argc, char** argv) {
    CLI::App app{"grove: branchable container sandboxes"};
    const std::string version = fmt::format("grove {}", grove::base::version());
    app.set_version_flag("-v,--version", version);
    app.require_subcommand(1);

    grove::cli::GlobalOptions options;
    const char* env_root = std::getenv("GROVE_ROOT");
    options.root = env_root != nullptr && *env_root != '\0' ? env_root : grove::cli::kDefaultRoot;
    app.add_option(
        "--root", options.root,
        fmt::format("Store directory (default $GROVE_ROOT or {})", grove::cli::kDefaultRoot));
    app.add_option("--registry-mirror", options.registry_mirrors,
                   "DOMAIN=URL: try URL first for DOMAIN's images (repeatable)")
        ->allow_extra_args(false);
    app.add_option("--insecure-registry", options.insecure_registries,
                   "HOST[:PORT] reached over plain HTTP (repeatable; loopback always is)")
        ->allow_extra_args(false);
    app.add_option("--auth-file", options.auth_files,
                   "Docker config.json or containers auth.json with registry logins (repeatable)")
        ->allow_extra_args(false);
    const char* env_host = std::getenv("GROVE_HOST");
    options.host = env_host != nullptr ? env_host : "";
    app.add_option("--host", options.host,
                   "Use this groved (unix:///path or http://host:port; default $GROVE_HOST; "
                   "token from $GROVE_TOKEN) instead of the local store (session commands)");
    app.add_flag("--debug", options.debug, "Log debug messages");
    app.add_flag("!--no-cgroup-tuning", options.tune_cgroups,
                 "Leave the host's cgroup2 mount as it is (grove turns on favordynmods, which "
                 "makes moving each run into its cgroup ~50x faster on cgroup v1 hosts)");

    grove::cli::Context context(options);
    int exit_code = 0;
    const grove::cli::CommandEnv env{context, exit_code};

    CLI::App* images = app.add_subcommand("images", "Import, list, tag and remove images");
    images->require_subcommand(1);
    grove::cli::add_images_import(*images, env);
    grove::cli::add_images_ls(*images, env);
    grove::cli::add_images_tag(*images, env);
    grove::cli::add_images_rm(*images, env);
    grove::cli::add_images_prune(*images, env);
    grove::cli::add_fs_ls(app, env);
    grove::cli::add_fs_cat(app, env);
    grove::cli::add_fs_cp(app, env);
    grove::cli::add_fs_grep(app, env);
    grove::cli::add_run(app, env);
    grove::cli::add_session(app, env);

    app.add_subcommand("version", "Print the version")->callback([&] {
        fmt::print("{}\n", version);
    });
    CLI11_PARSE(app, argc, argv);
    return exit_code;
}
