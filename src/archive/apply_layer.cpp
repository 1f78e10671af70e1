#include "archive/apply_layer.hpp"

#include <fcntl.h>

#include "archive/layer_stream.hpp"
#include "archive/layer_writer.hpp"
#include "archive/tar_reader.hpp"
#include "base/unique_fd.hpp"

namespace grove::archive {

Result<ApplyStats> apply_layer(int input_fd, int dirfd, const ApplyOptions& options) {
    // An fd of our own that allows fsetxattr and fchown, whatever `dirfd` was opened with.
    GROVE_ASSIGN_OR_RETURN(base::UniqueFd root,
                           base::UniqueFd::open_at(dirfd, ".", O_RDONLY | O_DIRECTORY));
    GROVE_ASSIGN_OR_RETURN(LayerStream stream, LayerStream::open(input_fd, options.compression));
    GROVE_ASSIGN_OR_RETURN(TarReader reader, TarReader::open(stream, options.detect_compression));
    LayerWriter writer(root.get(), options);
    while (true) {
        GROVE_ASSIGN_OR_RETURN(archive_entry * entry, reader.next());
        if (entry == nullptr) {
            break;
        }
        GROVE_TRY(writer.write(reader, entry));
    }
    GROVE_TRY(writer.finish());
    ApplyStats stats = writer.stats();
    GROVE_ASSIGN_OR_RETURN(stats.diff_id, stream.finish());
    return stats;
}

}  // namespace grove::archive
