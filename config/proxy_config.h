// KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1) as of Kubernetes 1.32: the typed model,
// upstream's defaulting (SetDefaults_KubeProxyConfiguration), its validation, strict-then-lenient
// decoding and YAML encoding with sorted keys.
//
// Pointer fields upstream (`*int32`, `*bool`, `*metav1.Duration`) are std::optional here: null or
// absent means "not set" and defaulting fills them; plain durations are defaulted where upstream
// checks for zero ("0s").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/base/result.h"
#include "config/duration.h"
#include "config/logging_config.h"

namespace knode::config {

inline constexpr std::string_view kKubeProxyConfigAPIVersion = "kubeproxy.config.k8s.io/v1alpha1";
inline constexpr std::string_view kKubeProxyConfigKind = "KubeProxyConfiguration";

// A float32 field (Go's float32), printed as Go prints it.
struct Float32 {
  float v = 0;
};

struct ClientConnectionConfiguration {
  std::string kubeconfig;
  std::string accept_content_types;
  std::string content_type;
  Float32 qps;
  int32_t burst = 0;
};

struct KubeProxyIPTablesConfiguration {
  std::optional<int32_t> masquerade_bit;
  bool masquerade_all = false;
  std::optional<bool> localhost_node_ports;
  Duration sync_period;
  Duration min_sync_period;
};

struct KubeProxyIPVSConfiguration {
  Duration sync_period;
  Duration min_sync_period;
  std::string scheduler;
  std::vector<std::string> exclude_cidrs;
  bool strict_arp = false;
  Duration tcp_timeout;
  Duration tcp_fin_timeout;
  Duration udp_timeout;
};

struct KubeProxyNFTablesConfiguration {
  std::optional<int32_t> masquerade_bit;
  bool masquerade_all = false;
  Duration sync_period;
  Duration min_sync_period;
};

struct KubeProxyConntrackConfiguration {
  std::optional<int32_t> max_per_core;
  std::optional<int32_t> min;
  std::optional<Duration> tcp_established_timeout;
  std::optional<Duration> tcp_close_wait_timeout;
  bool tcp_be_liberal = false;
  Duration udp_timeout;
  Duration udp_stream_timeout;
};

// Accepted and printed; unused on Linux.
struct KubeProxyWinkernelConfiguration {
  std::string network_name;
  std::string source_vip;
  bool enable_dsr = false;
  std::string root_hns_endpoint_name;
  bool forward_health_check_vip = false;
};

struct DetectLocalConfiguration {
  std::string bridge_interface;
  std::string interface_name_prefix;
};

struct KubeProxyConfiguration {
  std::map<std::string, bool> feature_gates;
  ClientConnectionConfiguration client_connection;
  LoggingConfiguration logging;
  std::string hostname_override;
  std::string bind_address;
  std::string healthz_bind_address;
  std::string metrics_bind_address;
  bool bind_address_hard_fail = false;
  bool enable_profiling = false;
  std::string show_hidden_metrics_for_version;
  std::string mode;  // "", "iptables", "ipvs", "nftables"
  KubeProxyIPTablesConfiguration iptables;
  KubeProxyIPVSConfiguration ipvs;
  KubeProxyNFTablesConfiguration nftables;
  KubeProxyWinkernelConfiguration winkernel;
  std::string detect_local_mode;  // "", "ClusterCIDR", "NodeCIDR", "BridgeInterface", "InterfaceNamePrefix"
  DetectLocalConfiguration detect_local;
  std::string cluster_cidr;  // one CIDR or a comma-separated dual-stack pair
  std::vector<std::string> node_port_addresses;  // CIDRs, or the single keyword "primary"
  std::optional<int32_t> oom_score_adj;
  KubeProxyConntrackConfiguration conntrack;
  Duration config_sync_period;
  std::string port_range;  // unused upstream since the userspace proxy was removed
  bool windows_run_as_service = false;

  // What the proxier of the selected mode uses, as upstream's internal configuration resolves it:
  // "ipvs" → the ipvs section, "nftables" → the nftables section, otherwise the iptables section.
  Duration sync_period() const;
  Duration min_sync_period() const;
  bool masquerade_all() const;
  int32_t masquerade_bit() const;
};

// SetDefaults_KubeProxyConfiguration (plus the recommended logging configuration).
void set_proxy_defaults(KubeProxyConfiguration& c);
// What kube-proxy does on Linux before validating: mode "" → "iptables", detectLocalMode "" →
// "ClusterCIDR", nftables mode without nodePortAddresses → ["primary"].
void apply_proxy_platform_defaults(KubeProxyConfiguration& c);
// upstream's AppendPortIfNeeded: "1.2.3.4" → "1.2.3.4:port", "::1" → "[::1]:port"; anything else
// (already host:port, or not an IP) unchanged.
std::string append_port_if_needed(const std::string& addr, int32_t port);

// Validation as upstream's validation.Validate. The error is one line: `<file>: <field>: Invalid
// value: "<value>": <reason>` (the first problem found; the rest follow after "; ").
Status validate_proxy_config(const KubeProxyConfiguration& c, std::string_view file);

struct DecodedProxyConfig {
  KubeProxyConfiguration config;        // defaulted
  std::vector<std::string> warnings;    // e.g. lenient decoding because of unknown fields
};

// Decodes a YAML or JSON document: apiVersion/kind must match; unknown or duplicate fields are
// accepted with a warning (upstream's lenient fallback); malformed values are errors naming the
// file and field path. Defaults are applied; validation is not.
Result<DecodedProxyConfig> decode_proxy_config(std::string_view text, std::string_view file);
Result<DecodedProxyConfig> load_proxy_config_file(const std::string& path);

// The configuration as YAML with apiVersion and kind, keys sorted as upstream prints them.
std::string encode_proxy_config(const KubeProxyConfiguration& c);

}  // namespace knode::config
