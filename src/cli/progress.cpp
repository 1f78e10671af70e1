#include "cli/progress.hpp"

#include <algorithm>
#include <string_view>
#include <unistd.h>

#include <fmt/format.h>

#include "cli/format.hpp"

namespace grove::cli {
namespace {

std::string_view shown(std::string_view phase) {
    return phase == "cached" ? "already present" : phase;
}

std::string line(const grove::ImportProgress& p) {
    std::string text = fmt::format("layer {}/{} {:.19}  {:<15}", p.layer + 1, p.layers,
                                   p.digest.size() > 7 ? p.digest.substr(7) : "", shown(p.phase));
    if (p.phase == "downloading" && p.total > 0) {
        const size_t width = 24;
        const size_t filled = static_cast<size_t>(width * std::min(p.done, p.total) / p.total);
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

void ImportProgress::update(const grove::ImportProgress& progress) {
    if (progress.finished || progress.layer >= progress.layers) {
        return;  // the end, or nothing to draw
    }
    std::lock_guard lock(mutex_);
    if (layers_.size() < progress.layers) {
        layers_.resize(progress.layers);
        for (size_t i = 0; i < layers_.size(); ++i) {
            layers_[i].layer = i;
            layers_[i].layers = progress.layers;
        }
    }
    const std::string previous = layers_[progress.layer].phase;
    layers_[progress.layer] = progress;
    if (terminal_) {
        redraw();
    } else if (previous != progress.phase &&
               (progress.phase == "cached" || progress.phase == "done")) {
        fmt::print(out_, "{}\n", line(progress));
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
