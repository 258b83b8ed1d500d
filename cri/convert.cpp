#include "cri/convert.h"

#include <fmt/format.h>

#include <set>

// The deprecated apparmor_profile string is still sent, as upstream does, for older runtimes.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace knode::cri {
namespace rt = runtime::v1;

std::string pod_log_directory(std::string_view root, const kube::Pod& pod) {
  std::string dir(root);
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return fmt::format("{}/{}_{}_{}", dir, pod.metadata.namespace_, pod.metadata.name, pod.metadata.uid);
}

std::string container_log_path(std::string_view container, uint32_t restart_count) {
  return fmt::format("{}/{}.log", container, restart_count);
}

namespace {

// Go's encoding/json string encoding (HTML-safe).
std::string go_json_string(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char ch = static_cast<unsigned char>(s[i]);
    switch (ch) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '<': out += "\\u003c"; continue;
      case '>': out += "\\u003e"; continue;
      case '&': out += "\\u0026"; continue;
      default: break;
    }
    if (ch < 0x20) {
      out += fmt::format("\\u{:04x}", ch);
    } else if (ch == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
               (static_cast<unsigned char>(s[i + 2]) & 0xFE) == 0xA8) {
      out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += static_cast<char>(ch);
    }
  }
  return out + "\"";
}

}  // namespace

uint64_t hash_container(const kube::Container& c) {
  // json.Marshal(map[string]string{"name", "image"}) sorts keys; DeepHashObject prints the byte
  // slice with spew's "%#v": ([]uint8)[b0 b1 ...].
  std::string json = "{\"image\":" + go_json_string(c.image) + ",\"name\":" + go_json_string(c.name) + "}";
  std::string printed = "([]uint8)[";
  for (size_t i = 0; i < json.size(); ++i) {
    if (i) printed += ' ';
    printed += std::to_string(static_cast<unsigned char>(json[i]));
  }
  printed += ']';
  uint32_t h = 2166136261u;
  for (unsigned char ch : printed) {
    h ^= ch;
    h *= 16777619u;
  }
  return h;
}

std::map<std::string, std::string> pod_labels(const kube::Pod& pod) {
  std::map<std::string, std::string> l = pod.metadata.labels;
  l[std::string(kPodNameLabel)] = pod.metadata.name;
  l[std::string(kPodNamespaceLabel)] = pod.metadata.namespace_;
  l[std::string(kPodUidLabel)] = pod.metadata.uid;
  return l;
}

std::map<std::string, std::string> container_labels(const kube::Pod& pod, const kube::Container& c) {
  return {{std::string(kPodNameLabel), pod.metadata.name},
          {std::string(kPodNamespaceLabel), pod.metadata.namespace_},
          {std::string(kPodUidLabel), pod.metadata.uid},
          {std::string(kContainerNameLabel), c.name}};
}

std::map<std::string, std::string> container_annotations(const kube::Pod& pod, const kube::Container& c,
                                                         uint32_t restart_count) {
  std::map<std::string, std::string> a;
  a[std::string(kContainerHashAnnotation)] = fmt::format("{:x}", hash_container(c));
  a[std::string(kContainerRestartCountAnnotation)] = std::to_string(restart_count);
  a[std::string(kTerminationMessagePathAnnotation)] = c.termination_message_path;
  a[std::string(kTerminationMessagePolicyAnnotation)] = c.termination_message_policy;
  if (pod.metadata.deletion_grace_period_seconds)
    a[std::string(kPodDeletionGracePeriodAnnotation)] = std::to_string(*pod.metadata.deletion_grace_period_seconds);
  if (pod.spec.termination_grace_period_seconds)
    a[std::string(kPodTerminationGracePeriodAnnotation)] = std::to_string(*pod.spec.termination_grace_period_seconds);
  if (c.lifecycle && c.lifecycle->pre_stop)
    a[std::string(kPreStopHandlerAnnotation)] = kube::encode_lifecycle_handler_json(*c.lifecycle->pre_stop);
  if (!c.ports.empty()) a[std::string(kContainerPortsAnnotation)] = kube::encode_container_ports_json(c.ports);
  auto in = [&](const std::vector<kube::Container>& list) {
    for (const auto& x : list) if (x.name == c.name) return true;
    return false;
  };
  if (in(pod.spec.init_containers)) a[std::string(kContainerTypeAnnotation)] = "init";
  else if (in(pod.spec.containers)) a[std::string(kContainerTypeAnnotation)] = "container";
  return a;
}

namespace {

rt::Protocol to_protocol(const std::string& p) {
  if (p == "UDP") return rt::UDP;
  if (p == "SCTP") return rt::SCTP;
  return rt::TCP;
}

bool has_privileged_container(const kube::Pod& pod) {
  bool any = false;
  kube::for_each_container(pod.spec, [&](const kube::Container& c) {
    if (c.security_context && c.security_context->privileged.value_or(false)) any = true;
  });
  return any;
}

}  // namespace

std::vector<rt::PortMapping> port_mappings(const kube::Pod& pod) {
  std::vector<rt::PortMapping> out;
  for (const auto& c : pod.spec.containers) {
    std::set<std::string> names;
    for (const auto& p : c.ports) {
      std::string family = p.host_ip.empty() ? "any" : (p.host_ip.find(':') != std::string::npos ? "v6" : "v4");
      std::string name = p.name.empty()
                             ? fmt::format("{}-{}-{}:{}:{}", family, p.protocol, p.host_ip, p.container_port, p.host_port)
                             : p.name;
      if (!names.insert(name).second) continue;  // a port name used twice in one container
      rt::PortMapping m;
      m.set_protocol(to_protocol(p.protocol));
      m.set_container_port(p.container_port);
      m.set_host_port(p.host_port);
      m.set_host_ip(p.host_ip);
      out.push_back(std::move(m));
    }
  }
  return out;
}

rt::NamespaceOption namespace_options(const kube::Pod& pod) {
  rt::NamespaceOption o;
  o.set_network(pod.spec.host_network ? rt::NODE : rt::POD);
  o.set_ipc(pod.spec.host_ipc ? rt::NODE : rt::POD);
  if (pod.spec.host_pid) o.set_pid(rt::NODE);
  else if (pod.spec.share_process_namespace.value_or(false)) o.set_pid(rt::POD);
  else o.set_pid(rt::CONTAINER);
  return o;
}

namespace {

void fill_resources(rt::LinuxContainerResources* out, const LinuxResources& r) {
  out->set_cpu_period(r.cpu_period);
  out->set_cpu_quota(r.cpu_quota);
  out->set_cpu_shares(r.cpu_shares);
  out->set_memory_limit_in_bytes(r.memory_limit_in_bytes);
  out->set_oom_score_adj(r.oom_score_adj);
  out->set_memory_swap_limit_in_bytes(r.memory_swap_limit_in_bytes);
  for (const auto& [size, limit] : r.hugepage_limits) {
    auto* h = out->add_hugepage_limits();
    h->set_page_size(size);
    h->set_limit(limit);
  }
  for (const auto& [k, v] : r.unified) (*out->mutable_unified())[k] = v;
}

void fill_selinux(rt::SELinuxOption* out, const kube::SELinuxOptions& in) {
  out->set_user(in.user);
  out->set_role(in.role);
  out->set_type(in.type);
  out->set_level(in.level);
}

Result<rt::SupplementalGroupsPolicy> groups_policy(const std::string& p) {
  if (p == "Merge") return rt::Merge;
  if (p == "Strict") return rt::Strict;
  return Error(fmt::format("unsupported supplementalGroupsPolicy: {}", p));
}

}  // namespace

Result<rt::PodSandboxConfig> make_sandbox_config(const kube::Pod& pod, uint32_t attempt, const NodeSettings& node) {
  rt::PodSandboxConfig cfg;
  auto* md = cfg.mutable_metadata();
  md->set_name(pod.metadata.name);
  md->set_namespace_(pod.metadata.namespace_);
  md->set_uid(pod.metadata.uid);
  md->set_attempt(attempt);
  for (const auto& [k, v] : pod_labels(pod)) (*cfg.mutable_labels())[k] = v;
  for (const auto& [k, v] : pod.metadata.annotations) (*cfg.mutable_annotations())[k] = v;

  auto dns = pod_dns_config(pod, node.dns);
  if (!dns.ok()) return dns.error();
  auto* d = cfg.mutable_dns_config();
  for (const auto& s : dns->servers) d->add_servers(s);
  for (const auto& s : dns->searches) d->add_searches(s);
  for (const auto& s : dns->options) d->add_options(s);

  if (!pod.spec.host_network) {
    auto host = sandbox_hostname(pod, node.dns.cluster_domain);
    if (!host.ok()) return host.error();
    cfg.set_hostname(*host);
  }
  cfg.set_log_directory(pod_log_directory(node.pod_logs_dir, pod));
  for (auto& m : port_mappings(pod)) *cfg.add_port_mappings() = std::move(m);

  auto* lc = cfg.mutable_linux();
  lc->set_cgroup_parent(pod_cgroup_parent(pod, node.cgroups));
  auto* sc = lc->mutable_security_context();
  sc->set_privileged(has_privileged_container(pod));
  // The sandbox always runs with the runtime's default seccomp profile (upstream #84623).
  sc->mutable_seccomp()->set_profile_type(rt::SecurityProfile::RuntimeDefault);
  if (const auto& psc = pod.spec.security_context) {
    for (const auto& s : psc->sysctls) (*lc->mutable_sysctls())[s.name] = s.value;
    if (psc->run_as_user) sc->mutable_run_as_user()->set_value(*psc->run_as_user);
    if (psc->run_as_group) sc->mutable_run_as_group()->set_value(*psc->run_as_group);
    *sc->mutable_namespace_options() = namespace_options(pod);
    if (psc->fs_group) sc->add_supplemental_groups(*psc->fs_group);
    for (int64_t g : psc->supplemental_groups) sc->add_supplemental_groups(g);
    if (psc->supplemental_groups_policy) {
      auto p = groups_policy(*psc->supplemental_groups_policy);
      if (!p.ok()) return p.error();
      sc->set_supplemental_groups_policy(*p);
    }
    if (psc->se_linux_options) fill_selinux(sc->mutable_selinux_options(), *psc->se_linux_options);
  }
  fill_resources(lc->mutable_resources(), sandbox_resources(pod, node.resources));
  fill_resources(lc->mutable_overhead(), overhead_resources(pod, node.resources));
  return cfg;
}

namespace {

// DetermineEffectiveSecurityContext: the pod's user/group/SELinux settings, overridden by the
// container's fields that are set.
kube::SecurityContext effective_security_context(const kube::Pod& pod, const kube::Container& c) {
  kube::SecurityContext e;
  if (const auto& p = pod.spec.security_context) {
    e.se_linux_options = p->se_linux_options;
    e.windows_options = p->windows_options;
    e.run_as_user = p->run_as_user;
    e.run_as_group = p->run_as_group;
    e.run_as_non_root = p->run_as_non_root;
  }
  if (!c.security_context) return e;
  const auto& s = *c.security_context;
  if (s.se_linux_options) e.se_linux_options = s.se_linux_options;
  if (!s.windows_options.empty()) e.windows_options = s.windows_options;
  if (s.capabilities) e.capabilities = s.capabilities;
  if (s.privileged) e.privileged = s.privileged;
  if (s.run_as_user) e.run_as_user = s.run_as_user;
  if (s.run_as_group) e.run_as_group = s.run_as_group;
  if (s.run_as_non_root) e.run_as_non_root = s.run_as_non_root;
  if (s.read_only_root_filesystem) e.read_only_root_filesystem = s.read_only_root_filesystem;
  if (s.allow_privilege_escalation) e.allow_privilege_escalation = s.allow_privilege_escalation;
  if (s.proc_mount) e.proc_mount = s.proc_mount;
  return e;
}

std::string pod_desc(const kube::Pod& pod) {
  return fmt::format("{}_{}({})", pod.metadata.name, pod.metadata.namespace_, pod.metadata.uid);
}

Status verify_run_as_non_root(const kube::Pod& pod, const kube::Container& c, const kube::SecurityContext& sc,
                              const ContainerInputs& in) {
  if (!sc.run_as_non_root.value_or(false)) return {};
  if (sc.run_as_user) {
    if (*sc.run_as_user == 0)
      return Error(fmt::format("container's runAsUser breaks non-root policy (pod: \"{}\", container: {})", pod_desc(pod), c.name));
    return {};
  }
  if (in.image_uid && *in.image_uid == 0)
    return Error(fmt::format("container has runAsNonRoot and image will run as root (pod: \"{}\", container: {})", pod_desc(pod), c.name));
  if (!in.image_uid && !in.image_username.empty())
    return Error(fmt::format("container has runAsNonRoot and image has non-numeric user ({}), cannot verify user is non-root (pod: \"{}\", container: {})",
                             in.image_username, pod_desc(pod), c.name));
  return {};
}

Result<rt::SecurityProfile> seccomp_from(const kube::SeccompProfile& p, const NodeSettings& node) {
  rt::SecurityProfile out;
  if (p.type == "RuntimeDefault") {
    out.set_profile_type(rt::SecurityProfile::RuntimeDefault);
  } else if (p.type == "Localhost") {
    if (!p.localhost_profile || p.localhost_profile->empty())
      return Error("localhostProfile must be set if seccompProfile type is Localhost.");
    std::string root = node.seccomp_profile_root;
    while (!root.empty() && root.back() == '/') root.pop_back();
    out.set_profile_type(rt::SecurityProfile::Localhost);
    out.set_localhost_ref(root + "/" + *p.localhost_profile);
  } else {
    out.set_profile_type(rt::SecurityProfile::Unconfined);
  }
  return out;
}

}  // namespace

Result<rt::LinuxContainerSecurityContext> container_security_context(const kube::Pod& pod, const kube::Container& c,
                                                                     const ContainerInputs& in,
                                                                     const NodeSettings& node) {
  kube::SecurityContext e = effective_security_context(pod, c);
  if (Status s = verify_run_as_non_root(pod, c, e, in); !s.ok()) return s.error();
  rt::LinuxContainerSecurityContext out;
  if (e.capabilities) {
    // Names go through as written: the runtime adds "CAP_" and understands "ALL", as with upstream.
    auto* caps = out.mutable_capabilities();
    for (const auto& a : e.capabilities->add) caps->add_add_capabilities(a);
    for (const auto& d : e.capabilities->drop) caps->add_drop_capabilities(d);
  }
  if (e.se_linux_options) fill_selinux(out.mutable_selinux_options(), *e.se_linux_options);
  if (e.run_as_user) out.mutable_run_as_user()->set_value(*e.run_as_user);
  if (e.run_as_group) out.mutable_run_as_group()->set_value(*e.run_as_group);
  out.set_privileged(e.privileged.value_or(false));
  out.set_readonly_rootfs(e.read_only_root_filesystem.value_or(false));

  // seccomp: container, then pod, then the node default.
  const kube::SeccompProfile* sp = nullptr;
  if (c.security_context && c.security_context->seccomp_profile) sp = &*c.security_context->seccomp_profile;
  else if (pod.spec.security_context && pod.spec.security_context->seccomp_profile) sp = &*pod.spec.security_context->seccomp_profile;
  if (sp) {
    auto r = seccomp_from(*sp, node);
    if (!r.ok()) return r.error();
    *out.mutable_seccomp() = *r;
  } else {
    out.mutable_seccomp()->set_profile_type(node.seccomp_default ? rt::SecurityProfile::RuntimeDefault
                                                                 : rt::SecurityProfile::Unconfined);
  }

  // AppArmor: container field, pod field, then the beta annotation.
  std::optional<kube::AppArmorProfile> aa;
  if (c.security_context && c.security_context->app_armor_profile) aa = c.security_context->app_armor_profile;
  else if (auto it = pod.metadata.annotations.find("container.apparmor.security.beta.kubernetes.io/" + c.name);
           it != pod.metadata.annotations.end()) {
    const std::string& v = it->second;
    if (v == "runtime/default") aa = kube::AppArmorProfile{"RuntimeDefault", {}};
    else if (v == "unconfined") aa = kube::AppArmorProfile{"Unconfined", {}};
    else if (v.rfind("localhost/", 0) == 0) aa = kube::AppArmorProfile{"Localhost", v.substr(10)};
  } else if (pod.spec.security_context && pod.spec.security_context->app_armor_profile) {
    aa = pod.spec.security_context->app_armor_profile;
  }
  if (aa) {
    auto* p = out.mutable_apparmor();
    if (aa->type == "RuntimeDefault") {
      p->set_profile_type(rt::SecurityProfile::RuntimeDefault);
      out.set_apparmor_profile("runtime/default");
    } else if (aa->type == "Unconfined") {
      p->set_profile_type(rt::SecurityProfile::Unconfined);
      out.set_apparmor_profile("unconfined");
    } else if (aa->type == "Localhost") {
      if (!aa->localhost_profile) return Error("missing localhost apparmor profile name");
      p->set_profile_type(rt::SecurityProfile::Localhost);
      p->set_localhost_ref(*aa->localhost_profile);
      out.set_apparmor_profile("localhost/" + *aa->localhost_profile);
    } else {
      return Error(fmt::format("unknown apparmor profile type: \"{}\"", aa->type));
    }
  }

  if (!e.run_as_user) {
    if (in.image_uid) out.mutable_run_as_user()->set_value(*in.image_uid);
    else if (!in.image_username.empty()) out.set_run_as_username(in.image_username);
  }
  *out.mutable_namespace_options() = namespace_options(pod);
  if (const auto& psc = pod.spec.security_context) {
    if (psc->fs_group) out.add_supplemental_groups(*psc->fs_group);
    for (int64_t g : psc->supplemental_groups) out.add_supplemental_groups(g);
    if (psc->supplemental_groups_policy) {
      auto p = groups_policy(*psc->supplemental_groups_policy);
      if (!p.ok()) return p.error();
      out.set_supplemental_groups_policy(*p);
    }
  }
  for (int64_t g : in.extra_supplemental_groups) out.add_supplemental_groups(g);
  out.set_no_new_privs(e.allow_privilege_escalation.has_value() && !*e.allow_privilege_escalation);
  if (!(e.proc_mount && *e.proc_mount == "Unmasked")) {
    for (const char* p : {"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                          "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
                          "/sys/firmware", "/sys/devices/virtual/powercap"})
      out.add_masked_paths(p);
    for (const char* p : {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"})
      out.add_readonly_paths(p);
  }
  return out;
}

Result<rt::ContainerConfig> make_container_config(const kube::Pod& pod, const kube::Container& c,
                                                  const ContainerInputs& in, const NodeSettings& node) {
  auto env = make_environment(pod, c, in.env);
  if (!env.ok()) return env.error();
  auto sc = container_security_context(pod, c, in, node);
  if (!sc.ok()) return sc.error();
  auto [command, args] = expand_command_and_args(c, *env);

  rt::ContainerConfig cfg;
  cfg.mutable_metadata()->set_name(c.name);
  cfg.mutable_metadata()->set_attempt(in.restart_count);
  cfg.mutable_image()->set_image(in.image_ref.empty() ? c.image : in.image_ref);
  cfg.mutable_image()->set_user_specified_image(c.image);
  for (auto& s : command) cfg.add_command(std::move(s));
  for (auto& s : args) cfg.add_args(std::move(s));
  cfg.set_working_dir(c.working_dir);
  for (const auto& [k, v] : container_labels(pod, c)) (*cfg.mutable_labels())[k] = v;
  for (const auto& [k, v] : container_annotations(pod, c, in.restart_count)) (*cfg.mutable_annotations())[k] = v;
  for (const auto& m : in.mounts) {
    auto* mm = cfg.add_mounts();
    mm->set_container_path(m.container_path);
    mm->set_host_path(m.host_path);
    mm->set_readonly(m.read_only);
    mm->set_selinux_relabel(m.selinux_relabel);
    mm->set_recursive_read_only(m.recursive_read_only);
    if (m.propagation == "HostToContainer") mm->set_propagation(rt::PROPAGATION_HOST_TO_CONTAINER);
    else if (m.propagation == "Bidirectional") mm->set_propagation(rt::PROPAGATION_BIDIRECTIONAL);
    else mm->set_propagation(rt::PROPAGATION_PRIVATE);
  }
  cfg.set_log_path(container_log_path(c.name, in.restart_count));
  cfg.set_stdin(c.stdin_);
  cfg.set_stdin_once(c.stdin_once);
  cfg.set_tty(c.tty);
  for (const auto& [k, v] : *env) {
    auto* kv = cfg.add_envs();
    kv->set_key(k);
    kv->set_value(v);
  }
  auto* lc = cfg.mutable_linux();
  fill_resources(lc->mutable_resources(), container_resources(pod, c, node.resources));
  *lc->mutable_security_context() = std::move(*sc);
  return cfg;
}

}  // namespace knode::cri
