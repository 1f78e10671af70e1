#pragma once

// Walks a tree of the image depth-first, a directory before its entries and entries in name
// order, without recursion (a hostile image may nest directories as deep as the layer
// filesystem allows) and without ever following a symlink: only the start node, which the caller
// resolved, may have been reached through one. Symlinked directories are visited as symlinks,
// so a walk cannot loop.

#include <functional>

#include <grove/result.hpp>

#include "inspect/layer_stack.hpp"

namespace grove::inspect {

enum class WalkControl { kContinue, kStop };

using WalkVisitor = std::function<Result<WalkControl>(const Node& node)>;

// Visits `start` and, when it is a directory, everything below it, until `visit` says kStop.
Result<void> walk(const LayerStack& stack, const Node& start, const WalkVisitor& visit);

// The node of `entry`, listed in directory `dir`. A non-directory lives in exactly the layer it
// was listed from; a directory may merge with lower layers, which LayerStack::child finds.
Result<Node> child_node(const LayerStack& stack, const Node& dir, const DirEntry& entry);

}  // namespace grove::inspect
