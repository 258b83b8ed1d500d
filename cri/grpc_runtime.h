// The CRI client: Runtime + ImageService over gRPC on the runtime's unix socket.
//
//   auto rt = cri::GrpcRuntime::Connect({.endpoint = "unix:///run/containerd/containerd.sock"});
//   if (!rt) return rt.error();          // socket missing, no CRI v1, ...
//   auto id = (*rt)->RunPodSandbox(config, "");
//
// Every call has a deadline (request_timeout; StopContainer and ExecSync add their own timeout to
// it, PullImage uses pull_timeout). When a call fails with UNAVAILABLE — the runtime restarted and
// the connection is gone — the client waits up to reconnect_wait for the channel to come back and
// tries once more. One GrpcRuntime is shared by all pod workers; calls run concurrently.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "agent/base/result.h"
#include "cri/runtime.h"

namespace knode::cri {

struct GrpcRuntimeOptions {
  // unix:///path/to.sock, or a bare absolute path (as older kubelet flags allowed).
  std::string endpoint = "unix:///run/containerd/containerd.sock";
  // --runtime-request-timeout.
  std::chrono::milliseconds request_timeout = std::chrono::minutes(2);
  // PullImage may take long on a slow registry.
  std::chrono::milliseconds pull_timeout = std::chrono::minutes(30);
  // How long Connect waits for the socket to answer Version.
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(10);
  // How long a call that met UNAVAILABLE waits for the runtime to be back before its one retry.
  std::chrono::milliseconds reconnect_wait = std::chrono::seconds(5);
  // Largest response accepted (the kubelet's 16 MiB; ExecSync output is capped at that).
  int max_message_bytes = 16 * 1024 * 1024;
};

// The socket path of a CRI endpoint: "unix:///run/x.sock" and "/run/x.sock" give "/run/x.sock".
// Other schemes (tcp://, npipe://) are refused.
Result<std::string> socket_path_from_endpoint(std::string_view endpoint);

class GrpcRuntime final : public Runtime, public ImageService {
 public:
  // Dials the endpoint and checks that it serves CRI v1 (Version).
  static Result<std::unique_ptr<GrpcRuntime>> Connect(const GrpcRuntimeOptions& options);
  ~GrpcRuntime() override;
  GrpcRuntime(const GrpcRuntime&) = delete;
  GrpcRuntime& operator=(const GrpcRuntime&) = delete;

  // From the Version answer at Connect: e.g. "containerd", "1.6.20~ds1", "v1".
  const std::string& runtime_name() const;
  const std::string& runtime_version() const;
  const std::string& runtime_api_version() const;

  // Runtime
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

  // ImageService
  Result<std::vector<v1::Image>> ListImages(const v1::ImageFilter* filter) override;
  Result<v1::ImageStatusResponse> ImageStatus(const v1::ImageSpec& image, bool verbose) override;
  Result<std::string> PullImage(const v1::ImageSpec& image, const v1::AuthConfig* auth,
                                const v1::PodSandboxConfig* sandbox_config) override;
  Status RemoveImage(const v1::ImageSpec& image) override;
  Result<v1::ImageFsInfoResponse> ImageFsInfo() override;

 private:
  struct Impl;
  explicit GrpcRuntime(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace knode::cri
