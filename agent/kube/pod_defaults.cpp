// Upstream's API defaulting (pkg/apis/core/v1/defaults.go) and the essential parts of
// ValidatePodCreate (pkg/apis/core/validation), for pods that did not come through an API server.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "agent/kube/pod.h"

namespace knode::kube {

std::string default_image_pull_policy(std::string_view image) {
  // A digest means no tag; the tag is after the last ':' of the last path component.
  if (image.find('@') != std::string_view::npos) {
    std::string_view before = image.substr(0, image.find('@'));
    size_t slash = before.rfind('/');
    size_t colon = before.rfind(':');
    bool tagged = colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash);
    if (!tagged) return "IfNotPresent";
    return before.substr(colon + 1) == "latest" ? "Always" : "IfNotPresent";
  }
  size_t slash = image.rfind('/');
  size_t colon = image.rfind(':');
  if (colon == std::string_view::npos || (slash != std::string_view::npos && colon < slash)) return "Always";
  return image.substr(colon + 1) == "latest" ? "Always" : "IfNotPresent";
}

bool is_sidecar(const Container& c) { return c.restart_policy && *c.restart_policy == "Always"; }

const Container* find_container(const PodSpec& spec, std::string_view name) {
  for (const auto& c : spec.containers) if (c.name == name) return &c;
  for (const auto& c : spec.init_containers) if (c.name == name) return &c;
  return nullptr;
}

// ---------------------------------------------------------------- defaulting

namespace {

void default_probe(std::optional<Probe>& p) {
  if (!p) return;
  if (p->timeout_seconds == 0) p->timeout_seconds = 1;
  if (p->period_seconds == 0) p->period_seconds = 10;
  if (p->success_threshold == 0) p->success_threshold = 1;
  if (p->failure_threshold == 0) p->failure_threshold = 3;
  if (p->http_get) {
    if (p->http_get->path.empty()) p->http_get->path = "/";
    if (p->http_get->scheme.empty()) p->http_get->scheme = "HTTP";
  }
}

void default_handler(std::optional<LifecycleHandler>& h) {
  if (h && h->http_get) {
    if (h->http_get->path.empty()) h->http_get->path = "/";
    if (h->http_get->scheme.empty()) h->http_get->scheme = "HTTP";
  }
}

void default_field_ref(std::optional<ObjectFieldSelector>& f) {
  if (f && f->api_version.empty()) f->api_version = "v1";
}

void default_container(Container& c, bool host_network) {
  if (c.image_pull_policy.empty()) c.image_pull_policy = default_image_pull_policy(c.image);
  if (c.termination_message_path.empty()) c.termination_message_path = "/dev/termination-log";
  if (c.termination_message_policy.empty()) c.termination_message_policy = "File";
  for (auto& p : c.ports) {
    if (p.protocol.empty()) p.protocol = "TCP";
    if (host_network && p.host_port == 0) p.host_port = p.container_port;
  }
  // Requests default to limits for every resource with a limit and no request.
  for (const auto& [name, q] : c.resources.limits) c.resources.requests.try_emplace(name, q);
  default_probe(c.liveness_probe);
  default_probe(c.readiness_probe);
  default_probe(c.startup_probe);
  if (c.lifecycle) {
    default_handler(c.lifecycle->post_start);
    default_handler(c.lifecycle->pre_stop);
  }
  for (auto& e : c.env) if (e.value_from) default_field_ref(e.value_from->field_ref);
}

void default_items(std::vector<DownwardAPIVolumeFile>& items) {
  for (auto& i : items) default_field_ref(i.field_ref);
}

void default_volume(Volume& v) {
  bool any = v.host_path || v.empty_dir || v.secret || v.config_map || v.downward_api || v.projected ||
             !v.other.empty();
  if (!any) v.empty_dir = EmptyDirVolumeSource{};
  constexpr int32_t kDefaultMode = 0644;
  if (v.host_path && !v.host_path->type) v.host_path->type = "";
  if (v.secret && !v.secret->default_mode) v.secret->default_mode = kDefaultMode;
  if (v.config_map && !v.config_map->default_mode) v.config_map->default_mode = kDefaultMode;
  if (v.downward_api) {
    if (!v.downward_api->default_mode) v.downward_api->default_mode = kDefaultMode;
    default_items(v.downward_api->items);
  }
  if (v.projected) {
    if (!v.projected->default_mode) v.projected->default_mode = kDefaultMode;
    for (auto& s : v.projected->sources) {
      if (s.service_account_token && !s.service_account_token->expiration_seconds)
        s.service_account_token->expiration_seconds = 3600;
      if (s.downward_api) default_items(s.downward_api->items);
    }
  }
}

}  // namespace

void apply_defaults(Pod& pod) {
  PodSpec& s = pod.spec;
  if (s.dns_policy.empty()) s.dns_policy = "ClusterFirst";
  if (s.restart_policy.empty()) s.restart_policy = "Always";
  if (!s.security_context) s.security_context = PodSecurityContext{};
  if (!s.termination_grace_period_seconds) s.termination_grace_period_seconds = 30;
  if (s.scheduler_name.empty()) s.scheduler_name = "default-scheduler";
  if (!s.enable_service_links) s.enable_service_links = true;
  if (s.service_account_name.empty() && !s.service_account.empty()) s.service_account_name = s.service_account;
  for (auto& c : s.init_containers) default_container(c, s.host_network);
  for (auto& c : s.containers) default_container(c, s.host_network);
  for (auto& v : s.volumes) default_volume(v);
}

// ---------------------------------------------------------------- validation

namespace {

class Errors {
 public:
  void add(std::string path, std::string what) { list_.push_back(path + ": " + what); }
  void required(const std::string& path, std::string_view detail = {}) {
    add(path, detail.empty() ? "Required value" : fmt::format("Required value: {}", detail));
  }
  void invalid(const std::string& path, std::string_view value_json, std::string_view detail) {
    add(path, fmt::format("Invalid value: {}: {}", value_json, detail));
  }
  void duplicate(const std::string& path, std::string_view value) {
    add(path, fmt::format("Duplicate value: \"{}\"", value));
  }
  void unsupported(const std::string& path, std::string_view value, std::string_view supported) {
    add(path, fmt::format("Unsupported value: \"{}\": supported values: {}", value, supported));
  }
  void not_found(const std::string& path, std::string_view value) {
    add(path, fmt::format("Not found: \"{}\"", value));
  }
  bool empty() const { return list_.empty(); }
  std::string join() const {
    std::string out;
    for (const auto& e : list_) { if (!out.empty()) out += "; "; out += e; }
    return out;
  }

 private:
  std::vector<std::string> list_;
};

std::string quote(std::string_view s) { return fmt::format("\"{}\"", s); }

bool is_dns1123_label(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char ch = s[i];
    bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
    if (!alnum && !(ch == '-' && i != 0 && i + 1 != s.size())) return false;
  }
  return true;
}

bool is_dns1123_subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view part = s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    // Each dot-separated part is a label (the subdomain grammar allows 63+ chars per part only
    // through the overall limit; labels are checked for characters and edges).
    if (part.empty()) return false;
    for (size_t i = 0; i < part.size(); ++i) {
      char ch = part[i];
      bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
      if (!alnum && !(ch == '-' && i != 0 && i + 1 != part.size())) return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// IANA_SVC_NAME: 1-15 chars of [a-z0-9-], at least one letter, no leading/trailing/double '-'.
bool is_port_name(std::string_view s) {
  if (s.empty() || s.size() > 15) return false;
  bool letter = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char ch = s[i];
    if (ch >= 'a' && ch <= 'z') letter = true;
    else if (ch >= '0' && ch <= '9') {}
    else if (ch == '-') {
      if (i == 0 || i + 1 == s.size() || s[i - 1] == '-') return false;
    } else return false;
  }
  return letter;
}

const char* kLabelMsg = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const char* kSubdomainMsg = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";

void validate_probe(Errors& e, const std::optional<Probe>& p, const std::string& path, bool liveness_like) {
  if (!p) return;
  int handlers = (p->exec ? 1 : 0) + (p->http_get ? 1 : 0) + (p->tcp_socket ? 1 : 0) + (p->grpc ? 1 : 0);
  if (handlers == 0) e.required(path, "must specify a handler type");
  else if (handlers > 1) e.add(path, "Forbidden: may not specify more than 1 handler type");
  auto nonneg = [&](int64_t v, const char* f) {
    if (v < 0) e.invalid(path + "." + f, std::to_string(v), "must be greater than or equal to 0");
  };
  nonneg(p->initial_delay_seconds, "initialDelaySeconds");
  nonneg(p->timeout_seconds, "timeoutSeconds");
  nonneg(p->period_seconds, "periodSeconds");
  nonneg(p->success_threshold, "successThreshold");
  nonneg(p->failure_threshold, "failureThreshold");
  if (liveness_like && p->success_threshold != 1 && p->success_threshold != 0)
    e.invalid(path + ".successThreshold", std::to_string(p->success_threshold), "must be 1");
  auto port_ok = [&](const IntOrString& port, const std::string& pp) {
    if (port.is_int()) {
      if (port.int_val < 1 || port.int_val > 65535)
        e.invalid(pp, std::to_string(port.int_val), "must be between 1 and 65535, inclusive");
    } else if (!is_port_name(port.str_val)) {
      e.invalid(pp, quote(port.str_val), "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
    }
  };
  if (p->http_get) port_ok(p->http_get->port, path + ".httpGet.port");
  if (p->tcp_socket) port_ok(p->tcp_socket->port, path + ".tcpSocket.port");
  if (p->exec && p->exec->command.empty()) e.required(path + ".exec.command");
}

void validate_containers(Errors& e, const std::vector<Container>& cs, const std::string& field, bool init,
                         std::set<std::string>& names, const std::set<std::string>& volumes, bool host_network) {
  for (size_t i = 0; i < cs.size(); ++i) {
    const Container& c = cs[i];
    std::string p = fmt::format("spec.{}[{}]", field, i);
    if (c.name.empty()) e.required(p + ".name");
    else if (!is_dns1123_label(c.name)) e.invalid(p + ".name", quote(c.name), kLabelMsg);
    else if (!names.insert(c.name).second) e.duplicate(p + ".name", c.name);
    if (c.image.empty()) e.required(p + ".image");
    else if (c.image.front() == ' ' || c.image.back() == ' ')
      e.invalid(p + ".image", quote(c.image), "must not have leading or trailing whitespace");
    std::set<std::string> port_names;
    for (size_t j = 0; j < c.ports.size(); ++j) {
      const ContainerPort& port = c.ports[j];
      std::string pp = fmt::format("{}.ports[{}]", p, j);
      if (!port.name.empty()) {
        if (!is_port_name(port.name))
          e.invalid(pp + ".name", quote(port.name), "must be no more than 15 characters, contain only lowercase alphanumerics and '-', and contain at least one letter");
        else if (!port_names.insert(port.name).second) e.duplicate(pp + ".name", port.name);
      }
      if (port.container_port == 0) e.required(pp + ".containerPort");
      else if (port.container_port < 1 || port.container_port > 65535)
        e.invalid(pp + ".containerPort", std::to_string(port.container_port), "must be between 1 and 65535, inclusive");
      if (port.host_port != 0 && (port.host_port < 1 || port.host_port > 65535))
        e.invalid(pp + ".hostPort", std::to_string(port.host_port), "must be between 1 and 65535, inclusive");
      if (host_network && port.host_port != 0 && port.host_port != port.container_port)
        e.invalid(pp + ".hostPort", std::to_string(port.host_port), "must match `containerPort` when `hostNetwork` is true");
      if (port.protocol.empty()) e.required(pp + ".protocol");
      else if (port.protocol != "TCP" && port.protocol != "UDP" && port.protocol != "SCTP")
        e.unsupported(pp + ".protocol", port.protocol, "\"SCTP\", \"TCP\", \"UDP\"");
    }
    for (size_t j = 0; j < c.env.size(); ++j)
      if (c.env[j].name.empty()) e.required(fmt::format("{}.env[{}].name", p, j));
    std::set<std::string> mount_paths;
    for (size_t j = 0; j < c.volume_mounts.size(); ++j) {
      const VolumeMount& m = c.volume_mounts[j];
      std::string mp = fmt::format("{}.volumeMounts[{}]", p, j);
      if (m.name.empty()) e.required(mp + ".name");
      else if (!volumes.count(m.name)) e.not_found(mp + ".name", m.name);
      if (m.mount_path.empty()) e.required(mp + ".mountPath");
      else if (!mount_paths.insert(m.mount_path).second)
        e.invalid(mp + ".mountPath", quote(m.mount_path), "must be unique");
      if (!m.sub_path.empty() && !m.sub_path_expr.empty())
        e.invalid(mp + ".subPathExpr", quote(m.sub_path_expr), "subPathExpr and subPath are mutually exclusive");
    }
    if (init) {
      if (c.restart_policy && *c.restart_policy != "Always")
        e.unsupported(p + ".restartPolicy", *c.restart_policy, "\"Always\"");
      if (!is_sidecar(c)) {
        if (c.liveness_probe) e.add(p + ".livenessProbe", "Forbidden: may not be set for init containers without restartPolicy=Always");
        if (c.readiness_probe) e.add(p + ".readinessProbe", "Forbidden: may not be set for init containers without restartPolicy=Always");
        if (c.startup_probe) e.add(p + ".startupProbe", "Forbidden: may not be set for init containers without restartPolicy=Always");
      }
    }
    for (const auto& [name, q] : c.resources.limits)
      if (q.negative()) e.invalid(p + ".resources.limits[" + name + "]", quote(q.text()), "must be greater than or equal to 0");
    for (const auto& [name, q] : c.resources.requests) {
      if (q.negative()) e.invalid(p + ".resources.requests[" + name + "]", quote(q.text()), "must be greater than or equal to 0");
      auto lim = c.resources.limits.find(name);
      if (lim != c.resources.limits.end() && q > lim->second)
        e.invalid(p + ".resources.requests", quote(q.text()), fmt::format("must be less than or equal to {} limit of {}", name, lim->second.text()));
    }
    validate_probe(e, c.liveness_probe, p + ".livenessProbe", true);
    validate_probe(e, c.readiness_probe, p + ".readinessProbe", false);
    validate_probe(e, c.startup_probe, p + ".startupProbe", true);
    if (!c.image_pull_policy.empty() && c.image_pull_policy != "Always" && c.image_pull_policy != "IfNotPresent" &&
        c.image_pull_policy != "Never")
      e.unsupported(p + ".imagePullPolicy", c.image_pull_policy, "\"Always\", \"IfNotPresent\", \"Never\"");
    if (!c.termination_message_policy.empty() && c.termination_message_policy != "File" &&
        c.termination_message_policy != "FallbackToLogsOnError")
      e.unsupported(p + ".terminationMessagePolicy", c.termination_message_policy, "\"File\", \"FallbackToLogsOnError\"");
  }
}

}  // namespace

Status validate_pod(const Pod& pod) {
  Errors e;
  const ObjectMeta& m = pod.metadata;
  if (m.name.empty() && m.generate_name.empty()) e.required("metadata.name", "name or generateName is required");
  else if (!m.name.empty() && !is_dns1123_subdomain(m.name)) e.invalid("metadata.name", quote(m.name), kSubdomainMsg);
  if (!m.namespace_.empty() && !is_dns1123_label(m.namespace_)) e.invalid("metadata.namespace", quote(m.namespace_), kLabelMsg);

  const PodSpec& s = pod.spec;
  std::set<std::string> volumes;
  for (size_t i = 0; i < s.volumes.size(); ++i) {
    const Volume& v = s.volumes[i];
    std::string p = fmt::format("spec.volumes[{}]", i);
    if (v.name.empty()) e.required(p + ".name");
    else if (!is_dns1123_label(v.name)) e.invalid(p + ".name", quote(v.name), kLabelMsg);
    else if (!volumes.insert(v.name).second) e.duplicate(p + ".name", v.name);
    int sources = (v.host_path ? 1 : 0) + (v.empty_dir ? 1 : 0) + (v.secret ? 1 : 0) + (v.config_map ? 1 : 0) +
                  (v.downward_api ? 1 : 0) + (v.projected ? 1 : 0) + static_cast<int>(v.other.size());
    if (sources > 1) e.add(p, "Forbidden: may not specify more than 1 volume type");
    if (v.host_path && v.host_path->path.empty()) e.required(p + ".hostPath.path");
  }
  std::set<std::string> names;
  if (s.containers.empty()) e.required("spec.containers");
  validate_containers(e, s.init_containers, "initContainers", true, names, volumes, s.host_network);
  validate_containers(e, s.containers, "containers", false, names, volumes, s.host_network);

  if (!s.restart_policy.empty() && s.restart_policy != "Always" && s.restart_policy != "OnFailure" &&
      s.restart_policy != "Never")
    e.unsupported("spec.restartPolicy", s.restart_policy, "\"Always\", \"Never\", \"OnFailure\"");
  if (!s.dns_policy.empty() && s.dns_policy != "ClusterFirst" && s.dns_policy != "ClusterFirstWithHostNet" &&
      s.dns_policy != "Default" && s.dns_policy != "None")
    e.unsupported("spec.dnsPolicy", s.dns_policy, "\"ClusterFirst\", \"ClusterFirstWithHostNet\", \"Default\", \"None\"");
  if (s.dns_policy == "None" && !s.dns_config)
    e.required("spec.dnsConfig", "must provide `dnsConfig` when `dnsPolicy` is None");
  if (s.dns_config) {
    if (s.dns_config->nameservers.size() > 3)
      e.invalid("spec.dnsConfig.nameservers", std::to_string(s.dns_config->nameservers.size()), "must not have more than 3 nameservers");
    if (s.dns_policy == "None" && s.dns_config->nameservers.empty())
      e.required("spec.dnsConfig.nameservers", "must provide at least one DNS nameserver when `dnsPolicy` is None");
    if (s.dns_config->searches.size() > 32)
      e.invalid("spec.dnsConfig.searches", std::to_string(s.dns_config->searches.size()), "must not have more than 32 search paths");
  }
  if (s.termination_grace_period_seconds && *s.termination_grace_period_seconds < 0)
    e.invalid("spec.terminationGracePeriodSeconds", std::to_string(*s.termination_grace_period_seconds),
              "must be greater than or equal to 0");
  if (s.active_deadline_seconds && *s.active_deadline_seconds < 1)
    e.invalid("spec.activeDeadlineSeconds", std::to_string(*s.active_deadline_seconds), "must be between 1 and 2147483647, inclusive");
  if (!s.hostname.empty() && !is_dns1123_label(s.hostname)) e.invalid("spec.hostname", quote(s.hostname), kLabelMsg);
  if (!s.subdomain.empty() && !is_dns1123_label(s.subdomain)) e.invalid("spec.subdomain", quote(s.subdomain), kLabelMsg);
  if (s.share_process_namespace.value_or(false) && s.host_pid)
    e.invalid("spec.shareProcessNamespace", "true", "ShareProcessNamespace and HostPID cannot both be enabled");

  if (e.empty()) return {};
  std::string label = pod.metadata.name.empty() ? "pod" : fmt::format("pod \"{}\"", object_ref(pod.metadata));
  return Error(label + ": " + e.join());
}

}  // namespace knode::kube
