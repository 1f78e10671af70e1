#include "image/prune.hpp"

namespace grove::image {

Result<PruneResult> prune_untagged(ImageStore& store) {
    PruneResult result;
    for (bool again = true; again;) {
        again = false;
        GROVE_ASSIGN_OR_RETURN(const auto images, store.list({}));
        for (const auto& image : images) {
            if (image.tag) {
                continue;
            }
            GROVE_ASSIGN_OR_RETURN(const auto children, store.children(image.uuid));
            GROVE_ASSIGN_OR_RETURN(const auto user, store.user_of(image.uuid));
            if (children.empty() && !user) {
                GROVE_TRY(store.remove(image.uuid, {}));
                result.removed.push_back(image.uuid);
                again = true;
            }
        }
    }
    GROVE_ASSIGN_OR_RETURN(result.collected, store.collect_garbage());
    return result;
}

}  // namespace grove::image
