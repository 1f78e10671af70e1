#pragma once

// The test images built by scripts/build-test-images.py (busybox, layers, multiarch), located by
// $GROVE_TEST_IMAGES, which CTest sets for every test that requires the test_images fixture.
// MANIFEST.json in that directory records every digest the generator produced.

#include <filesystem>
#include <string>

#include <grove/result.hpp>

#include "base/json.hpp"

namespace grove::testing {

class TestImages {
public:
    static Result<TestImages> load();

    const std::filesystem::path& dir() const { return dir_; }
    // The skopeo reference of an image's OCI layout: "oci:<dir>/<name>:latest".
    std::string oci_ref(const std::string& name) const;
    // An image's MANIFEST.json entry: ref, manifest_digest, layers[] (and platforms[]).
    const base::Json& image(const std::string& name) const { return manifest_.at(name); }

private:
    TestImages(std::filesystem::path dir, base::Json manifest)
        : dir_(std::move(dir)), manifest_(std::move(manifest)) {}

    std::filesystem::path dir_;
    base::Json manifest_;
};

}  // namespace grove::testing
