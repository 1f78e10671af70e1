#include "inspect/walk.hpp"

#include <sys/stat.h>
#include <vector>

namespace grove::inspect {

Result<Node> child_node(const LayerStack& stack, const Node& dir, const DirEntry& entry) {
    if (S_ISDIR(entry.st.st_mode)) {
        return stack.child(dir, entry.name);
    }
    return Node{
        dir.path == "/" ? "/" + entry.name : dir.path + "/" + entry.name, entry.st, {entry.layer}};
}

Result<void> walk(const LayerStack& stack, const Node& start, const WalkVisitor& visit) {
    // Nodes still to visit, the next one at the back: a directory's entries are pushed in
    // reverse so that they come out in name order, before the directory's later siblings.
    std::vector<Node> pending{start};
    while (!pending.empty()) {
        const Node node = std::move(pending.back());
        pending.pop_back();
        GROVE_ASSIGN_OR_RETURN(const WalkControl control, visit(node));
        if (control == WalkControl::kStop) {
            return {};
        }
        if (!S_ISDIR(node.st.st_mode)) {
            continue;
        }
        GROVE_ASSIGN_OR_RETURN(const auto entries, stack.list(node));
        for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
            GROVE_ASSIGN_OR_RETURN(Node child, child_node(stack, node, *it));
            pending.push_back(std::move(child));
        }
    }
    return {};
}

}  // namespace grove::inspect
