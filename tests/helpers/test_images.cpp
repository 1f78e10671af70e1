#include "test_images.hpp"

#include <cstdlib>
#include <fcntl.h>

#include "base/error.hpp"
#include "base/unique_fd.hpp"

namespace grove::testing {

Result<TestImages> TestImages::load() {
    const char* dir = std::getenv("GROVE_TEST_IMAGES");
    if (dir == nullptr || *dir == '\0') {
        return base::make_error(Code::kFailedPrecondition,
                                "GROVE_TEST_IMAGES is not set: run the test through ctest, which "
                                "builds the images (scripts/test-images.sh) and sets it");
    }
    const std::filesystem::path path = std::filesystem::path(dir) / "MANIFEST.json";
    GROVE_ASSIGN_OR_RETURN(auto fd, base::UniqueFd::open(path.string(), O_RDONLY));
    GROVE_ASSIGN_OR_RETURN(std::string text, base::read_all(fd.get()));
    GROVE_ASSIGN_OR_RETURN(base::Json manifest,
                           base::with_context(base::parse_json(text), "'{}'", path.string()));
    return TestImages(dir, std::move(manifest));
}

std::string TestImages::oci_ref(const std::string& name) const {
    return "oci:" + (dir_ / name).string() + ":" + image(name).at("ref").get<std::string>();
}

}  // namespace grove::testing
