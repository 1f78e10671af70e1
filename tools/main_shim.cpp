// grove-shim: the parent of one long-lived container (src/containers/shim/shim.hpp). groved
// starts one per container start; it outlives groved.

#include "containers/shim/shim.hpp"

int main(int argc, char** argv) {
    return grove::containers::shim_main(argc, argv);
}
