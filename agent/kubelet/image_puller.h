// Image pulls as upstream's image manager runs them: serialized by default (serializeImagePulls:
// true — one pull at a time, in the order asked), or up to maxParallelImagePulls at once (unlimited
// when unset) with serializeImagePulls: false. Each pull tries the registry credentials that match
// the image, most specific first, until one succeeds (no match: an anonymous pull); the errors of
// all attempts are reported together.
//
//   ImagePuller puller(images, {.serialize = true, .keyring = [&] { return load_node_keyring(root); }});
//   auto ref = puller.pull(spec, &sandbox_config);
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>

#include "agent/base/result.h"
#include "agent/kubelet/credentials.h"
#include "cri/runtime.h"

namespace knode::kubelet {

struct ImagePullerOptions {
  bool serialize = true;     // serializeImagePulls
  int32_t max_parallel = 0;  // maxParallelImagePulls when not serialized; 0: no limit
  // The keyring for a pull (the node's docker config, read per pull so edits apply); unset: none.
  std::function<Result<CredentialKeyring>()> keyring;
};

class ImagePuller {
 public:
  ImagePuller(cri::ImageService& images, ImagePullerOptions options);

  // Blocks until a pull slot is free, then pulls. Returns the image reference.
  Result<std::string> pull(const runtime::v1::ImageSpec& image, const runtime::v1::PodSandboxConfig* sandbox,
                           const CredentialKeyring* pod_keyring = nullptr);

 private:
  Result<std::string> pull_now(const runtime::v1::ImageSpec& image, const runtime::v1::PodSandboxConfig* sandbox,
                               const CredentialKeyring* pod_keyring);

  cri::ImageService& images_;
  ImagePullerOptions opts_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<uint64_t> queue_;  // tickets waiting, first come first served
  uint64_t next_ticket_ = 0;
  int in_flight_ = 0;
};

}  // namespace knode::kubelet
