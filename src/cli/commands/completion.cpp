// grove completion bash|zsh
// Prints a completion script: `source <(grove completion bash)`, or in ~/.zshrc
// `source <(grove completion zsh)`. The words come from the command tree itself (every command's
// subcommands and long options), so they follow what this grove has; zsh runs the bash function
// through bashcompinit.

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/context.hpp"

namespace grove::cli {
namespace {

// "grove images" -> "ls list import ... --tagged --json", for `cmd` and every command below it.
void collect(const CLI::App& cmd,
             const std::string& path,
             std::vector<std::pair<std::string, std::string>>& out) {
    std::vector<std::string> words;
    for (const CLI::App* sub : cmd.get_subcommands({})) {
        words.push_back(sub->get_name());
        for (const auto& alias : sub->get_aliases()) {
            words.push_back(alias);
        }
    }
    for (const CLI::Option* option : cmd.get_options({})) {
        for (const auto& name : option->get_lnames()) {
            words.push_back("--" + name);
        }
    }
    out.emplace_back(path, fmt::format("{}", fmt::join(words, " ")));
    for (const CLI::App* sub : cmd.get_subcommands({})) {
        collect(*sub, path + " " + sub->get_name(), out);
        for (const auto& alias : sub->get_aliases()) {
            collect(*sub, path + " " + alias, out);
        }
    }
}

constexpr std::string_view kFunction = R"(_grove() {
    local cur path candidate i
    cur="${COMP_WORDS[COMP_CWORD]}"
    path=grove
    for ((i = 1; i < COMP_CWORD; i++)); do
        candidate="$path ${COMP_WORDS[i]}"
        if [[ -n "${_grove_words[$candidate]+set}" ]]; then
            path=$candidate
        fi
    done
    COMPREPLY=($(compgen -W "${_grove_words[$path]}" -- "$cur"))
}
complete -o default -F _grove grove
)";

}  // namespace

void add_completion(CLI::App& app, CommandEnv env) {
    auto shell = std::make_shared<std::string>();
    CLI::App* cmd = app.add_subcommand("completion", "Print a shell completion script");
    cmd->add_option("shell", *shell, "bash or zsh")
        ->required()
        ->check(CLI::IsMember({"bash", "zsh"}));
    cmd->callback([shell, env, &app] {
        std::vector<std::pair<std::string, std::string>> table;
        collect(app, "grove", table);
        if (*shell == "zsh") {
            fmt::print("autoload -U +X bashcompinit && bashcompinit\n");
        }
        fmt::print("declare -gA _grove_words=(\n");
        for (const auto& [path, words] : table) {
            fmt::print("    [\"{}\"]=\"{}\"\n", path, words);
        }
        fmt::print(")\n{}", kFunction);
        env.exit_code = 0;
    });
}

}  // namespace grove::cli
