// grove images [ls] [--tagged] [--prefix P] [--uuid PREFIX] [--kind imported|run]
//                   [--since T] [--until T] [-n N] [--offset N] [--json]
// Through the client library, so it lists groved's images too (--host). `grove images` alone lists,
// as ConTree's CLI does.

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/time_point.hpp"
#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "cli/format.hpp"

namespace grove::cli {
namespace {

struct Options {
    bool tagged = false;
    std::string prefix;
    std::string uuid;
    std::string kind;
    std::string since;
    std::string until;
    size_t limit = 0;
    size_t offset = 0;
    bool json = false;
};

Clock::time_point from_ns(int64_t ns) {
    return Clock::time_point(
        std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(ns)));
}

Result<void> run(Context& context, const Options& options) {
    ImageListOptions list{.tagged = options.tagged};
    if (!options.prefix.empty()) {
        list.tag_prefix = options.prefix;
    }
    const int64_t now = now_ns();
    if (!options.since.empty()) {
        GROVE_ASSIGN_OR_RETURN(const int64_t since, base::parse_time_point(options.since, now));
        list.since = from_ns(since);
    }
    if (!options.until.empty()) {
        GROVE_ASSIGN_OR_RETURN(const int64_t until, base::parse_time_point(options.until, now));
        list.until = from_ns(until);
    }
    // The UUID prefix, kind and offset narrow the page here, so the server is asked for all.
    const bool narrowed = !options.uuid.empty() || !options.kind.empty() || options.offset > 0;
    if (options.limit > 0 && !narrowed) {
        list.number = options.limit;
    }
    GROVE_ASSIGN_OR_RETURN(auto* client, context.client());
    GROVE_ASSIGN_OR_RETURN(const auto listed, client->images().list(list));
    std::vector<ImageInfo> images;
    for (const auto& image : listed) {
        const auto& info = image.info();
        if (info.uuid.starts_with(options.uuid) &&
            (options.kind.empty() || info.kind == options.kind)) {
            images.push_back(info);
        }
    }
    images.erase(images.begin(),
                 images.begin() + static_cast<ptrdiff_t>(std::min(options.offset, images.size())));
    if (options.limit > 0 && images.size() > options.limit) {
        images.resize(options.limit);
    }
    if (options.json) {
        base::Json out = base::Json::array();
        for (const auto& image : images) {
            out.push_back({{"uuid", image.uuid},
                           {"tag", image.tag ? base::Json(*image.tag) : base::Json()},
                           {"parent", image.parent ? base::Json(*image.parent) : base::Json()},
                           {"kind", image.kind},
                           {"created", rfc3339(to_ns(image.created))},
                           {"size", image.size}});
        }
        fmt::print("{}\n", out.dump(2));
        return {};
    }
    constexpr std::string_view kRow = "{:<36}  {:<30}  {:<8}  {:<16}  {:>9}\n";
    fmt::print(fmt::runtime(kRow), "IMAGE", "TAG", "KIND", "CREATED", "SIZE");
    for (const auto& image : images) {
        fmt::print(fmt::runtime(kRow), image.uuid, image.tag.value_or("-"), image.kind,
                   time_ago(to_ns(image.created), now), human_size(image.size));
    }
    return {};
}

void add_list_flags(CLI::App& cmd, Options& options) {
    cmd.add_flag("--tagged", options.tagged, "Only tagged images");
    cmd.add_option("--prefix", options.prefix, "Only images whose tag starts with this");
    cmd.add_option("--since", options.since, "Created at or after: 15m, 2h, 1w, a date or time");
    cmd.add_option("--until", options.until, "Created before: as --since");
    cmd.add_option("--uuid", options.uuid, "Only images whose UUID starts with this");
    cmd.add_option("--kind", options.kind, "Only imported images, or only run results")
        ->check(CLI::IsMember({"imported", "run"}));
    cmd.add_option("-n,--limit", options.limit, "At most this many images");
    cmd.add_option("--offset", options.offset, "Skip this many images first (paging)");
    cmd.add_flag("--json", options.json, "Print JSON");
}

}  // namespace

void add_images_ls(CLI::App& images, CommandEnv env) {
    auto options = std::make_shared<Options>();
    CLI::App* cmd = images.add_subcommand("ls", "List images, newest first");
    cmd->alias("list");
    add_list_flags(*cmd, *options);
    cmd->callback([options, env] { env.exit_code = exit_code_of(run(env.context, *options)); });

    auto bare = std::make_shared<Options>();
    add_list_flags(images, *bare);
    images.callback([bare, env, &images] {
        if (images.get_subcommands().empty()) {
            env.exit_code = exit_code_of(run(env.context, *bare));
        }
    });
}

}  // namespace grove::cli
