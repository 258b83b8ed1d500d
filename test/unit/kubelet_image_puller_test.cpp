// Image pulls: serialized by default, maxParallelImagePulls otherwise, credentials tried in order.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "agent/kubelet/image_puller.h"

using namespace knode;
using namespace knode::kubelet;

namespace {

// An image service whose pulls take a while and record how many ran at once and with which auth.
class SlowImages final : public cri::ImageService {
 public:
  std::atomic<int> running{0};
  std::atomic<int> max_running{0};
  std::mutex mu;
  std::vector<std::string> started;  // images in start order
  std::vector<std::string> auths;    // username per attempt ("" = anonymous)
  std::string accept_user;           // "" accepts every attempt
  std::chrono::milliseconds delay{150};

  Result<std::vector<cri::v1::Image>> ListImages(const cri::v1::ImageFilter*) override { return std::vector<cri::v1::Image>{}; }
  Result<cri::v1::ImageStatusResponse> ImageStatus(const cri::v1::ImageSpec&, bool) override {
    return cri::v1::ImageStatusResponse{};
  }
  Result<std::string> PullImage(const cri::v1::ImageSpec& image, const cri::v1::AuthConfig* auth,
                                const cri::v1::PodSandboxConfig*) override {
    int now = ++running;
    for (int m = max_running; now > m && !max_running.compare_exchange_weak(m, now);) {
    }
    {
      std::lock_guard lock(mu);
      started.push_back(image.image());
      auths.push_back(auth ? auth->username() : "");
    }
    std::this_thread::sleep_for(delay);
    --running;
    if (!accept_user.empty() && (!auth || auth->username() != accept_user))
      return Error("pull access denied for " + image.image() + " (user " + (auth ? auth->username() : "") + ")");
    return "sha256:" + image.image();
  }
  Status RemoveImage(const cri::v1::ImageSpec&) override { return Status::Ok(); }
  Result<cri::v1::ImageFsInfoResponse> ImageFsInfo() override { return cri::v1::ImageFsInfoResponse{}; }
};

int pull_concurrently(ImagePuller& puller, int n) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      cri::v1::ImageSpec spec;
      spec.set_image("img-" + std::to_string(i));
      if (puller.pull(spec, nullptr).ok()) ++ok;
    });
  for (auto& t : threads) t.join();
  return ok;
}

}  // namespace

TEST_CASE("image puller: serializeImagePulls runs one pull at a time", "[kubelet][images]") {
  SlowImages images;
  ImagePuller puller(images, {.serialize = true});
  auto t0 = std::chrono::steady_clock::now();
  CHECK(pull_concurrently(puller, 3) == 3);
  auto took = std::chrono::steady_clock::now() - t0;
  CHECK(images.max_running == 1);
  CHECK(took >= std::chrono::milliseconds(3 * 150));
}

TEST_CASE("image puller: parallel pulls, limited by maxParallelImagePulls", "[kubelet][images]") {
  SlowImages images;
  ImagePuller limited(images, {.serialize = false, .max_parallel = 2});
  CHECK(pull_concurrently(limited, 5) == 5);
  CHECK(images.max_running == 2);

  SlowImages free_images;
  ImagePuller unlimited(free_images, {.serialize = false});
  auto t0 = std::chrono::steady_clock::now();
  CHECK(pull_concurrently(unlimited, 4) == 4);
  CHECK(free_images.max_running == 4);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(4 * 150));
}

TEST_CASE("image puller: matching credentials are tried in turn; none means anonymous", "[kubelet][images]") {
  SlowImages images;
  images.delay = std::chrono::milliseconds(0);
  images.accept_user = "team";
  CredentialKeyring node;
  node.add("r.example.com", {.username = "general", .password = "x"});
  node.add("r.example.com/team", {.username = "team", .password = "y"});
  ImagePuller puller(images, {.keyring = [&]() -> Result<CredentialKeyring> { return node; }});
  cri::v1::ImageSpec spec;
  spec.set_image("r.example.com/team/app:1");
  auto ref = puller.pull(spec, nullptr);
  REQUIRE(ref.ok());
  CHECK(*ref == "sha256:r.example.com/team/app:1");
  CHECK(images.auths == std::vector<std::string>{"team"});  // the more specific key first

  images.auths.clear();
  spec.set_image("r.example.com/other/app:1");
  ref = puller.pull(spec, nullptr);
  REQUIRE_FALSE(ref.ok());
  CHECK(ref.error().message() == "pull access denied for r.example.com/other/app:1 (user general)");
  CHECK(images.auths == std::vector<std::string>{"general"});

  images.auths.clear();
  images.accept_user.clear();
  spec.set_image("elsewhere.example.org/app:1");
  REQUIRE(puller.pull(spec, nullptr).ok());
  CHECK(images.auths == std::vector<std::string>{""});  // anonymous
}
