#pragma once

// Shows an import's per-layer progress on stderr: on a terminal, one line per layer redrawn in
// place; otherwise one line when each layer is done, so logs stay readable. The same from an
// import on the local store and one through groved (the client library's ImportProgress).

#include <cstdio>
#include <mutex>
#include <vector>

#include <grove/client.hpp>

namespace grove::cli {

class ImportProgress {
public:
    explicit ImportProgress(std::FILE* out);

    // Thread-safe: the importer reports from its worker threads.
    void update(const grove::ImportProgress& progress);

private:
    void redraw();

    std::FILE* out_;
    bool terminal_;
    std::mutex mutex_;
    std::vector<grove::ImportProgress> layers_;
    size_t drawn_ = 0;  // lines drawn by the last redraw
};

}  // namespace grove::cli
