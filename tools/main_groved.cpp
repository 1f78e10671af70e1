// groved: the grove daemon. Serving the ConTree and Docker APIs lands with issue 5; until then the
// binary parses its flags and reports its version, so packaging and smoke tests have a target.

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/version.hpp"

int main(int argc, char** argv) {
    CLI::App app{"groved: the grove container sandbox daemon"};
    app.set_version_flag("-v,--version", fmt::format("groved {}", grove::base::version()));
    CLI11_PARSE(app, argc, argv);
    fmt::print(stderr, "groved: serving is not implemented yet\n");
    return 1;
}
