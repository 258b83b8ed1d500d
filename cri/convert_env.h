// Container environment and `$(VAR)` expansion, as upstream's kubelet builds them
// (makeEnvironmentVariables, third_party/forked/golang/expansion, ExpandContainerCommandAndArgs,
// ExpandContainerVolumeMounts). Pure: ConfigMaps and Secrets come through lookups.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/base/result.h"
#include "agent/kube/pod.h"

namespace knode::cri {

// Replaces $(NAME) with lookup(NAME); "$$" is a literal '$'; an undefined reference, an unclosed
// "$(" and any other "$x" are kept as written.
std::string expand(std::string_view input,
                   const std::function<std::optional<std::string>(std::string_view)>& lookup);
// Looks names up in each map in turn.
std::string expand(std::string_view input, const std::vector<const std::map<std::string, std::string>*>& contexts);

using EnvList = std::vector<std::pair<std::string, std::string>>;

// Returns the data of a ConfigMap or Secret, nullopt when it does not exist, or an error.
using DataLookup = std::function<Result<std::optional<std::map<std::string, std::string>>>(
    std::string_view namespace_, std::string_view name)>;

struct EnvContext {
  std::string pod_ip;
  std::vector<std::string> pod_ips;
  std::vector<std::string> host_ips;
  kube::ResourceList node_allocatable;  // limits default to it for resourceFieldRef
  std::map<std::string, std::string> service_env;  // service link variables, if enabled
  DataLookup config_maps;  // unset: references fail
  DataLookup secrets;
};

// envFrom, then env in order (values expanded against the variables defined so far and the
// service variables; valueFrom resolved), then the service variables not otherwise set. A name
// set twice keeps its first position with the last value.
Result<EnvList> make_environment(const kube::Pod& pod, const kube::Container& container, const EnvContext& ctx);

// fieldRef values: metadata.name/namespace/uid, metadata.labels/annotations (whole or ['key']),
// spec.nodeName, spec.serviceAccountName, status.podIP(s), status.hostIP(s).
Result<std::string> pod_field_value(const kube::Pod& pod, const kube::ObjectFieldSelector& ref, const EnvContext& ctx);
// resourceFieldRef values (limits.* default to node allocatable), rounded up by the divisor.
Result<std::string> resource_field_value(const kube::Pod& pod, const kube::Container& container,
                                         const kube::ResourceFieldSelector& ref,
                                         const kube::ResourceList& node_allocatable);

// Command and args with $(VAR) expanded against the final environment.
std::pair<std::vector<std::string>, std::vector<std::string>> expand_command_and_args(const kube::Container& c,
                                                                                       const EnvList& env);
// subPathExpr expanded; every referenced variable must be set and non-empty.
Result<std::string> expand_sub_path_expr(std::string_view sub_path_expr, const EnvList& env);

// Go's %q rendering of labels/annotations for the downward API: key="value" lines, sorted.
std::string format_map(const std::map<std::string, std::string>& m);

}  // namespace knode::cri
