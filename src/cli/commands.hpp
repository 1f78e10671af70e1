#pragma once

// Each `grove` command adds itself to its parent command; one file per command
// (commands/<noun>_<verb>.cpp). A command's callback records its exit code in `exit_code`.

namespace CLI {
class App;
}

namespace grove::cli {

class Context;

struct CommandEnv {
    Context& context;
    int& exit_code;
};

void add_images_import(CLI::App& images, CommandEnv env);
void add_images_ls(CLI::App& images, CommandEnv env);
void add_images_tag(CLI::App& images, CommandEnv env);
void add_images_rm(CLI::App& images, CommandEnv env);
void add_images_prune(CLI::App& images, CommandEnv env);
void add_fs_ls(CLI::App& app, CommandEnv env);
void add_fs_cat(CLI::App& app, CommandEnv env);
void add_fs_cp(CLI::App& app, CommandEnv env);
void add_fs_grep(CLI::App& app, CommandEnv env);
void add_run(CLI::App& app, CommandEnv env);
void add_session(CLI::App& app, CommandEnv env);
void add_use(CLI::App& app, CommandEnv env);
void add_tree(CLI::App& app, CommandEnv env);
void add_completion(CLI::App& app, CommandEnv env);
void add_container(CLI::App& app, CommandEnv env);
void add_operations(CLI::App& app, CommandEnv env);

}  // namespace grove::cli
