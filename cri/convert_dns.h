// A pod's DNS settings and hostname, as upstream's kubelet derives them (pkg/kubelet/network/dns,
// GeneratePodHostNameAndDomain, GetNodenameForKernel). Pure: the caller reads resolv.conf.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/base/result.h"
#include "agent/kube/pod.h"

namespace knode::cri {

struct DnsSettings {
  std::vector<std::string> cluster_dns;  // --cluster-dns
  std::string cluster_domain;            // --cluster-domain
  std::string resolv_conf_path;          // --resolv-conf; "" means "no host DNS"
  std::string resolv_conf;               // the content of resolv_conf_path
  std::vector<std::string> node_ips;     // used when resolv_conf_path is "" (127.0.0.1 / ::1)
};

struct DnsConfig {
  std::vector<std::string> servers;
  std::vector<std::string> searches;
  std::vector<std::string> options;
  bool operator==(const DnsConfig&) const = default;
};

// nameserver, search (the last line wins; "." dropped, trailing dots trimmed) and options lines.
DnsConfig parse_resolv_conf(std::string_view content);

// The DNS configuration for a pod's sandbox, per dnsPolicy:
//  ClusterFirst (not hostNetwork) / ClusterFirstWithHostNet: cluster DNS servers, searches
//    <ns>.svc.<domain> svc.<domain> <domain> + the host's, options ndots:5 — or, with no cluster DNS
//    configured, the host's settings;
//  Default (and ClusterFirst on hostNetwork): the host's resolv.conf;
//  None: only spec.dnsConfig.
// spec.dnsConfig is merged on top; then at most 3 servers, 32 searches of at most 253 characters
// and 2048 characters in all are kept. Options keep their first-seen order (upstream's order comes
// from Go map iteration and is not stable).
Result<DnsConfig> pod_dns_config(const kube::Pod& pod, const DnsSettings& settings);

struct HostnameDomain {
  std::string hostname;
  std::string domain;  // <subdomain>.<ns>.svc.<cluster domain>, or ""
};
// spec.hostname or the pod name, cut to 63 characters (and trailing '-'/'.' trimmed).
Result<HostnameDomain> pod_hostname_and_domain(const kube::Pod& pod, std::string_view cluster_domain);
// The sandbox hostname: the FQDN when setHostnameAsFQDN and a domain exist (at most 64 chars).
Result<std::string> sandbox_hostname(const kube::Pod& pod, std::string_view cluster_domain);

}  // namespace knode::cri
