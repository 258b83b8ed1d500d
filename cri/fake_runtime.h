// An in-memory container runtime for tests of the code that drives the CRI (pod workers, PLEG,
// image management). It follows containerd's observable behaviour where the CRI leaves room:
// Stop* of a non-running container is a no-op, Remove* is idempotent, status of an unknown id is
// NotFound, exited containers report reason "Completed" (exit 0) or "Error".
//
//   cri::FakeRuntime rt;
//   rt.add_image("knode.local/busybox:1.36");
//   rt.fail_next("StartContainer", cri::Code::Unknown, "oci runtime error");  // scripted failure
//   ... run the code under test ...
//   rt.exit_container(id, 1);                // the process ends on its own
//   CHECK(rt.calls() == std::vector<std::string>{"RunPodSandbox", "CreateContainer", ...});
//
// Errors look exactly like GrpcRuntime's (cri/errors.h). Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cri/errors.h"
#include "cri/runtime.h"
#include "cri/types.h"

namespace knode::cri {

class FakeRuntime final : public Runtime, public ImageService {
 public:
  // Receives (container id, cmd) and returns what ExecSync answers.
  using ExecHandler =
      std::function<v1::ExecSyncResponse(const std::string&, const std::vector<std::string>&)>;

  FakeRuntime();
  ~FakeRuntime() override;

  // --- Scripting ---
  // The next `times` calls of `method` (a CRI method name, e.g. "RunPodSandbox", "Status") fail.
  void fail_next(const std::string& method, Code code, const std::string& message, int times = 1);
  // Every PullImage of `image` fails until cleared with allow_pull(image).
  void refuse_pull(const std::string& image, Code code, const std::string& message);
  void allow_pull(const std::string& image);
  // An image already present on the node.
  void add_image(const std::string& image, uint64_t size_bytes = 1 << 20);
  void set_exec_handler(ExecHandler handler);
  // The process of a running container ends: state EXITED with this code (reason defaults to
  // "Completed" for 0, "Error" otherwise; "OOMKilled" is what the kernel's OOM killer gives).
  Status exit_container(const std::string& container_id, int exit_code, std::string reason = {},
                        std::string message = {});
  // A runtime condition ("RuntimeReady", "NetworkReady"); both start true.
  void set_condition(const std::string& type, bool status, const std::string& reason = {},
                     const std::string& message = {});
  // Named runtime handlers Status reports besides the default one, and what its verbose info holds
  // (containerd puts its CRI configuration, JSON, under "config").
  void add_runtime_handler(const std::string& name);
  void set_status_info(const std::string& key, const std::string& value);
  // Exit codes of containers stopped by StopContainer/StopPodSandbox/Remove*: after a grace period
  // (timeout > 0, SIGTERM) and without one (SIGKILL). Defaults 143 and 137.
  void set_stop_exit_codes(int graceful, int killed);
  // Nanoseconds since the epoch for created/started/finished timestamps (default: the real clock).
  void set_clock(std::function<int64_t()> now_ns);

  // --- Inspection ---
  // Method names in call order (failed calls included).
  std::vector<std::string> calls() const;
  void clear_calls();
  size_t sandbox_count() const;
  size_t container_count() const;
  // The image refs present, sorted.
  std::vector<std::string> image_names() const;
  // The pod CIDR last given to UpdateRuntimeConfig.
  std::string pod_cidr() const;

  // --- Runtime ---
  Result<v1::VersionResponse> Version() override;
  Result<v1::StatusResponse> RuntimeStatus(bool verbose) override;
  Status UpdateRuntimeConfig(const std::string& pod_cidr) override;
  Result<std::string> RunPodSandbox(const v1::PodSandboxConfig& config,
                                    const std::string& runtime_handler) override;
  Status StopPodSandbox(const std::string& sandbox_id) override;
  Status RemovePodSandbox(const std::string& sandbox_id) override;
  Result<v1::PodSandboxStatusResponse> PodSandboxStatus(const std::string& sandbox_id,
                                                        bool verbose) override;
  Result<std::vector<v1::PodSandbox>> ListPodSandbox(const v1::PodSandboxFilter* filter) override;
  Result<std::string> CreateContainer(const std::string& sandbox_id,
                                      const v1::ContainerConfig& config,
                                      const v1::PodSandboxConfig& sandbox_config) override;
  Status StartContainer(const std::string& container_id) override;
  Status StopContainer(const std::string& container_id, std::chrono::seconds timeout) override;
  Status RemoveContainer(const std::string& container_id) override;
  Result<std::vector<v1::Container>> ListContainers(const v1::ContainerFilter* filter) override;
  Result<v1::ContainerStatusResponse> ContainerStatus(const std::string& container_id,
                                                      bool verbose) override;
  Status UpdateContainerResources(const std::string& container_id,
                                  const v1::LinuxContainerResources& resources) override;
  Status ReopenContainerLog(const std::string& container_id) override;
  Result<v1::ExecSyncResponse> ExecSync(const std::string& container_id,
                                        const std::vector<std::string>& cmd,
                                        std::chrono::seconds timeout) override;
  Result<std::string> Exec(const v1::ExecRequest& request) override;
  Result<std::string> Attach(const v1::AttachRequest& request) override;
  Result<std::string> PortForward(const v1::PortForwardRequest& request) override;
  Result<v1::ContainerStats> ContainerStats(const std::string& container_id) override;
  Result<std::vector<v1::ContainerStats>> ListContainerStats(
      const v1::ContainerStatsFilter* filter) override;
  Result<v1::PodSandboxStats> PodSandboxStats(const std::string& sandbox_id) override;
  Result<std::vector<v1::PodSandboxStats>> ListPodSandboxStats(
      const v1::PodSandboxStatsFilter* filter) override;

  // --- ImageService ---
  Result<std::vector<v1::Image>> ListImages(const v1::ImageFilter* filter) override;
  Result<v1::ImageStatusResponse> ImageStatus(const v1::ImageSpec& image, bool verbose) override;
  Result<std::string> PullImage(const v1::ImageSpec& image, const v1::AuthConfig* auth,
                                const v1::PodSandboxConfig* sandbox_config) override;
  Status RemoveImage(const v1::ImageSpec& image) override;
  Result<v1::ImageFsInfoResponse> ImageFsInfo() override;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace knode::cri
