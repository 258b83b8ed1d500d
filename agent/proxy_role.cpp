// The kube-proxy role's composition root: options → API client → informers (Services,
// EndpointSlices, this Node) feeding the Proxier's change trackers → a bounded-frequency runner
// driving the iptables syncer, plus the healthz, metrics and health-check-node-port servers.
// Wiring only; the logic lives in agent/proxy/ and netrules/.
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <memory>

#include <fmt/format.h>
#include <prometheus/counter.h>

#include "agent/base/log.h"
#include "agent/base/signals.h"
#include "agent/kube/client/event_recorder.h"
#include "agent/kube/client/informer.h"
#include "agent/kube/client/rest_client.h"
#include "agent/kube/codec.h"
#include "agent/kube/endpointslice.h"
#include "agent/kube/event.h"
#include "agent/kube/node.h"
#include "agent/kube/service.h"
#include "agent/proxy/bounded_runner.h"
#include "agent/proxy/cleanup.h"
#include "agent/proxy/http_server.h"
#include "agent/proxy/meta_proxier.h"
#include "agent/proxy/metrics.h"
#include "agent/proxy/node_settings.h"
#include "agent/proxy/proxier.h"
#include "agent/proxy/service_health.h"
#include "agent/role_options.h"
#include "agent/roles.h"
#include "config/kubeconfig.h"
#include "config/proxy_options.h"
#include "netrules/conntrack.h"
#include "netrules/fake_backend.h"
#include "netrules/iptables_backend.h"
#include "netrules/iptables_syncer.h"

namespace knode {
namespace {

using namespace std::chrono_literals;

kube::RestConfig to_client_config(const config::RestConfig& c, const config::ClientConnectionConfiguration& cc) {
  kube::RestConfig r;
  r.server = c.host;
  r.ca_pem = c.ca_data;
  r.ca_file = c.ca_file;
  r.client_cert_pem = c.cert_data;
  r.client_cert_file = c.cert_file;
  r.client_key_pem = c.key_data;
  r.client_key_file = c.key_file;
  r.tls_server_name = c.tls_server_name;
  r.insecure_skip_tls_verify = c.insecure;
  r.bearer_token = c.bearer_token;
  r.bearer_token_file = c.bearer_token_file;
  if (c.exec) {
    r.has_exec = true;
    r.exec.command = c.exec->command;
    r.exec.args = c.exec->args;
    for (const auto& e : c.exec->env) r.exec.env.emplace_back(e.name, e.value);
    if (!c.exec->api_version.empty()) r.exec.api_version = c.exec->api_version;
    r.exec.provide_cluster_info = c.exec->provide_cluster_info;
    if (!c.exec->interactive_mode.empty()) r.exec.interactive_mode = c.exec->interactive_mode;
  }
  r.qps = cc.qps.v;
  r.burst = cc.burst;
  r.user_agent = kube::default_user_agent("kube-proxy");
  return r;
}

std::string os_hostname() {
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

std::string node_hostname(const config::KubeProxyConfiguration& c) {
  std::string h = c.hostname_override.empty() ? os_hostname() : c.hostname_override;
  std::transform(h.begin(), h.end(), h.begin(), [](unsigned char ch) { return std::tolower(ch); });
  return h;
}

template <class T, class Decode>
kube::EventHandler typed_handler(Decode decode, std::function<void(const T*, const T*)> fn) {
  auto conv = [decode](const kube::ObjectPtr& p) -> std::optional<T> {
    if (!p) return std::nullopt;
    auto r = decode(*p);
    if (!r) {
      log::error("Ignoring an object that does not decode", r.error());
      return std::nullopt;
    }
    return std::move(*r);
  };
  return kube::EventHandler{
      .on_add = [conv, fn](const kube::ObjectPtr& o) {
        if (auto v = conv(o)) fn(nullptr, &*v);
      },
      .on_update = [conv, fn](const kube::ObjectPtr& a, const kube::ObjectPtr& b) {
        auto va = conv(a);
        auto vb = conv(b);
        if (vb) fn(va ? &*va : nullptr, &*vb);
      },
      .on_delete = [conv, fn](const kube::ObjectPtr& o) {
        if (auto v = conv(o)) fn(&*v, nullptr);
      },
  };
}

std::string configz_json(const std::string& effective_yaml) {
  auto v = kube::yaml_to_json(effective_yaml);
  if (!v) return "{}";
  if (v->is_object()) {
    v->get_object().erase("apiVersion");
    v->get_object().erase("kind");
  }
  boost::json::object root;
  root["kubeproxy.config.k8s.io"] = std::move(*v);
  return kube::to_json_text(root);
}

proxy::Duration to_duration(config::Duration d) { return std::chrono::nanoseconds(d.ns); }

// The primary IP family as upstream's detectNodeIPs finds it: a non-zero bind address decides;
// else this node's first InternalIP/ExternalIP, asked for with upstream's backoff (1 s doubling,
// 6 tries); IPv4 (upstream assumes 127.0.0.1) when the Node has no address.
netrules::IPFamily detect_primary_family(kube::Client& client, const std::string& bind_address,
                                         const std::string& hostname) {
  if (!bind_address.empty() && bind_address != "0.0.0.0" && bind_address != "::")
    return proxy::primary_family(bind_address, nullptr);
  auto delay = 1s;
  for (int attempt = 0; attempt < 6; ++attempt) {
    if (attempt > 0) {
      std::this_thread::sleep_for(delay);
      delay *= 2;
    }
    auto got = client.get("/api/v1/nodes/" + hostname);
    if (!got) {
      log::error("Failed to retrieve node info", got.error().to_error(), "node", hostname);
      continue;
    }
    auto node = kube::decode_node(*got);
    if (!node) {
      log::error("Failed to retrieve node info", node.error(), "node", hostname);
      continue;
    }
    const auto& addrs = node->status.addresses;
    if (std::any_of(addrs.begin(), addrs.end(), [](const auto& a) { return a.type == "InternalIP" || a.type == "ExternalIP"; })) {
      log::info("Successfully retrieved node IP(s)", "node", hostname);
      return proxy::primary_family("", &*node);
    }
    log::error_msg("Failed to retrieve node IPs: host IP unknown", "node", hostname);
  }
  log::info("Can't determine this node's IP, assuming loopback; if this is incorrect, please set the --bind-address flag");
  return netrules::IPFamily::IPv4;
}

}  // namespace

int proxy_main(const std::vector<std::string>& args) {
  auto loaded = config::load_proxy_options(args);
  if (auto code = handle_role_options(loaded, config::proxy_usage)) return *code;
  config::ProxyOptions& o = *loaded;
  if (!o.write_config_to.empty()) {
    std::ofstream out(o.write_config_to, std::ios::trunc);
    out << o.effective_yaml;
    if (!out) {
      log::error_msg("Failed to write configuration", "path", o.write_config_to);
      return 1;
    }
    log::info("Wrote configuration", "path", o.write_config_to);
    return 0;
  }
  const config::KubeProxyConfiguration& cfg = o.config;
  // One malloc arena: the network thread builds the listed objects, the handler threads decode
  // them and the sync thread renders rules; with an arena per thread, the pages each one frees
  // after the first sync stay scattered (measured at 10k Services: ~40 MiB more RSS).
  mallopt(M_ARENA_MAX, 1);
  log::info("Starting kube-proxy", "version", version_string(), "config", o.config_file, "mode", cfg.mode);

  if (o.cleanup) {
    auto r = proxy::cleanup_all();
    if (r)
      for (const auto& line : *r) log::info("Cleanup", "removed", line);
    if (!r) {
      log::error("Cleanup failed", r.error());
      return 1;
    }
    return 0;
  }
  if (cfg.mode != "iptables") {
    log::error_msg("Proxy mode is not implemented by knode yet; use mode iptables", "mode", cfg.mode);
    return 1;
  }

  // The API client's configuration comes first, as upstream: a proxy that cannot reach the API
  // changes nothing on the host.
  auto rest = config::build_rest_config(o.master, cfg.client_connection.kubeconfig);
  if (!rest) {
    log::error("Failed to load the API client configuration", rest.error());
    return 1;
  }

  // ---- node-level settings and the kernel side
  const std::string hostname = node_hostname(cfg);
  proxy::NodeSettingsConfig node_cfg{  // .family: the primary family, set once the API told it
      .masquerade_bit = cfg.masquerade_bit(),
      .masquerade_all = cfg.masquerade_all(),
      .detect_local_mode = cfg.detect_local_mode,
      .cluster_cidr = cfg.cluster_cidr,
      .bridge_interface = cfg.detect_local.bridge_interface,
      .interface_name_prefix = cfg.detect_local.interface_name_prefix,
      .node_port_addresses = cfg.node_port_addresses,
      .localhost_node_ports = cfg.iptables.localhost_node_ports.value_or(true),
      .conntrack_tcp_be_liberal = cfg.conntrack.tcp_be_liberal,
      .bind_address = cfg.bind_address,
  };
  if (!o.dry_run) {
    netrules::ConntrackSysctls cs{
        .max_per_core = cfg.conntrack.max_per_core.value_or(0),
        .min = cfg.conntrack.min.value_or(0),
        .cpus = static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN))),
    };
    if (cfg.conntrack.tcp_established_timeout && cfg.conntrack.tcp_established_timeout->ns > 0)
      cs.tcp_established_timeout_seconds = static_cast<int>(cfg.conntrack.tcp_established_timeout->ns / 1'000'000'000);
    if (cfg.conntrack.tcp_close_wait_timeout && cfg.conntrack.tcp_close_wait_timeout->ns > 0)
      cs.tcp_close_wait_timeout_seconds = static_cast<int>(cfg.conntrack.tcp_close_wait_timeout->ns / 1'000'000'000);
    if (cfg.conntrack.tcp_be_liberal) cs.tcp_be_liberal = true;
    if (cfg.conntrack.udp_timeout.ns > 0) cs.udp_timeout_seconds = static_cast<int>(cfg.conntrack.udp_timeout.ns / 1'000'000'000);
    if (cfg.conntrack.udp_stream_timeout.ns > 0)
      cs.udp_stream_timeout_seconds = static_cast<int>(cfg.conntrack.udp_stream_timeout.ns / 1'000'000'000);
    auto changed = netrules::apply_conntrack_sysctls(cs);
    if (!changed) log::error("Failed to apply the conntrack settings", changed.error());
    else
      for (const auto& k : *changed) log::info("Set sysctl", "key", k);
  }
  if (o.init_only) {
    log::info("Initialization done (--init-only), exiting");
    return 0;
  }

  // ---- the API
  proxy::ProxyMetrics metrics;
  auto client = kube::make_rest_client(to_client_config(*rest, cfg.client_connection), {.registry = &metrics.registry()});
  if (!client) {
    log::error("Failed to create the API client", client.error());
    return 1;
  }

  // ---- rules: one proxier per IP family the node runs (upstream's dual-stack detection: the
  // primary family's iptables must work; the other family is added when its iptables works too)
  const netrules::IPFamily primary = detect_primary_family(**client, cfg.bind_address, hostname);
  node_cfg.family = primary;
  const netrules::IPFamily secondary =
      primary == netrules::IPFamily::IPv4 ? netrules::IPFamily::IPv6 : netrules::IPFamily::IPv4;
  std::vector<std::unique_ptr<netrules::IptablesRestoreBackend>> real;
  for (auto f : {primary, secondary}) {
    auto mode = netrules::detect_iptables_mode(f);
    real.push_back(std::make_unique<netrules::IptablesRestoreBackend>(netrules::IptablesBackendOptions{.mode = mode, .family = f}));
  }
  const std::vector<netrules::IPFamily> families = proxy::proxy_families(primary, o.dry_run || real[0]->present(), real[1]->present());
  if (families.empty()) {
    log::error_msg("No support for primary IP family", "ipFamily", netrules::family_name(primary));
    return 1;
  }
  if (families.size() == 2) log::info("kube-proxy running in dual-stack mode", "primary ipFamily", netrules::family_name(primary));
  else log::info("kube-proxy running in single-stack mode", "ipFamily", netrules::family_name(primary));
  // Localhost NodePorts are IPv4 only: route_localnet only when an IPv4 proxier runs, as upstream.
  if (!o.dry_run && node_cfg.localhost_node_ports &&
      std::find(families.begin(), families.end(), netrules::IPFamily::IPv4) != families.end())
    if (Status st = netrules::ensure_route_localnet(); !st) log::error("Failed to set route_localnet", st.error());
  std::vector<std::unique_ptr<netrules::Backend>> backends;
  std::vector<std::unique_ptr<netrules::IptablesSyncer>> syncers;
  for (size_t i = 0; i < families.size(); ++i) {
    if (o.dry_run) {
      backends.push_back(std::make_unique<netrules::FakeBackend>());
    } else {
      log::info("Using iptables", "ipFamily", netrules::family_name(families[i]), "flavour",
                netrules::iptables_mode_name(real[i]->options().mode));
      backends.push_back(std::move(real[i]));
    }
    syncers.push_back(std::make_unique<netrules::IptablesSyncer>(*backends.back(), netrules::NodeSettings{.family = families[i]}));
    syncers.back()->set_keep_payload(false);  // streamed to iptables-restore, not kept
  }
  proxy::SystemClock clock;
  const proxy::Duration sync_period = to_duration(cfg.sync_period());
  proxy::ProxierHealth health(clock, 2 * sync_period);
  // Health check node ports listen where NodePorts are accepted (nodePortAddresses), as upstream.
  const kube::Informer* node_informer = nullptr;  // set below, read only by syncs
  proxy::HealthCheckAddresses health_check_addresses;
  if (!node_cfg.node_port_addresses.empty())
    health_check_addresses = [&node_cfg, &node_informer, &families]() -> Result<std::optional<std::vector<std::string>>> {
      std::optional<kube::Node> node;
      if (node_informer)
        for (const auto& obj : node_informer->store().list())
          if (auto n = kube::decode_node(*obj)) node = std::move(*n);
      // Each family's NodePort addresses. A family that means every address while another names
      // IPs adds none (a wildcard listener would take the other family's port too).
      std::vector<std::string> ips;
      bool any_specific = false;
      for (auto f : families) {
        proxy::NodeSettingsConfig c = node_cfg;
        c.family = f;
        c.primary_family = f == families[0];
        auto s = proxy::build_node_settings(c, node ? &*node : nullptr, proxy::local_interface_addresses());
        if (!s) return s.error();
        auto these = proxy::health_check_ips(*s);
        if (!these) continue;
        any_specific = true;
        ips.insert(ips.end(), these->begin(), these->end());
      }
      if (!any_specific) return std::optional<std::vector<std::string>>();
      return std::optional<std::vector<std::string>>(std::move(ips));
    };
  // Events, as upstream's kube-proxy records them (events.k8s.io/v1, controller "kube-proxy").
  std::unique_ptr<kube::EventRecorder> recorder;
  if (!o.dry_run)
    recorder = std::make_unique<kube::EventRecorder>(
        **client, kube::EventRecorderOptions{.reporting_controller = "kube-proxy",
                                             .reporting_instance = "kube-proxy-" + os_hostname()});
  std::unique_ptr<proxy::ServiceHealthServer> service_health;
  if (!o.dry_run)
    service_health = std::make_unique<proxy::ServiceHealthServer>(
        health, std::move(health_check_addresses),
        [&recorder, &hostname](const proxy::NamespacedName& nsn, int port, const std::string& error) {
          kube::ObjectReference svc{.kind = "Service", .namespace_ = nsn.namespace_name, .name = nsn.name,
                                    .uid = nsn.str()};
          recorder->record(svc, nullptr, kube::kEventTypeWarning, "FailedToStartServiceHealthcheck", "Listen",
                           fmt::format("node {} failed to start healthcheck \"{}\" on port {}: {}", hostname,
                                       nsn.str(), port, error));
        });
  netrules::ConntrackCleaner conntrack;
  std::vector<netrules::IptablesSyncer*> syncer_ptrs;
  for (auto& sy : syncers) syncer_ptrs.push_back(sy.get());
  proxy::MetaProxier proxier(
      proxy::ProxierOptions{.hostname = hostname, .node = node_cfg, .sync_period = sync_period}, families, syncer_ptrs,
      proxy::ProxierDeps{.syncer = *syncers[0], .clock = clock, .health = &health, .metrics = &metrics,
                         .service_health = service_health.get(),
                         .conntrack = o.dry_run ? std::function<Status(const netrules::ConntrackCleanup&)>()
                                                : [&conntrack](const netrules::ConntrackCleanup& c) { return conntrack.run(c); }});

  // ---- servers: as upstream, a server that cannot bind is logged and retried every 5 s, or ends
  // the proxy when bindAddressHardFail is set.
  proxy::HttpServer servers;
  struct Bind {
    const char* failure;  // the log message
    const char* serving;
    std::string address;
    proxy::HttpHandler handler;
    bool up = false;
    std::chrono::steady_clock::time_point next_try{};
  };
  std::vector<Bind> binds;
  if (!cfg.healthz_bind_address.empty())
    binds.push_back({"Healthz server failed", "Serving healthz", cfg.healthz_bind_address,
                     [&](const proxy::HttpRequest& r) {
                       if (r.path == "/healthz") {
                         auto resp = health.healthz();
                         (resp.status == 200 ? metrics.healthz_200 : metrics.healthz_503).Increment();
                         return resp;
                       }
                       if (r.path == "/livez") {
                         auto resp = health.livez();
                         (resp.status == 200 ? metrics.livez_200 : metrics.livez_503).Increment();
                         return resp;
                       }
                       return proxy::HttpResponse{404, "text/plain; charset=utf-8", "404 page not found\n", {}};
                     }});
  const std::string configz = configz_json(o.effective_yaml);
  if (!cfg.metrics_bind_address.empty())
    binds.push_back({"Metrics server failed", "Serving metrics", cfg.metrics_bind_address,
                     [&](const proxy::HttpRequest& r) {
                       if (r.path == "/metrics")
                         return proxy::HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", metrics.render(), {}};
                       if (r.path == "/proxyMode") return proxy::HttpResponse{200, "text/plain; charset=utf-8", "iptables", {}};
                       if (r.path == "/configz") return proxy::HttpResponse{200, "application/json", configz, {}};
                       if (r.path == "/healthz" || r.path == "/livez" || r.path == "/readyz")
                         return proxy::HttpResponse{200, "text/plain; charset=utf-8", "ok", {}};
                       return proxy::HttpResponse{404, "text/plain; charset=utf-8", "404 page not found\n", {}};
                     }});
  // Binds what is due; false when a bind failed.
  auto bind_due = [&] {
    bool ok = true;
    const auto now = std::chrono::steady_clock::now();
    for (auto& b : binds) {
      if (b.up || now < b.next_try) continue;
      auto id = servers.listen(b.address, b.handler);
      if (id) {
        b.up = true;
        log::info(b.serving, "address", b.address);
      } else {
        log::error(b.failure, id.error(), "address", b.address);
        b.next_try = now + 5s;
        ok = false;
      }
    }
    return ok;
  };
  if (!o.dry_run) {
    servers.start();
    if (!bind_due() && cfg.bind_address_hard_fail) {
      log::error_msg("Exiting: a server could not bind and bindAddressHardFail is set");
      return 1;
    }
  }

  // ---- informers
  const std::string no_proxy_selector = "!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless";
  // The caches keep only what the handlers read of an update's old object or of a deletion a relist
  // noticed (namespace, name; a slice's service and address type): the trackers hold the rest in
  // their own compact form.
  // Their list pages are parsed off the heap (kube::PageArena): nothing of them is kept whole.
  kube::Informer services(*client, {.reflector = {.name = "services", .path = "/api/v1/services",
                                                  .label_selector = no_proxy_selector, .page_arena = true},
                                    .retain = kube::retain_metadata({})});
  kube::Informer slices(*client, {.reflector = {.name = "endpointslices",
                                                .path = "/apis/discovery.k8s.io/v1/endpointslices",
                                                .label_selector = no_proxy_selector, .page_arena = true},
                                  .retain = kube::retain_metadata({std::string(kube::kServiceNameLabel)}, {"addressType"})});
  kube::Informer nodes(*client, {.reflector = {.name = "nodes", .path = "/api/v1/nodes",
                                               .field_selector = "metadata.name=" + hostname}});
  services.add_handler(typed_handler<kube::Service>(
      [](const boost::json::value& v) { return kube::decode_service(v); },
      std::function<void(const kube::Service*, const kube::Service*)>(
          [&proxier](const kube::Service* a, const kube::Service* b) { proxier.on_service(a, b); })));
  slices.add_handler(typed_handler<kube::EndpointSlice>(
      [](const boost::json::value& v) { return kube::decode_endpoint_slice(v); },
      std::function<void(const kube::EndpointSlice*, const kube::EndpointSlice*)>(
          [&proxier](const kube::EndpointSlice* a, const kube::EndpointSlice* b) { proxier.on_endpoint_slice(a, b); })));
  nodes.add_handler(typed_handler<kube::Node>(
      [](const boost::json::value& v) { return kube::decode_node(v); },
      std::function<void(const kube::Node*, const kube::Node*)>(
          [&proxier](const kube::Node*, const kube::Node* b) { proxier.on_node(b); })));
  node_informer = &nodes;
  services.start();
  slices.start();
  nodes.start();

  auto stop_informers = [&] {
    services.stop();
    slices.stop();
    nodes.stop();
  };
  // Marks each informer as synced once its first list reached the handlers.
  bool svc_synced = false, eps_synced = false, node_synced = false;
  auto poll_synced = [&] {
    if (!svc_synced && services.has_synced()) { svc_synced = true; proxier.services_synced(); }
    if (!eps_synced && slices.has_synced()) { eps_synced = true; proxier.endpoint_slices_synced(); }
    if (!node_synced && nodes.has_synced()) { node_synced = true; proxier.node_synced(); }
  };

  if (o.dry_run) {
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (!proxier.initialized() && std::chrono::steady_clock::now() < deadline) {
      poll_synced();
      std::this_thread::sleep_for(20ms);
    }
    poll_synced();
    Status st = proxier.prepare();
    stop_informers();
    if (!st) {
      log::error("Cannot compute the ruleset", st.error());
      return 1;
    }
    // Dual-stack: the IPv6 payload follows the IPv4 one, after a comment line naming its tool.
    for (size_t i = 0; i < syncers.size(); ++i) {
      if (i > 0)
        std::fprintf(stdout, "# %s: %s\n", netrules::family_name(families[i]),
                     families[i] == netrules::IPFamily::IPv6 ? "ip6tables-restore" : "iptables-restore");
      std::fputs(syncers[i]->full_payload().c_str(), stdout);
    }
    return 0;
  }

  // Upstream's burstSyncs: two syncs may follow each other at once, then one per minSyncPeriod.
  constexpr int kBurstSyncs = 2;
  proxy::BoundedFrequencyRunner runner("sync-runner", [&proxier] { proxier.sync(); },
                                       to_duration(cfg.min_sync_period()), sync_period, kBurstSyncs, clock);
  proxier.set_runner([&runner] { runner.run(); }, [&runner](proxy::Duration d) { runner.retry_after(d); });

  runner.start();
  recorder->record(kube::node_reference(hostname), nullptr, kube::kEventTypeNormal, "Starting", "StartKubeProxy", "");

  int exit_code = 0;
  for (;;) {
    poll_synced();
    bind_due();
    if (auto sig = wait_shutdown_signal(svc_synced && eps_synced && node_synced ? 1000ms : 50ms)) {
      log::info("Received signal, shutting down", "signal", *sig);
      break;
    }
  }
  stop_informers();
  runner.stop();
  servers.stop();
  service_health.reset();
  recorder->stop();
  log::info("kube-proxy stopped");
  return exit_code;
}

}  // namespace knode
