#include "agent/kubelet/image_puller.h"

#include <algorithm>
#include <limits>

#include "agent/base/log.h"

namespace knode::kubelet {

ImagePuller::ImagePuller(cri::ImageService& images, ImagePullerOptions options)
    : images_(images), opts_(std::move(options)) {}

Result<std::string> ImagePuller::pull(const runtime::v1::ImageSpec& image,
                                      const runtime::v1::PodSandboxConfig* sandbox,
                                      const CredentialKeyring* pod_keyring) {
  const int limit = opts_.serialize ? 1
                    : opts_.max_parallel > 0 ? opts_.max_parallel
                                             : std::numeric_limits<int>::max();
  {
    std::unique_lock lock(mu_);
    uint64_t ticket = next_ticket_++;
    queue_.push_back(ticket);
    cv_.wait(lock, [&] { return queue_.front() == ticket && in_flight_ < limit; });
    queue_.pop_front();
    ++in_flight_;
  }
  cv_.notify_all();  // the next in line may fit too (parallel pulls)
  auto result = pull_now(image, sandbox, pod_keyring);
  {
    std::lock_guard lock(mu_);
    --in_flight_;
  }
  cv_.notify_all();
  return result;
}

Result<std::string> ImagePuller::pull_now(const runtime::v1::ImageSpec& image,
                                          const runtime::v1::PodSandboxConfig* sandbox,
                                          const CredentialKeyring* pod_keyring) {
  std::vector<RegistryCredential> creds;
  if (pod_keyring) creds = pod_keyring->lookup(image.image());
  if (opts_.keyring) {
    auto node = opts_.keyring();
    if (!node) {
      log::error("Cannot read the node's registry credentials; pulling without them", node.error());
    } else {
      auto more = node->lookup(image.image());
      creds.insert(creds.end(), more.begin(), more.end());
    }
  }
  if (creds.empty()) return images_.PullImage(image, nullptr, sandbox);
  std::string errors;
  for (const auto& c : creds) {
    auto auth = to_auth_config(c);
    auto ref = images_.PullImage(image, &auth, sandbox);
    if (ref) return ref;
    if (log::V(2))
      log::infov(2, "Pull with a registry credential failed", "image", image.image(), "credentialSource", c.source,
                 "err", ref.error().message());
    errors += (errors.empty() ? "" : ", ") + ref.error().message();
  }
  return Error(creds.size() == 1 ? errors : "[" + errors + "]");
}

}  // namespace knode::kubelet
