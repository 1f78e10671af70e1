#include "containers/commit_config.hpp"

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstring>
#include <utility>

#include "base/error.hpp"
#include "base/json.hpp"

namespace grove::containers {
namespace {

using base::Json;

std::string trim(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())) != 0) {
        text.remove_prefix(1);
    }
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) {
        text.remove_suffix(1);
    }
    return std::string(text);
}

// Whitespace-separated words; double or single quotes group, and are dropped.
std::vector<std::string> words(std::string_view text) {
    std::vector<std::string> out;
    std::string word;
    bool in_word = false;
    char quote = 0;
    for (const char ch : text) {
        if (quote != 0) {
            if (ch == quote) {
                quote = 0;
            } else {
                word += ch;
            }
        } else if (ch == '"' || ch == '\'') {
            quote = ch;
            in_word = true;
        } else if (std::isspace(static_cast<unsigned char>(ch)) != 0) {
            if (in_word) {
                out.push_back(std::exchange(word, {}));
                in_word = false;
            }
        } else {
            word += ch;
            in_word = true;
        }
    }
    if (in_word) {
        out.push_back(std::move(word));
    }
    return out;
}

// A JSON array of strings (the exec form), if `text` is one.
std::optional<std::vector<std::string>> exec_form(const std::string& text) {
    if (!text.starts_with('[')) {
        return std::nullopt;
    }
    auto parsed = base::parse_json(text);
    if (!parsed || !parsed->is_array() ||
        !std::all_of(parsed->begin(), parsed->end(), [](const Json& v) { return v.is_string(); })) {
        return std::nullopt;
    }
    return parsed->get<std::vector<std::string>>();
}

// ENV and LABEL: "K=V K2=V2" or the legacy "K some value".
Result<std::vector<std::pair<std::string, std::string>>> pairs(const std::string& args,
                                                               std::string_view what) {
    std::vector<std::pair<std::string, std::string>> out;
    const auto list = words(args);
    if (list.empty()) {
        return base::make_error(Code::kInvalidArgument, "{} requires at least one argument", what);
    }
    if (list[0].find('=') == std::string::npos) {
        const size_t space = args.find_first_of(" \t");
        if (space == std::string::npos) {
            return base::make_error(Code::kInvalidArgument, "{} {} needs a value", what, args);
        }
        out.emplace_back(list[0], trim(args.substr(space)));
        return out;
    }
    for (const auto& word : list) {
        const size_t eq = word.find('=');
        if (eq == std::string::npos || eq == 0) {
            return base::make_error(Code::kInvalidArgument, "{} expects KEY=VALUE, not '{}'", what,
                                    word);
        }
        out.emplace_back(word.substr(0, eq), word.substr(eq + 1));
    }
    return out;
}

void set_env(Json& config, const std::string& key, const std::string& value) {
    Json& env = config["Env"];
    if (!env.is_array()) {
        env = Json::array();
    }
    const std::string entry = key + "=" + value;
    for (auto& item : env) {
        if (item.is_string() && item.get<std::string>().starts_with(key + "=")) {
            item = entry;
            return;
        }
    }
    env.push_back(entry);
}

void add_key(Json& config, const char* field, const std::string& key) {
    Json& set = config[field];
    if (!set.is_object()) {
        set = Json::object();
    }
    set[key] = Json::object();
}

Result<void> apply_change(Json& config, const std::string& change) {
    const std::string text = trim(change);
    const size_t space = text.find_first_of(" \t");
    std::string instruction = text.substr(0, space);
    std::transform(instruction.begin(), instruction.end(), instruction.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    const std::string args = space == std::string::npos ? "" : trim(text.substr(space));
    if (instruction == "CMD" || instruction == "ENTRYPOINT") {
        auto argv = exec_form(args);
        if (!argv) {
            argv = std::vector<std::string>{"/bin/sh", "-c", args};
        }
        config[instruction == "CMD" ? "Cmd" : "Entrypoint"] = *argv;
        if (instruction == "ENTRYPOINT") {
            config["Cmd"] = nullptr;  // as a Dockerfile's ENTRYPOINT resets an inherited CMD
        }
    } else if (instruction == "ENV" || instruction == "LABEL") {
        GROVE_ASSIGN_OR_RETURN(const auto list, pairs(args, instruction));
        for (const auto& [key, value] : list) {
            if (instruction == "ENV") {
                set_env(config, key, value);
            } else {
                Json& labels = config["Labels"];
                if (!labels.is_object()) {
                    labels = Json::object();
                }
                labels[key] = value;
            }
        }
    } else if (instruction == "EXPOSE") {
        for (auto port : words(args)) {
            if (port.find('/') == std::string::npos) {
                port += "/tcp";
            }
            add_key(config, "ExposedPorts", port);
        }
    } else if (instruction == "VOLUME") {
        for (const auto& path : exec_form(args).value_or(words(args))) {
            add_key(config, "Volumes", path);
        }
    } else if (instruction == "USER" || instruction == "STOPSIGNAL") {
        config[instruction == "USER" ? "User" : "StopSignal"] = args;
    } else if (instruction == "WORKDIR") {
        std::string dir = args;
        if (!dir.starts_with('/')) {
            const std::string base = config.value("WorkingDir", "");
            dir = (base.empty() ? "/" : base.ends_with('/') ? base : base + "/") + dir;
        }
        config["WorkingDir"] = dir;
    } else {
        return base::make_error(Code::kInvalidArgument, "{} is not a valid change command",
                                instruction.empty() ? change : instruction);
    }
    if (args.empty() && instruction != "USER" && instruction != "WORKDIR") {
        return base::make_error(Code::kInvalidArgument, "{} requires an argument", instruction);
    }
    return {};
}

// The client's Config over `config`: set fields win; Env and Labels by key, ports and volumes
// added.
Result<void> merge_config(Json& config, const std::string& text) {
    GROVE_ASSIGN_OR_RETURN(const Json given, base::parse_json(text));
    if (given.is_null()) {
        return {};
    }
    if (!given.is_object()) {
        return base::make_error(Code::kInvalidArgument, "the commit's config is not an object");
    }
    for (const auto& [key, value] : given.items()) {
        if (value.is_null() || (value.is_string() && value.get<std::string>().empty()) ||
            (value.is_array() && value.empty()) || (value.is_object() && value.empty())) {
            continue;
        }
        if (key == "Env" && value.is_array()) {
            for (const auto& item : value) {
                const std::string entry = item.is_string() ? item.get<std::string>() : "";
                const size_t eq = entry.find('=');
                set_env(config, entry.substr(0, eq),
                        eq == std::string::npos ? "" : entry.substr(eq + 1));
            }
        } else if ((key == "Labels" || key == "ExposedPorts" || key == "Volumes") &&
                   value.is_object()) {
            Json& into = config[key];
            if (!into.is_object()) {
                into = Json::object();
            }
            into.update(value);
        } else {
            config[key] = value;
        }
    }
    return {};
}

Result<std::string> build(const std::string& image_config_json,
                          const Container& c,
                          const CommitSpec& spec,
                          const std::string& created) {
    GROVE_ASSIGN_OR_RETURN(Json image, base::parse_json(image_config_json));
    if (!image.is_object()) {
        return base::make_error(Code::kDataLoss, "the image config is not a JSON object");
    }
    Json& config = image["config"];
    if (!config.is_object()) {
        config = Json::object();
    }
    config["Cmd"] = c.cmd.empty() ? Json(nullptr) : Json(c.cmd);
    config["Entrypoint"] = c.entrypoint.empty() ? Json(nullptr) : Json(c.entrypoint);
    config["Env"] = c.config.env;
    config["WorkingDir"] = c.config.cwd == "/" ? std::string() : c.config.cwd;
    config["User"] = c.user;
    config["Labels"] = c.labels;
    if (c.stop_signal != SIGTERM && c.stop_signal > 0) {
        config["StopSignal"] = std::string("SIG") + sigabbrev_np(c.stop_signal);
    }
    if (spec.config_json) {
        GROVE_TRY(merge_config(config, *spec.config_json));
    }
    for (const auto& change : spec.changes) {
        GROVE_TRY(base::with_context(apply_change(config, change), "change '{}'", change));
    }
    image["created"] = created;
    if (!spec.author.empty()) {
        image["author"] = spec.author;
    }
    if (!spec.comment.empty()) {
        image["comment"] = spec.comment;
    }
    return base::dump_json(image);
}

}  // namespace

Result<std::string> commit_config(const std::string& image_config_json,
                                  const Container& container,
                                  const CommitSpec& spec,
                                  const std::string& created) {
    try {
        return build(image_config_json, container, spec, created);
    } catch (const base::Json::exception& e) {
        return base::make_error(Code::kInvalidArgument, "commit config: {}", e.what());
    }
}

}  // namespace grove::containers
