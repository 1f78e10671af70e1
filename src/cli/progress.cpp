#include "cli/progress.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include "cli/format.hpp"

namespace grove::cli {
namespace {

const char* phase_name(image::LayerProgress::Phase phase) {
    switch (phase) {
        case image::LayerProgress::Phase::kCached:
            return "already present";
        case image::LayerProgress::Phase::kDownloading:
            return "downloading";
        case image::LayerProgress::Phase::kUnpacking:
            return "unpacking";
        case image::LayerProgress::Phase::kDone:
            return "done";
    }
    return "";
}

std::string line(const image::LayerProgress& p) {
    std::string text = fmt::format("layer {}/{} {:.19}  {:<15}", p.index + 1, p.count,
                                   p.digest.empty() ? "" : p.digest.substr(7), phase_name(p.phase));
    if (p.phase == image::LayerProgress::Phase::kDownloading && p.total > 0) {
        const size_t width = 24;
        const size_t filled = static_cast<size_t>(width * p.done / p.total);
        text +=
            fmt::format(" [{}{}] {} / {}", std::string(filled, '#'),
                        std::string(width - filled, ' '), human_size(p.done), human_size(p.total));
    } else {
        text += " " + human_size(p.total);
    }
    return text;
}

}  // namespace

ImportProgress::ImportProgress(std::FILE* out)
    : out_(out), terminal_(::isatty(::fileno(out)) == 1) {}

void ImportProgress::update(const image::LayerProgress& progress) {
    std::lock_guard lock(mutex_);
    if (layers_.size() < progress.count) {
        layers_.resize(progress.count);
        for (size_t i = 0; i < layers_.size(); ++i) {
            layers_[i].index = i;
            layers_[i].count = progress.count;
        }
    }
    const auto previous = layers_[progress.index].phase;
    const bool first = layers_[progress.index].digest.empty();
    layers_[progress.index] = progress;
    if (terminal_) {
        redraw();
    } else if (first || previous != progress.phase) {
        if (progress.phase == image::LayerProgress::Phase::kCached ||
            progress.phase == image::LayerProgress::Phase::kDone) {
            fmt::print(out_, "{}\n", line(progress));
        }
    }
}

void ImportProgress::redraw() {
    if (drawn_ > 0) {
        fmt::print(out_, "\x1b[{}F", drawn_);  // back to the first line drawn
    }
    for (const auto& layer : layers_) {
        fmt::print(out_, "\x1b[2K{}\n", layer.digest.empty() ? "" : line(layer));
    }
    drawn_ = layers_.size();
    std::fflush(out_);
}

}  // namespace grove::cli
