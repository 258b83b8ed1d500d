// core/v1 ObjectReference and LocalObjectReference: what an Event is about, a ServiceAccount's
// secrets and image pull secrets.
#pragma once

#include <string>

namespace knode::kube {

struct ObjectReference {
  std::string kind;
  std::string namespace_;
  std::string name;
  std::string uid;
  std::string api_version;
  std::string resource_version;
  std::string field_path;  // "spec.containers{app}"
  bool operator==(const ObjectReference&) const = default;
};

struct LocalObjectReference {
  std::string name;
  bool operator==(const LocalObjectReference&) const = default;
};

}  // namespace knode::kube
