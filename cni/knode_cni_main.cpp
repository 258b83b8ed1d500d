// knode-cni: the CNI plugin entry of knode (see plugin_mode.h), as its own small executable. The knode
// binary answers the same way when invoked as `knode cni plugin`.
#include "cni/plugin_mode.h"

int main() { return knode::cni::plugin_process_main(); }
