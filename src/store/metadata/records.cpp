#include "store/metadata/records.hpp"

#include "base/error.hpp"

namespace grove::store {

std::string_view image_kind_name(ImageKind kind) {
    return kind == ImageKind::kRun ? "run" : "imported";
}

Result<ImageKind> image_kind_from_name(std::string_view name) {
    if (name == "imported") {
        return ImageKind::kImported;
    }
    if (name == "run") {
        return ImageKind::kRun;
    }
    return base::make_error(Code::kDataLoss, "unknown image kind '{}'", name);
}

}  // namespace grove::store
