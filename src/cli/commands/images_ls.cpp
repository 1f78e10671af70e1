// grove images ls [--tagged] [--prefix P] [--uuid PREFIX] [--kind imported|run]
//                 [--since T] [--until T] [--limit N] [--offset N] [--json]

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

Result<void> run(Context& context, const Options& options) {
    store::ImageFilter filter{.offset = options.offset, .tagged_only = options.tagged};
    if (options.limit > 0) {
        filter.limit = options.limit;
    }
    if (!options.prefix.empty()) {
        filter.tag_prefix = options.prefix;
    }
    if (!options.uuid.empty()) {
        filter.uuid_prefix = options.uuid;
    }
    if (!options.kind.empty()) {
        GROVE_ASSIGN_OR_RETURN(filter.kind, store::image_kind_from_name(options.kind));
    }
    const int64_t now = now_ns();
    if (!options.since.empty()) {
        GROVE_ASSIGN_OR_RETURN(filter.since_ns, base::parse_time_point(options.since, now));
    }
    if (!options.until.empty()) {
        GROVE_ASSIGN_OR_RETURN(filter.until_ns, base::parse_time_point(options.until, now));
    }
    GROVE_ASSIGN_OR_RETURN(auto* store, context.store());
    GROVE_ASSIGN_OR_RETURN(const auto images, store->list(filter));
    if (options.json) {
        base::Json out = base::Json::array();
        for (const auto& image : images) {
            out.push_back(image_json(image));
        }
        fmt::print("{}\n", out.dump(2));
        return {};
    }
    constexpr std::string_view kRow = "{:<36}  {:<30}  {:<8}  {:<16}  {:>9}\n";
    fmt::print(fmt::runtime(kRow), "IMAGE", "TAG", "KIND", "CREATED", "SIZE");
    for (const auto& image : images) {
        fmt::print(fmt::runtime(kRow), image.uuid, image.tag.value_or("-"),
                   store::image_kind_name(image.kind), time_ago(image.created_ns, now),
                   human_size(image.size_logical));
    }
    return {};
}

}  // namespace

void add_images_ls(CLI::App& images, CommandEnv env) {
    auto options = std::make_shared<Options>();
    CLI::App* cmd = images.add_subcommand("ls", "List images, newest first");
    cmd->alias("list");
    cmd->add_flag("--tagged", options->tagged, "Only tagged images");
    cmd->add_option("--prefix", options->prefix, "Only images whose tag starts with this");
    cmd->add_option("--since", options->since, "Created at or after: 15m, 2h, 1w, a date or time");
    cmd->add_option("--until", options->until, "Created before: as --since");
    cmd->add_option("--uuid", options->uuid, "Only images whose UUID starts with this");
    cmd->add_option("--kind", options->kind, "Only imported images, or only run results")
        ->check(CLI::IsMember({"imported", "run"}));
    cmd->add_option("-n,--limit", options->limit, "At most this many images");
    cmd->add_option("--offset", options->offset, "Skip this many images first (paging)");
    cmd->add_flag("--json", options->json, "Print JSON");
    cmd->callback([options, env] { env.exit_code = exit_code_of(run(env.context, *options)); });
}

}  // namespace grove::cli
