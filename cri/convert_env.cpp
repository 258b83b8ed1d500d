#include "cri/convert_env.h"

#include <fmt/format.h>

#include <cmath>
#include <set>

namespace knode::cri {

std::string expand(std::string_view in, const std::function<std::optional<std::string>(std::string_view)>& lookup) {
  std::string out;
  size_t checkpoint = 0;
  for (size_t cursor = 0; cursor < in.size(); ++cursor) {
    if (in[cursor] != '$' || cursor + 1 >= in.size()) continue;
    out.append(in.substr(checkpoint, cursor - checkpoint));
    std::string_view rest = in.substr(cursor + 1);
    size_t advance = 1;
    if (rest[0] == '$') {
      out += '$';  // "$$" escapes
    } else if (rest[0] == '(') {
      size_t close = rest.find(')', 1);
      if (close == std::string_view::npos) {
        out += "$(";  // unclosed: kept as written
      } else {
        std::string_view name = rest.substr(1, close - 1);
        auto v = lookup(name);
        if (v) out += *v;
        else out += fmt::format("$({})", name);
        advance = close + 1;
      }
    } else {
      out += '$';
      out += rest[0];
    }
    cursor += advance;
    checkpoint = cursor + 1;
  }
  if (checkpoint < in.size()) out.append(in.substr(checkpoint));
  return out;
}

std::string expand(std::string_view input, const std::vector<const std::map<std::string, std::string>*>& contexts) {
  return expand(input, [&](std::string_view name) -> std::optional<std::string> {
    for (const auto* m : contexts) {
      auto it = m->find(std::string(name));
      if (it != m->end()) return it->second;
    }
    return std::nullopt;
  });
}

namespace {

// Go's strconv.Quote for the characters a label or annotation value may hold.
std::string go_quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char ch : s) {
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\v': out += "\\v"; break;
      default:
        if (ch < 0x20 || ch == 0x7f) out += fmt::format("\\x{:02x}", ch);
        else out += static_cast<char>(ch);
    }
  }
  return out + "\"";
}

// An ordered environment: insertion order, later values replace earlier ones in place.
class OrderedEnv {
 public:
  void set(const std::string& k, const std::string& v) {
    auto [it, added] = index_.emplace(k, list_.size());
    if (added) list_.emplace_back(k, v);
    else list_[it->second].second = v;
    values_[k] = v;
  }
  bool has(const std::string& k) const { return values_.count(k) > 0; }
  const std::map<std::string, std::string>& values() const { return values_; }
  EnvList take() { return std::move(list_); }

 private:
  EnvList list_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> values_;
};

int64_t ceil_div(int64_t a, int64_t b) {
  return static_cast<int64_t>(std::ceil(static_cast<double>(a) / static_cast<double>(b)));
}

}  // namespace

std::string format_map(const std::map<std::string, std::string>& m) {
  std::string out;
  for (const auto& [k, v] : m) {
    if (!out.empty()) out += '\n';
    out += k + "=" + go_quote(v);
  }
  return out;
}

Result<std::string> pod_field_value(const kube::Pod& pod, const kube::ObjectFieldSelector& ref, const EnvContext& ctx) {
  const std::string& f = ref.field_path;
  if (!ref.api_version.empty() && ref.api_version != "v1")
    return Error(fmt::format("unsupported pod version: {}", ref.api_version));
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) { if (!s.empty()) s += ','; s += x; }
    return s;
  };
  if (f == "spec.nodeName") return pod.spec.node_name;
  if (f == "spec.serviceAccountName") return pod.spec.service_account_name;
  if (f == "status.hostIP") return ctx.host_ips.empty() ? std::string() : ctx.host_ips[0];
  if (f == "status.hostIPs") return join(ctx.host_ips);
  if (f == "status.podIP") return ctx.pod_ip;
  if (f == "status.podIPs") return join(ctx.pod_ips);
  if (f == "metadata.name") return pod.metadata.name;
  if (f == "metadata.namespace") return pod.metadata.namespace_;
  if (f == "metadata.uid") return pod.metadata.uid;
  if (f == "metadata.labels") return format_map(pod.metadata.labels);
  if (f == "metadata.annotations") return format_map(pod.metadata.annotations);
  // metadata.labels['key'] / metadata.annotations['key']
  if (f.size() > 2 && f.compare(f.size() - 2, 2, "']") == 0) {
    size_t open = f.find("['");
    if (open != std::string::npos && open > 0) {
      std::string path = f.substr(0, open);
      std::string key = f.substr(open + 2, f.size() - open - 4);
      const std::map<std::string, std::string>* m = nullptr;
      if (path == "metadata.labels") m = &pod.metadata.labels;
      if (path == "metadata.annotations") m = &pod.metadata.annotations;
      if (!m) return Error(fmt::format("fieldPath \"{}\" does not support subscript", f));
      auto it = m->find(key);
      return it == m->end() ? std::string() : it->second;
    }
  }
  return Error(fmt::format("field label not supported: {}", f));
}

Result<std::string> resource_field_value(const kube::Pod& pod, const kube::Container& container,
                                         const kube::ResourceFieldSelector& ref,
                                         const kube::ResourceList& node_allocatable) {
  const kube::Container* c = &container;
  if (!ref.container_name.empty()) {
    c = kube::find_container(pod.spec, ref.container_name);
    if (!c) return Error(fmt::format("container {} not found", ref.container_name));
  }
  kube::Quantity divisor = ref.divisor && !ref.divisor->is_zero() ? *ref.divisor : kube::Quantity::from_value(1);
  auto lookup = [&](const kube::ResourceList& list, const std::string& name, bool limit) -> kube::Quantity {
    auto it = list.find(name);
    if (it != list.end() && !(limit && it->second.is_zero())) return it->second;
    if (limit && (name == "cpu" || name == "memory" || name == "ephemeral-storage")) {
      auto a = node_allocatable.find(name);
      if (a != node_allocatable.end()) return a->second;
    }
    return kube::Quantity{};
  };
  const std::string& r = ref.resource;
  bool limits = r.rfind("limits.", 0) == 0;
  bool requests = r.rfind("requests.", 0) == 0;
  if (!limits && !requests) return Error(fmt::format("unsupported container resource : {}", r));
  std::string name = r.substr(limits ? 7 : 9);
  const kube::ResourceList& list = limits ? c->resources.limits : c->resources.requests;
  if (name == "cpu") return std::to_string(ceil_div(lookup(list, name, limits).milli_value(), divisor.milli_value()));
  if (name == "memory" || name == "ephemeral-storage" || name.rfind("hugepages-", 0) == 0)
    return std::to_string(ceil_div(lookup(list, name, limits).value(), divisor.value()));
  return Error(fmt::format("unsupported container resource : {}", r));
}

Result<EnvList> make_environment(const kube::Pod& pod, const kube::Container& container, const EnvContext& ctx) {
  OrderedEnv env;
  std::map<std::string, std::map<std::string, std::string>> config_maps, secrets;
  const std::string& ns = pod.metadata.namespace_;
  // Fetches (once) a ConfigMap or Secret; nullopt+ok when it is missing.
  auto fetch = [&](const DataLookup& lookup, std::map<std::string, std::map<std::string, std::string>>& cache,
                   const char* kind, const std::string& name) -> Result<const std::map<std::string, std::string>*> {
    if (auto it = cache.find(name); it != cache.end()) return &it->second;
    if (!lookup) return Error(fmt::format("couldn't get {} {}/{}, no API client defined", kind, ns, name));
    auto r = lookup(ns, name);
    if (!r.ok()) return r.error();
    if (!r->has_value()) return static_cast<const std::map<std::string, std::string>*>(nullptr);
    return &(cache[name] = std::move(**r));
  };

  for (const auto& from : container.env_from) {
    const kube::ConfigMapEnvSource* src = from.config_map_ref ? &*from.config_map_ref : from.secret_ref ? &*from.secret_ref : nullptr;
    if (!src) continue;
    bool is_cm = from.config_map_ref.has_value();
    const char* kind = is_cm ? "configmap" : "secret";
    auto data = fetch(is_cm ? ctx.config_maps : ctx.secrets, is_cm ? config_maps : secrets, kind, src->name);
    if (!data.ok()) return data.error();
    if (!*data) {
      if (src->optional.value_or(false)) continue;
      return Error(fmt::format("{} \"{}\" not found", is_cm ? "configmaps" : "secrets", src->name));
    }
    for (const auto& [k, v] : **data) env.set(from.prefix + k, v);
  }

  for (const auto& e : container.env) {
    std::string value = e.value;
    if (!value.empty()) {
      value = expand(value, std::vector<const std::map<std::string, std::string>*>{&env.values(), &ctx.service_env});
    } else if (e.value_from) {
      const auto& vf = *e.value_from;
      if (vf.field_ref) {
        auto r = pod_field_value(pod, *vf.field_ref, ctx);
        if (!r.ok()) return r.error();
        value = *r;
      } else if (vf.resource_field_ref) {
        auto r = resource_field_value(pod, container, *vf.resource_field_ref, ctx.node_allocatable);
        if (!r.ok()) return r.error();
        value = *r;
      } else if (vf.config_map_key_ref || vf.secret_key_ref) {
        bool is_cm = vf.config_map_key_ref.has_value();
        const kube::KeySelector& sel = is_cm ? *vf.config_map_key_ref : *vf.secret_key_ref;
        bool optional = sel.optional.value_or(false);
        auto data = fetch(is_cm ? ctx.config_maps : ctx.secrets, is_cm ? config_maps : secrets,
                          is_cm ? "configMap" : "secret", sel.name);
        if (!data.ok()) return data.error();
        if (!*data) {
          if (optional) continue;
          return Error(fmt::format("{} \"{}\" not found", is_cm ? "configmaps" : "secrets", sel.name));
        }
        auto it = (*data)->find(sel.key);
        if (it == (*data)->end()) {
          if (optional) continue;
          return Error(fmt::format("couldn't find key {} in {} {}/{}", sel.key, is_cm ? "ConfigMap" : "Secret", ns, sel.name));
        }
        value = it->second;
      }
    }
    env.set(e.name, value);
  }
  for (const auto& [k, v] : ctx.service_env)
    if (!env.has(k)) env.set(k, v);
  return env.take();
}

std::pair<std::vector<std::string>, std::vector<std::string>> expand_command_and_args(const kube::Container& c,
                                                                                       const EnvList& env) {
  std::map<std::string, std::string> m;
  for (const auto& [k, v] : env) m[k] = v;
  std::vector<const std::map<std::string, std::string>*> ctx{&m};
  std::pair<std::vector<std::string>, std::vector<std::string>> out;
  for (const auto& s : c.command) out.first.push_back(expand(s, ctx));
  for (const auto& s : c.args) out.second.push_back(expand(s, ctx));
  return out;
}

Result<std::string> expand_sub_path_expr(std::string_view expr, const EnvList& env) {
  std::map<std::string, std::string> m;
  for (const auto& [k, v] : env) m[k] = v;
  std::set<std::string> missing;
  std::string out = expand(expr, [&](std::string_view name) -> std::optional<std::string> {
    auto it = m.find(std::string(name));
    if (it == m.end() || it->second.empty()) {
      missing.insert(std::string(name));
      return std::string();
    }
    return it->second;
  });
  if (!missing.empty()) {
    std::string names;
    for (const auto& n : missing) { if (!names.empty()) names += ", "; names += n; }
    return Error("missing value for " + names);
  }
  return out;
}

}  // namespace knode::cri
