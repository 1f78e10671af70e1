// grove cp <image>:<path> <local>
// Copies a file or directory out of an image, as `docker cp` does: into <local> when it is an
// existing directory, else to <local>; "-" writes a tar of <path> to stdout. Both come from the
// image's tar of <path> (the client library's Image::archive, so the same against groved): the
// tar is streamed through the layer applier (the same refusal rules as an import) into a
// temporary directory beside the destination, and what it holds is renamed into place.

#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "archive/apply_layer.hpp"
#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "base/unique_fd.hpp"
#include "cli/commands.hpp"
#include "cli/context.hpp"

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
    std::string path(text.substr(split + 1));
    while (path.size() > 1 && path.back() == '/') {
        path.pop_back();
    }
    return Source{std::string(text.substr(0, split)), std::move(path)};
}

// The tar of `path` unpacked under `dir`.
Result<void> extract(const Image& image, const std::string& path, const fs::path& dir) {
    GROVE_ASSIGN_OR_RETURN(auto dir_fd, base::UniqueFd::open(dir.string(), O_RDONLY | O_DIRECTORY));
    GROVE_ASSIGN_OR_RETURN(base::Pipe pipe, base::Pipe::create());
    Result<void> exported;
    {
        std::jthread writer([&] {
            exported = image.archive(path, pipe.write.get());
            pipe.write.reset();  // EOF for the reader, even after a failure
        });
        auto applied = archive::apply_layer(pipe.read.get(), dir_fd.get(), {});
        pipe.read.reset();  // a writer blocked on a full pipe gets EPIPE instead of hanging
        if (!applied) {
            writer.join();
            GROVE_TRY(exported);  // the export's error says more than a cut-short tar
            return std::move(applied).error();
        }
    }
    return exported;
}

Result<void> run(Context& context, const std::string& from, const std::string& to) {
    GROVE_ASSIGN_OR_RETURN(const Source source, parse_source(from));
    GROVE_ASSIGN_OR_RETURN(auto* client, context.client());
    GROVE_ASSIGN_OR_RETURN(const auto image, client->images().use(source.image, true));
    if (to == "-") {
        return image.archive(source.path, STDOUT_FILENO);
    }
    fs::path dest = to;
    std::error_code ec;
    const bool into = fs::is_directory(dest, ec);
    const fs::path beside = into ? dest : dest.parent_path().empty() ? "." : dest.parent_path();
    GROVE_ASSIGN_OR_RETURN(auto tmp, base::TempDir::create(".grove-cp-", beside));
    GROVE_TRY(extract(image, source.path, tmp.path()));
    // The tar names entries by their path in the image: the copy is tmp/<that path>.
    const fs::path copied = tmp.path() / fs::path(source.path).relative_path();
    const auto status = fs::symlink_status(copied, ec);
    if (into) {
        dest /= fs::path(source.path).filename();
    }
    if (fs::is_directory(status)) {
        if (fs::exists(dest, ec)) {
            return base::make_error(Code::kAlreadyExists, "'{}' exists", dest.string());
        }
    } else if (!fs::is_regular_file(status)) {
        return base::make_error(Code::kFailedPrecondition,
                                "'{}' is neither a file nor a directory; copy it with '-' as a tar",
                                source.path);
    }
    if (::rename(copied.c_str(), dest.c_str()) != 0) {
        return base::last_errno_error("move the copy to '{}'", dest.string());
    }
    return {};
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
