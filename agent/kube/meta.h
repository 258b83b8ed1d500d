// Shared object-model pieces (k8s.io/apimachinery meta/v1 and util/intstr): ObjectMeta, TypeMeta,
// IntOrString, and RawJson for parts the agent holds without interpreting.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace knode::kube {

// A JSON value kept as compact JSON text, re-emitted unchanged on encode (affinity, unknown volume
// sources, ephemeral containers, ...). Empty text means "absent".
struct RawJson {
  std::string text;
  bool empty() const { return text.empty(); }
  bool operator==(const RawJson&) const = default;
};

// util/intstr.IntOrString: a port number or a port name.
struct IntOrString {
  enum class Type { Int, String };
  Type type = Type::Int;
  int32_t int_val = 0;
  std::string str_val;

  static IntOrString of(int32_t v) { return IntOrString{Type::Int, v, {}}; }
  static IntOrString of(std::string s) { return IntOrString{Type::String, 0, std::move(s)}; }
  bool is_int() const { return type == Type::Int; }
  std::string to_string() const { return is_int() ? std::to_string(int_val) : str_val; }
  bool operator==(const IntOrString&) const = default;
};

// meta/v1 Time / MicroTime as written on the wire (RFC 3339). Kept as text: the agent compares and
// re-emits it; conversion helpers live with the code that needs clocks.
using Time = std::string;

struct OwnerReference {
  std::string api_version;
  std::string kind;
  std::string name;
  std::string uid;
  std::optional<bool> controller;
  std::optional<bool> block_owner_deletion;
  bool operator==(const OwnerReference&) const = default;
};

struct ObjectMeta {
  std::string name;
  std::string generate_name;
  std::string namespace_;
  std::string uid;
  std::string resource_version;
  int64_t generation = 0;
  Time creation_timestamp;
  std::optional<Time> deletion_timestamp;
  std::optional<int64_t> deletion_grace_period_seconds;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::vector<OwnerReference> owner_references;
  std::vector<std::string> finalizers;
  bool operator==(const ObjectMeta&) const = default;
};

// "namespace/name" (or "name" for cluster-scoped objects), as upstream's klog.KObj prints it.
inline std::string object_ref(const ObjectMeta& m) {
  return m.namespace_.empty() ? m.name : m.namespace_ + "/" + m.name;
}

}  // namespace knode::kube
