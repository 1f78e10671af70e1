// grove grep <image> <pattern>... [-p PATH]... [-i] [-F] [--include GLOB]... [--json]
// Searches the files of an image; prints path:line:text. Exits 0 on a match, 1 on none and 2 on
// an error, as grep does. Through the client library: the same against groved (its inspect grep).

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/json.hpp"
#include "cli/commands.hpp"
#include "cli/context.hpp"

namespace grove::cli {
namespace {

struct Options {
    std::string image;
    grove::GrepOptions grep;
    bool json = false;
};

Result<bool> run(Context& context, const Options& options) {
    GROVE_ASSIGN_OR_RETURN(auto* client, context.client());
    GROVE_ASSIGN_OR_RETURN(const auto image, client->images().use(options.image, true));
    GROVE_ASSIGN_OR_RETURN(const auto result, image.grep(options.grep));
    if (options.json) {
        base::Json matches = base::Json::array();
        for (const auto& m : result.matches) {
            matches.push_back({{"path", m.path}, {"line", m.line}, {"text", m.text}});
        }
        fmt::print("{}\n", base::Json{{"matches", matches},
                                      {"truncated", result.truncated},
                                      {"files_searched", result.files_searched}}
                               .dump(2));
    } else {
        for (const auto& m : result.matches) {
            fmt::print("{}:{}:{}\n", m.path, m.line, m.text);
        }
        if (result.truncated) {
            fmt::print(stderr, "grove: stopped after {} matches (--max)\n", result.matches.size());
        }
    }
    return !result.matches.empty();
}

}  // namespace

void add_fs_grep(CLI::App& app, CommandEnv env) {
    auto options = std::make_shared<Options>();
    CLI::App* cmd = app.add_subcommand("grep", "Search the files of an image");
    cmd->add_option("image", options->image, "UUID, UUID prefix or tag")->required();
    cmd->add_option("pattern", options->grep.patterns, "Patterns (a line matches any)")->required();
    cmd->add_option("-p,--path", options->grep.paths, "Where to search (default /; repeatable)");
    cmd->add_flag("-i,--ignore-case", options->grep.ignore_case, "Ignore ASCII case");
    cmd->add_flag("-F,--fixed-strings", options->grep.fixed_strings, "Patterns are plain text");
    cmd->add_option("--include", options->grep.include_globs, "Only files whose name matches");
    cmd->add_option("--max", options->grep.max_matches, "Stop after this many matches");
    cmd->add_flag("--json", options->json, "Print JSON");
    cmd->callback([options, env] {
        // grep's convention: 0 matches found, 1 none, 2 an error.
        auto found = run(env.context, *options);
        if (!found) {
            exit_code_of(found.error());
            env.exit_code = 2;
            return;
        }
        env.exit_code = *found ? 0 : 1;
    });
}

}  // namespace grove::cli
