// grove ls <image> [path] [--json]
// Lists a directory of an image (or shows one entry) as `ls -l` would, without running it.

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "cli/format.hpp"
#include "inspect/user_db.hpp"

namespace grove::cli {
namespace {

struct Options {
    std::string image;
    std::string path = "/";
    bool json = false;
};

// Against groved: what its inspect API tells (no owners, link counts or times).
Result<void> run_remote(Context& context, const Options& options) {
    GROVE_ASSIGN_OR_RETURN(auto* client, context.client());
    GROVE_ASSIGN_OR_RETURN(const auto image, client->images().use(options.image, true));
    GROVE_ASSIGN_OR_RETURN(const auto entries, image.ls(options.path));
    if (options.json) {
        base::Json out = base::Json::array();
        for (const auto& entry : entries) {
            out.push_back({{"name", entry.name},
                           {"size", entry.size},
                           {"mode", fmt::format("{:o}", entry.mode & 07777)},
                           {"is_dir", entry.is_dir},
                           {"target", entry.symlink_to}});
        }
        fmt::print("{}\n", out.dump(2));
        return {};
    }
    for (const auto& entry : entries) {
        fmt::print("{:06o} {:>10} {}{}\n", entry.mode, entry.size, entry.name,
                   entry.is_symlink ? " -> " + entry.symlink_to : "");
    }
    return {};
}

Result<void> run(Context& context, const Options& options) {
    if (context.remote()) {
        return run_remote(context, options);
    }
    GROVE_ASSIGN_OR_RETURN(const auto files, context.image_files(options.image));
    GROVE_ASSIGN_OR_RETURN(const auto users, inspect::UserDb::load(files));
    GROVE_ASSIGN_OR_RETURN(const auto entries, inspect::list_path(files, options.path, &users));
    if (options.json) {
        base::Json out = base::Json::array();
        for (const auto& entry : entries) {
            out.push_back(file_json(entry));
        }
        fmt::print("{}\n", out.dump(2));
        return {};
    }
    for (const auto& entry : entries) {
        const std::string owner = entry.owner.value_or(std::to_string(entry.uid));
        const std::string group = entry.group.value_or(std::to_string(entry.gid));
        fmt::print("{} {:>3} {:<8} {:<8} {:>10} {} {}{}\n",
                   inspect::mode_string(entry.type, entry.mode), entry.nlink, owner, group,
                   entry.size, rfc3339(entry.mtime_ns).substr(0, 19), entry.name,
                   entry.symlink_target.empty() ? "" : " -> " + entry.symlink_target);
    }
    return {};
}

}  // namespace

void add_fs_ls(CLI::App& app, CommandEnv env) {
    auto options = std::make_shared<Options>();
    CLI::App* cmd = app.add_subcommand("ls", "List files in an image");
    cmd->add_option("image", options->image, "UUID, UUID prefix or tag")->required();
    cmd->add_option("path", options->path, "A directory or file in the image (default /)");
    cmd->add_flag("--json", options->json, "Print JSON");
    cmd->callback([options, env] { env.exit_code = exit_code_of(run(env.context, *options)); });
}

}  // namespace grove::cli
