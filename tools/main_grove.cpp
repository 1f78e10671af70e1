// grove: the command-line client. Commands land with issue 7; today it answers --help and
// --version (and `grove version`, as docker does).

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/version.hpp"

int main(int argc, char** argv) {
    CLI::App app{"grove: branchable container sandboxes"};
    const std::string version = fmt::format("grove {}", grove::base::version());
    app.set_version_flag("-v,--version", version);
    app.require_subcommand(1);
    app.add_subcommand("version", "Print the version")->callback([&] {
        fmt::print("{}\n", version);
    });
    CLI11_PARSE(app, argc, argv);
    return 0;
}
