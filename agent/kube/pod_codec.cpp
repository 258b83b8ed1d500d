// The Pod's JSON shape: one field list per type, used for decoding and encoding.
#include "agent/kube/meta_codec.h"
#include "agent/kube/pod.h"

namespace knode::kube {

#define KUBE_DESCRIBE(Type) \
  template <class V, class T> requires Is<T, Type> void visit_fields(V& v, T& o)

// ---------------------------------------------------------------- volumes
KUBE_DESCRIBE(KeyToPath) { v("key", o.key, kAlways)("path", o.path, kAlways)("mode", o.mode); }
KUBE_DESCRIBE(HostPathVolumeSource) { v("path", o.path, kAlways)("type", o.type); }
KUBE_DESCRIBE(EmptyDirVolumeSource) { v("medium", o.medium)("sizeLimit", o.size_limit); }
KUBE_DESCRIBE(ConfigMapVolumeSource) {
  v("name", o.name)("items", o.items)("defaultMode", o.default_mode)("optional", o.optional);
}
KUBE_DESCRIBE(SecretVolumeSource) {
  v("secretName", o.secret_name)("items", o.items)("defaultMode", o.default_mode)("optional", o.optional);
}
KUBE_DESCRIBE(ObjectFieldSelector) { v("apiVersion", o.api_version)("fieldPath", o.field_path, kAlways); }
KUBE_DESCRIBE(ResourceFieldSelector) {
  v("containerName", o.container_name)("resource", o.resource, kAlways)("divisor", o.divisor);
}
KUBE_DESCRIBE(DownwardAPIVolumeFile) {
  v("path", o.path, kAlways)("fieldRef", o.field_ref)("resourceFieldRef", o.resource_field_ref)("mode", o.mode);
}
KUBE_DESCRIBE(DownwardAPIVolumeSource) { v("items", o.items)("defaultMode", o.default_mode); }
KUBE_DESCRIBE(SecretProjection) { v("name", o.name)("items", o.items)("optional", o.optional); }
KUBE_DESCRIBE(ConfigMapProjection) { v("name", o.name)("items", o.items)("optional", o.optional); }
KUBE_DESCRIBE(DownwardAPIProjection) { v("items", o.items); }
KUBE_DESCRIBE(ServiceAccountTokenProjection) {
  v("audience", o.audience)("expirationSeconds", o.expiration_seconds)("path", o.path, kAlways);
}
KUBE_DESCRIBE(VolumeProjection) {
  v("secret", o.secret)("downwardAPI", o.downward_api)("configMap", o.config_map)
   ("serviceAccountToken", o.service_account_token).rest(o.other);
}
KUBE_DESCRIBE(ProjectedVolumeSource) { v("sources", o.sources)("defaultMode", o.default_mode); }
KUBE_DESCRIBE(Volume) {
  v("name", o.name, kAlways)("hostPath", o.host_path)("emptyDir", o.empty_dir)("secret", o.secret)
   ("configMap", o.config_map)("downwardAPI", o.downward_api)("projected", o.projected).rest(o.other);
}

// ---------------------------------------------------------------- containers
KUBE_DESCRIBE(ContainerPort) {
  v("name", o.name)("hostPort", o.host_port)("containerPort", o.container_port, kAlways)
   ("protocol", o.protocol)("hostIP", o.host_ip);
}
KUBE_DESCRIBE(LocalObjectReference) { v("name", o.name); }
KUBE_DESCRIBE(ConfigMapEnvSource) { v("name", o.name)("optional", o.optional); }
KUBE_DESCRIBE(EnvFromSource) { v("prefix", o.prefix)("configMapRef", o.config_map_ref)("secretRef", o.secret_ref); }
KUBE_DESCRIBE(KeySelector) { v("name", o.name)("key", o.key, kAlways)("optional", o.optional); }
KUBE_DESCRIBE(EnvVarSource) {
  v("fieldRef", o.field_ref)("resourceFieldRef", o.resource_field_ref)
   ("configMapKeyRef", o.config_map_key_ref)("secretKeyRef", o.secret_key_ref);
}
KUBE_DESCRIBE(EnvVar) { v("name", o.name, kAlways)("value", o.value)("valueFrom", o.value_from); }
KUBE_DESCRIBE(ResourceRequirements) { v("limits", o.limits)("requests", o.requests)("claims", o.claims); }
KUBE_DESCRIBE(ContainerResizePolicy) {
  v("resourceName", o.resource_name, kAlways)("restartPolicy", o.restart_policy, kAlways);
}
KUBE_DESCRIBE(VolumeMount) {
  v("name", o.name, kAlways)("readOnly", o.read_only)("recursiveReadOnly", o.recursive_read_only)
   ("mountPath", o.mount_path, kAlways)("subPath", o.sub_path)("mountPropagation", o.mount_propagation)
   ("subPathExpr", o.sub_path_expr);
}
KUBE_DESCRIBE(VolumeDevice) { v("name", o.name, kAlways)("devicePath", o.device_path, kAlways); }
KUBE_DESCRIBE(ExecAction) { v("command", o.command); }
KUBE_DESCRIBE(HTTPHeader) { v("name", o.name, kAlways)("value", o.value, kAlways); }
KUBE_DESCRIBE(HTTPGetAction) {
  v("path", o.path)("port", o.port, kAlways)("host", o.host)("scheme", o.scheme)("httpHeaders", o.http_headers);
}
KUBE_DESCRIBE(TCPSocketAction) { v("port", o.port, kAlways)("host", o.host); }
KUBE_DESCRIBE(GRPCAction) { v("port", o.port, kAlways)("service", o.service); }
KUBE_DESCRIBE(SleepAction) { v("seconds", o.seconds, kAlways); }
KUBE_DESCRIBE(LifecycleHandler) {
  v("exec", o.exec)("httpGet", o.http_get)("tcpSocket", o.tcp_socket)("sleep", o.sleep);
}
KUBE_DESCRIBE(Lifecycle) { v("postStart", o.post_start)("preStop", o.pre_stop)("stopSignal", o.stop_signal); }
KUBE_DESCRIBE(Probe) {
  v("exec", o.exec)("httpGet", o.http_get)("tcpSocket", o.tcp_socket)("grpc", o.grpc)
   ("initialDelaySeconds", o.initial_delay_seconds)("timeoutSeconds", o.timeout_seconds)
   ("periodSeconds", o.period_seconds)("successThreshold", o.success_threshold)
   ("failureThreshold", o.failure_threshold)("terminationGracePeriodSeconds", o.termination_grace_period_seconds);
}
KUBE_DESCRIBE(Capabilities) { v("add", o.add)("drop", o.drop); }
KUBE_DESCRIBE(SELinuxOptions) { v("user", o.user)("role", o.role)("type", o.type)("level", o.level); }
KUBE_DESCRIBE(SeccompProfile) { v("type", o.type, kAlways)("localhostProfile", o.localhost_profile); }
KUBE_DESCRIBE(SecurityContext) {
  v("capabilities", o.capabilities)("privileged", o.privileged)("seLinuxOptions", o.se_linux_options)
   ("windowsOptions", o.windows_options)("runAsUser", o.run_as_user)("runAsGroup", o.run_as_group)
   ("runAsNonRoot", o.run_as_non_root)("readOnlyRootFilesystem", o.read_only_root_filesystem)
   ("allowPrivilegeEscalation", o.allow_privilege_escalation)("procMount", o.proc_mount)
   ("seccompProfile", o.seccomp_profile)("appArmorProfile", o.app_armor_profile);
}
KUBE_DESCRIBE(Container) {
  v("name", o.name, kAlways)("image", o.image)("command", o.command)("args", o.args)
   ("workingDir", o.working_dir)("ports", o.ports)("envFrom", o.env_from)("env", o.env)
   ("resources", o.resources)("resizePolicy", o.resize_policy)("restartPolicy", o.restart_policy)
   ("volumeMounts", o.volume_mounts)("volumeDevices", o.volume_devices)
   ("livenessProbe", o.liveness_probe)("readinessProbe", o.readiness_probe)("startupProbe", o.startup_probe)
   ("lifecycle", o.lifecycle)("terminationMessagePath", o.termination_message_path)
   ("terminationMessagePolicy", o.termination_message_policy)("imagePullPolicy", o.image_pull_policy)
   ("securityContext", o.security_context)("stdin", o.stdin_)("stdinOnce", o.stdin_once)("tty", o.tty);
}

// ---------------------------------------------------------------- pod spec
KUBE_DESCRIBE(Sysctl) { v("name", o.name, kAlways)("value", o.value, kAlways); }
KUBE_DESCRIBE(PodSecurityContext) {
  v("seLinuxOptions", o.se_linux_options)("windowsOptions", o.windows_options)("runAsUser", o.run_as_user)
   ("runAsGroup", o.run_as_group)("runAsNonRoot", o.run_as_non_root)("supplementalGroups", o.supplemental_groups)
   ("supplementalGroupsPolicy", o.supplemental_groups_policy)("fsGroup", o.fs_group)("sysctls", o.sysctls)
   ("fsGroupChangePolicy", o.fs_group_change_policy)("seccompProfile", o.seccomp_profile)
   ("appArmorProfile", o.app_armor_profile)("seLinuxChangePolicy", o.se_linux_change_policy);
}
KUBE_DESCRIBE(Toleration) {
  v("key", o.key)("operator", o.operator_)("value", o.value)("effect", o.effect)
   ("tolerationSeconds", o.toleration_seconds);
}
KUBE_DESCRIBE(HostAlias) { v("ip", o.ip)("hostnames", o.hostnames); }
KUBE_DESCRIBE(PodDNSConfigOption) { v("name", o.name)("value", o.value); }
KUBE_DESCRIBE(PodDNSConfig) { v("nameservers", o.nameservers)("searches", o.searches)("options", o.options); }
KUBE_DESCRIBE(PodReadinessGate) { v("conditionType", o.condition_type, kAlways); }
KUBE_DESCRIBE(PodOS) { v("name", o.name, kAlways); }
KUBE_DESCRIBE(PodSpec) {
  v("volumes", o.volumes)("initContainers", o.init_containers)("containers", o.containers, kAlways)
   ("ephemeralContainers", o.ephemeral_containers)("restartPolicy", o.restart_policy)
   ("terminationGracePeriodSeconds", o.termination_grace_period_seconds)
   ("activeDeadlineSeconds", o.active_deadline_seconds)("dnsPolicy", o.dns_policy)
   ("nodeSelector", o.node_selector)("serviceAccountName", o.service_account_name)
   ("serviceAccount", o.service_account)("automountServiceAccountToken", o.automount_service_account_token)
   ("nodeName", o.node_name)("hostNetwork", o.host_network)("hostPID", o.host_pid)("hostIPC", o.host_ipc)
   ("shareProcessNamespace", o.share_process_namespace)("securityContext", o.security_context)
   ("imagePullSecrets", o.image_pull_secrets)("hostname", o.hostname)("subdomain", o.subdomain)
   ("affinity", o.affinity)("schedulerName", o.scheduler_name)("tolerations", o.tolerations)
   ("hostAliases", o.host_aliases)("priorityClassName", o.priority_class_name)("priority", o.priority)
   ("dnsConfig", o.dns_config)("readinessGates", o.readiness_gates)("runtimeClassName", o.runtime_class_name)
   ("enableServiceLinks", o.enable_service_links)("preemptionPolicy", o.preemption_policy)
   ("overhead", o.overhead)("topologySpreadConstraints", o.topology_spread_constraints)
   ("setHostnameAsFQDN", o.set_hostname_as_fqdn)("os", o.os)("hostUsers", o.host_users)
   ("schedulingGates", o.scheduling_gates)("resourceClaims", o.resource_claims)("resources", o.resources);
}

// ---------------------------------------------------------------- status
KUBE_DESCRIBE(PodCondition) {
  v("type", o.type, kAlways)("status", o.status, kAlways)("observedGeneration", o.observed_generation)
   ("lastProbeTime", o.last_probe_time)("lastTransitionTime", o.last_transition_time)
   ("reason", o.reason)("message", o.message);
}
KUBE_DESCRIBE(ContainerStateWaiting) { v("reason", o.reason)("message", o.message); }
KUBE_DESCRIBE(ContainerStateRunning) { v("startedAt", o.started_at); }
KUBE_DESCRIBE(ContainerStateTerminated) {
  v("exitCode", o.exit_code, kAlways)("signal", o.signal)("reason", o.reason)("message", o.message)
   ("startedAt", o.started_at)("finishedAt", o.finished_at)("containerID", o.container_id);
}
KUBE_DESCRIBE(ContainerState) { v("waiting", o.waiting)("running", o.running)("terminated", o.terminated); }
KUBE_DESCRIBE(ContainerStatus) {
  v("name", o.name, kAlways)("state", o.state)("lastState", o.last_state)("ready", o.ready, kAlways)
   ("restartCount", o.restart_count, kAlways)("image", o.image, kAlways)("imageID", o.image_id, kAlways)
   ("containerID", o.container_id)("started", o.started);
}
KUBE_DESCRIBE(PodIP) { v("ip", o.ip, kAlways); }
KUBE_DESCRIBE(PodStatus) {
  v("observedGeneration", o.observed_generation)("phase", o.phase)("conditions", o.conditions)
   ("message", o.message)("reason", o.reason)("nominatedNodeName", o.nominated_node_name)
   ("hostIP", o.host_ip)("hostIPs", o.host_ips)("podIP", o.pod_ip)("podIPs", o.pod_ips)
   ("startTime", o.start_time)("initContainerStatuses", o.init_container_statuses)
   ("containerStatuses", o.container_statuses)("qosClass", o.qos_class)
   ("ephemeralContainerStatuses", o.ephemeral_container_statuses)("resize", o.resize);
}
KUBE_DESCRIBE(Pod) {
  v("apiVersion", o.api_version)("kind", o.kind)("metadata", o.metadata)("spec", o.spec)("status", o.status);
}

#undef KUBE_DESCRIBE

// ---------------------------------------------------------------- entry points

namespace {
Result<Pod> decode_pod_value(Result<json::value> root, PodDecodeOptions opts) {
  if (!root.ok()) return root.error().wrap("pod");
  return decode_object<Pod>(*root, DecodeOptions{.kind = "Pod", .api_version = "v1",
                                                 .require_type_meta = opts.require_type_meta});
}
}  // namespace

Result<Pod> decode_pod_json(std::string_view text, PodDecodeOptions opts) {
  return decode_pod_value(parse_json(text), opts);
}
Result<Pod> decode_pod_yaml(std::string_view text, PodDecodeOptions opts) {
  return decode_pod_value(yaml_to_json(text), opts);
}
Result<Pod> decode_pod(std::string_view text, PodDecodeOptions opts) {
  return decode_pod_value(parse_document(text), opts);
}

std::string encode_pod_json(const Pod& pod) { return to_json_text(encode_value(pod)); }
std::string encode_container_json(const Container& c) { return to_json_text(encode_value(c)); }
std::string encode_container_ports_json(const std::vector<ContainerPort>& ports) {
  return to_json_text(encode_value(ports));
}
std::string encode_lifecycle_handler_json(const LifecycleHandler& h) { return to_json_text(encode_value(h)); }

}  // namespace knode::kube
