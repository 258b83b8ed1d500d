// The CRI v1 message types (generated from cri/api.proto), under a short alias:
//   knode::cri::v1::PodSandboxConfig, v1::ContainerStatus, ...
// Include this where messages are built or read; cri/runtime.h only forward-declares them.
#pragma once

#include "api.pb.h"  // IWYU pragma: export

namespace knode::cri {
namespace v1 = ::runtime::v1;
}  // namespace knode::cri
