// grove cp <image>:<path> <local>
// Copies a file or directory out of an image, as `docker cp` does: into <local> when it is an
// existing directory, else to <local>; "-" writes a tar of <path> to stdout. A directory is
// streamed as a tar through the layer applier (the same refusal rules as an import) into a
// temporary directory beside the destination, then renamed into place.

#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "archive/apply_layer.hpp"
#include "base/error.hpp"
#include "base/scope_exit.hpp"
#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "cli/commands.hpp"
#include "cli/context.hpp"
#include "inspect/file_info.hpp"
#include "inspect/read_file.hpp"
#include "inspect/tar_export.hpp"
#include "inspect/user_db.hpp"

namespace grove::cli {
namespace {

namespace fs = std::filesystem;

struct Source {
    std::string image;
    std::string path;
};

// "busybox:latest:/etc/passwd": the path starts at the first ":/", as tags contain ':' too.
Result<Source> parse_source(std::string_view text) {
    const size_t split = text.find(":/");
    if (split == std::string_view::npos || split == 0) {
        return base::make_error(Code::kInvalidArgument,
                                "'{}': want <image>:<absolute path>, e.g. busybox:/etc/passwd",
                                text);
    }
    return Source{std::string(text.substr(0, split)), std::string(text.substr(split + 1))};
}

Result<void> copy_file(const inspect::LayerStack& files,
                       const inspect::FileInfo& info,
                       const fs::path& dest) {
    GROVE_ASSIGN_OR_RETURN(
        auto out,
        base::UniqueFd::open(dest.string(), O_WRONLY | O_CREAT | O_TRUNC, info.mode & 0777));
    GROVE_TRY(inspect::read_file(files, info.path, [&](std::span<const std::byte> chunk) {
        return base::write_all(
            out.get(), std::string_view(reinterpret_cast<const char*>(chunk.data()), chunk.size()));
    }));
    return {};
}

Result<void> copy_tree(const inspect::LayerStack& files,
                       const inspect::FileInfo& info,
                       const inspect::UserDb& users,
                       const fs::path& dest) {
    GROVE_ASSIGN_OR_RETURN(auto tmp, base::TempDir::create(".grove-cp-", dest.parent_path()));
    GROVE_ASSIGN_OR_RETURN(auto tmp_fd,
                           base::UniqueFd::open(tmp.path().string(), O_RDONLY | O_DIRECTORY));
    GROVE_ASSIGN_OR_RETURN(base::Pipe pipe, base::Pipe::create());
    Result<void> exported;
    {
        std::jthread writer([&] {
            exported = inspect::write_tar(files, info.path, pipe.write.get(), &users);
            pipe.write.reset();  // EOF for the reader, even after a failure
        });
        auto applied = archive::apply_layer(pipe.read.get(), tmp_fd.get(), {});
        pipe.read.reset();  // a writer blocked on a full pipe gets EPIPE instead of hanging
        if (!applied) {
            writer.join();
            return std::move(applied).error();
        }
    }
    GROVE_TRY(exported);
    // The tar names entries by their path in the image: the copy is tmp/<that path>.
    const fs::path copied = tmp.path() / fs::path(info.path).relative_path();
    if (::rename(copied.c_str(), dest.c_str()) != 0) {
        return base::last_errno_error("move the copy to '{}'", dest.string());
    }
    return {};
}

Result<void> run(Context& context, const std::string& from, const std::string& to) {
    GROVE_ASSIGN_OR_RETURN(const Source source, parse_source(from));
    GROVE_ASSIGN_OR_RETURN(const auto files, context.image_files(source.image));
    GROVE_ASSIGN_OR_RETURN(const auto users, inspect::UserDb::load(files));
    if (to == "-") {
        return inspect::write_tar(files, source.path, STDOUT_FILENO, &users);
    }
    GROVE_ASSIGN_OR_RETURN(const auto info,
                           inspect::stat_path(files, source.path, inspect::Follow::kFinal, &users));
    fs::path dest = to;
    std::error_code ec;
    if (fs::is_directory(dest, ec)) {
        dest /= info.name;
    }
    if (info.type == inspect::EntryType::kDirectory) {
        if (fs::exists(dest, ec)) {
            return base::make_error(Code::kAlreadyExists, "'{}' exists", dest.string());
        }
        return copy_tree(files, info, users, dest);
    }
    if (info.type != inspect::EntryType::kFile) {
        return base::make_error(Code::kFailedPrecondition,
                                "'{}' is neither a file nor a directory; copy it with '-' as a tar",
                                source.path);
    }
    return copy_file(files, info, dest);
}

}  // namespace

void add_fs_cp(CLI::App& app, CommandEnv env) {
    auto args = std::make_shared<std::pair<std::string, std::string>>();
    CLI::App* cmd = app.add_subcommand("cp", "Copy a file or directory out of an image");
    cmd->add_option("source", args->first, "<image>:<path>, e.g. busybox:/etc")->required();
    cmd->add_option("dest", args->second, "Local path, or - for a tar on stdout")->required();
    cmd->callback(
        [args, env] { env.exit_code = exit_code_of(run(env.context, args->first, args->second)); });
}

}  // namespace grove::cli
