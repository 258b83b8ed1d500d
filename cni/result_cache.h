// The result cache in libcni's layout, so other tools (containerd, cnitool, crictl) read ours and we
// read theirs: <cache dir>/results/<network>-<container id>-<ifname>, JSON
// {"kind":"cniCacheV1","containerId","config"(base64 of the list bytes),"ifName","networkName",
//  "netns","cniArgs","capabilityArgs","result"} written exactly as libcni's Go encoder writes it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/base/result.h"
#include "cni/plugin_result.h"
#include "cni/runtime_conf.h"

namespace knode::cni {

struct CacheEntry {
  std::string container_id;
  std::string network_name;
  std::string ifname;
  std::string netns;
  std::string config;  // the network list's bytes (decoded)
  CniArgs cni_args;
  std::map<std::string, std::string> capability_args;  // capability → JSON text
  std::optional<PluginResult> result;
};

class ResultCache {
 public:
  explicit ResultCache(std::string cache_dir) : dir_(std::move(cache_dir)) {}
  const std::string& dir() const { return dir_; }

  std::string path(std::string_view network, std::string_view container_id, std::string_view ifname) const;
  // Writes atomically (temp file + rename), mode 0600 in a 0700 dir as libcni does.
  Status write(const CacheEntry& e);
  // nullopt when there is no file; an error when it cannot be read as a cache entry. Reads the
  // pre-cniCacheV1 layout (the bare result) too.
  Result<std::optional<CacheEntry>> read(std::string_view network, std::string_view container_id,
                                         std::string_view ifname) const;
  Status remove(std::string_view network, std::string_view container_id, std::string_view ifname);
  // Every readable cniCacheV1 entry (optionally of one container), in file-name order.
  std::vector<CacheEntry> list(std::string_view container_id = {}) const;

 private:
  std::string dir_;
};

// The file content for an entry, byte-identical to libcni's (exposed for tests).
Result<std::string> encode_cache_entry(const CacheEntry& e);
Result<CacheEntry> decode_cache_entry(std::string_view bytes);

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace knode::cni
