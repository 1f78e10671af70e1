// grove tree [SESSION] [--json]
// Draws a session's image tree: every state its branches reach, from the base image down, each
// with its image (and tag), the command that made it and its exit code; branch heads are named and
// the checked-out head is marked. Box-drawing characters on a UTF-8 terminal, ASCII otherwise.

#include <map>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/json.hpp"
#include "cli/active_session.hpp"
#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "cli/terminal.hpp"

namespace grove::cli {
namespace {

struct Options {
    std::string session;
    bool json = false;
};

struct Tree {
    SessionInfo session;
    std::map<int64_t, SessionRun> states;
    std::map<int64_t, std::vector<int64_t>> children;   // by id: oldest first
    std::map<int64_t, std::vector<std::string>> heads;  // branches whose head a state is
    std::map<std::string, std::string> tags;            // image uuid -> tag
};

Result<Tree> load(Client& client, const std::string& name) {
    GROVE_ASSIGN_OR_RETURN(const auto session, client.sessions().get(name));
    Tree tree;
    GROVE_ASSIGN_OR_RETURN(tree.session, session.info());
    for (const auto& branch : tree.session.branches) {
        GROVE_ASSIGN_OR_RETURN(const auto runs, session.history(1000, branch.name));
        for (const auto& run : runs) {
            tree.states.emplace(run.id, run);
        }
        tree.heads[branch.head].push_back(branch.name);
    }
    for (const auto& [id, state] : tree.states) {
        if (state.parent) {
            tree.children[*state.parent].push_back(id);
        }
    }
    GROVE_ASSIGN_OR_RETURN(const auto tagged, client.images().list({.tagged = true}));
    for (const auto& image : tagged) {
        tree.tags[image.info().uuid] = image.info().tag.value_or("");
    }
    return tree;
}

std::string tag_of(const Tree& tree, const std::string& image) {
    const auto found = tree.tags.find(image);
    return found == tree.tags.end() ? "" : found->second;
}

base::Json tree_json(const Tree& tree) {
    base::Json states = base::Json::array();
    for (const auto& [id, state] : tree.states) {
        const auto heads = tree.heads.find(id);
        const std::string tag = tag_of(tree, state.image);
        states.push_back(
            {{"id", id},
             {"parent", state.parent ? base::Json(*state.parent) : base::Json()},
             {"image", state.image},
             {"tag", tag.empty() ? base::Json() : base::Json(tag)},
             {"command", state.command},
             {"exit_code", state.exit_code},
             {"timed_out", state.timed_out},
             {"branches", heads == tree.heads.end() ? std::vector<std::string>{} : heads->second},
             {"head", id == tree.session.head}});
    }
    return {{"session", tree.session.name},
            {"branch", tree.session.branch},
            {"head", tree.session.head},
            {"states", std::move(states)}};
}

class Drawer {
public:
    explicit Drawer(const Tree& tree)
        : tree_(tree), paint_(stdout), unicode_(wants_unicode(stdout)) {}

    void draw(int64_t id, const std::string& prefix, bool last, bool root) {
        const auto& state = tree_.states.at(id);
        const std::string_view branch = root       ? ""
                                        : unicode_ ? (last ? "└── " : "├── ")
                                        : last     ? "`-- "
                                                   : "|-- ";
        std::string text = fmt::format("#{} {}", id, paint_.dim(state.image.substr(0, 12)));
        if (const auto tag = tag_of(tree_, state.image); !tag.empty()) {
            text += " " + paint_.yellow("[" + tag + "]");
        }
        if (state.command.empty()) {
            text += " (base)";
        } else {
            text += " " + state.command;
            if (state.timed_out) {
                text += " " + paint_.red("(timed out)");
            } else if (state.exit_code != 0) {
                text += " " + paint_.red(fmt::format("(exit {})", state.exit_code));
            }
        }
        if (const auto heads = tree_.heads.find(id); heads != tree_.heads.end()) {
            std::vector<std::string> names;
            for (const auto& name : heads->second) {
                names.push_back(name == tree_.session.branch ? paint_.green("HEAD -> " + name)
                                                             : paint_.green(name));
            }
            text += fmt::format(" {} {}", unicode_ ? "◀" : "<-", fmt::join(names, ", "));
        }
        fmt::print("{}{}{}\n", prefix, branch, text);
        const auto kids = tree_.children.find(id);
        if (kids == tree_.children.end()) {
            return;
        }
        const std::string below = root       ? prefix
                                  : last     ? prefix + "    "
                                  : unicode_ ? prefix + "│   "
                                             : prefix + "|   ";
        for (size_t i = 0; i < kids->second.size(); ++i) {
            draw(kids->second[i], below, i + 1 == kids->second.size(), false);
        }
    }

private:
    const Tree& tree_;
    Paint paint_;
    bool unicode_;
};

Result<void> run(Context& context, const Options& options) {
    GROVE_ASSIGN_OR_RETURN(auto* client, context.client());
    std::string name = options.session;
    if (name.empty()) {
        GROVE_ASSIGN_OR_RETURN(name, active_session(context.options()));
    }
    GROVE_ASSIGN_OR_RETURN(const Tree tree, load(*client, name));
    if (options.json) {
        fmt::print("{}\n", tree_json(tree).dump(2));
        return {};
    }
    fmt::print("session {} on branch {}\n", Paint(stdout).bold(tree.session.name),
               tree.session.branch);
    Drawer drawer(tree);
    for (const auto& [id, state] : tree.states) {
        if (!state.parent) {
            drawer.draw(id, "", true, true);
        }
    }
    return {};
}

}  // namespace

void add_tree(CLI::App& app, CommandEnv env) {
    auto options = std::make_shared<Options>();
    CLI::App* cmd = app.add_subcommand("tree", "Draw a session's image tree (the active one)");
    cmd->add_option("session", options->session, "The session (default: the active one)");
    cmd->add_flag("--json", options->json, "Print the states as JSON");
    cmd->callback([options, env] { env.exit_code = exit_code_of(run(env.context, *options)); });
}

}  // namespace grove::cli
