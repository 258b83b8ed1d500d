// The container runtime as the kubelet role sees it: the two CRI v1 services as small interfaces.
// GrpcRuntime (cri/grpc_runtime.h) talks to containerd; FakeRuntime (cri/fake_runtime.h) keeps
// everything in memory for tests. Implementations are safe to call from many pod workers at once.
//
// Messages are the generated CRI types; this header only declares them, so include "cri/types.h"
// where you build or read one. Every error is a cri error (cri/errors.h): the gRPC code and message
// plus what was being done, e.g.  StopContainer "3f2a…": rpc error: code = NotFound desc = …
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "agent/base/result.h"

namespace runtime::v1 {
class AttachRequest;
class AuthConfig;
class Container;
class ContainerConfig;
class ContainerFilter;
class ContainerStats;
class ContainerStatsFilter;
class ContainerStatusResponse;
class ExecRequest;
class ExecSyncResponse;
class Image;
class ImageFilter;
class ImageFsInfoResponse;
class ImageSpec;
class ImageStatusResponse;
class LinuxContainerResources;
class PodSandbox;
class PodSandboxConfig;
class PodSandboxFilter;
class PodSandboxStats;
class PodSandboxStatsFilter;
class PodSandboxStatusResponse;
class PortForwardRequest;
class StatusResponse;
class VersionResponse;
}  // namespace runtime::v1

namespace knode::cri {
namespace v1 = ::runtime::v1;

// The CRI API version knode speaks.
inline constexpr const char* kApiVersion = "v1";

// runtime.v1.RuntimeService. Method names follow the CRI; `RuntimeStatus` is the CRI's `Status`.
class Runtime {
 public:
  virtual ~Runtime() = default;

  virtual Result<v1::VersionResponse> Version() = 0;
  // "RuntimeReady" and "NetworkReady" conditions, plus runtime handlers.
  virtual Result<v1::StatusResponse> RuntimeStatus(bool verbose) = 0;
  virtual Status UpdateRuntimeConfig(const std::string& pod_cidr) = 0;

  // Returns the sandbox id. An empty runtime_handler selects the runtime's default.
  virtual Result<std::string> RunPodSandbox(const v1::PodSandboxConfig& config,
                                            const std::string& runtime_handler) = 0;
  virtual Status StopPodSandbox(const std::string& sandbox_id) = 0;
  // Idempotent: removing an unknown sandbox succeeds.
  virtual Status RemovePodSandbox(const std::string& sandbox_id) = 0;
  virtual Result<v1::PodSandboxStatusResponse> PodSandboxStatus(const std::string& sandbox_id,
                                                                bool verbose) = 0;
  // filter may be null (everything).
  virtual Result<std::vector<v1::PodSandbox>> ListPodSandbox(const v1::PodSandboxFilter* filter) = 0;

  // Returns the container id. sandbox_config is the config the sandbox was run with.
  virtual Result<std::string> CreateContainer(const std::string& sandbox_id,
                                              const v1::ContainerConfig& config,
                                              const v1::PodSandboxConfig& sandbox_config) = 0;
  virtual Status StartContainer(const std::string& container_id) = 0;
  // Signals the container, waits up to `timeout` and then kills it. A no-op unless running.
  virtual Status StopContainer(const std::string& container_id, std::chrono::seconds timeout) = 0;
  // Idempotent: removing an unknown container succeeds.
  virtual Status RemoveContainer(const std::string& container_id) = 0;
  virtual Result<std::vector<v1::Container>> ListContainers(const v1::ContainerFilter* filter) = 0;
  virtual Result<v1::ContainerStatusResponse> ContainerStatus(const std::string& container_id,
                                                              bool verbose) = 0;
  virtual Status UpdateContainerResources(const std::string& container_id,
                                          const v1::LinuxContainerResources& resources) = 0;
  virtual Status ReopenContainerLog(const std::string& container_id) = 0;

  // Runs cmd in the container and waits; timeout 0 = no limit of the command's own (the call
  // still has the client's request deadline). A non-zero exit is a response, not an error.
  virtual Result<v1::ExecSyncResponse> ExecSync(const std::string& container_id,
                                                const std::vector<std::string>& cmd,
                                                std::chrono::seconds timeout) = 0;
  // Streaming endpoints: each returns the URL of the runtime's streaming server.
  virtual Result<std::string> Exec(const v1::ExecRequest& request) = 0;
  virtual Result<std::string> Attach(const v1::AttachRequest& request) = 0;
  virtual Result<std::string> PortForward(const v1::PortForwardRequest& request) = 0;

  virtual Result<v1::ContainerStats> ContainerStats(const std::string& container_id) = 0;
  virtual Result<std::vector<v1::ContainerStats>> ListContainerStats(
      const v1::ContainerStatsFilter* filter) = 0;
  virtual Result<v1::PodSandboxStats> PodSandboxStats(const std::string& sandbox_id) = 0;
  virtual Result<std::vector<v1::PodSandboxStats>> ListPodSandboxStats(
      const v1::PodSandboxStatsFilter* filter) = 0;
};

// runtime.v1.ImageService.
class ImageService {
 public:
  virtual ~ImageService() = default;

  virtual Result<std::vector<v1::Image>> ListImages(const v1::ImageFilter* filter) = 0;
  // A missing image is a response without `image`, not an error.
  virtual Result<v1::ImageStatusResponse> ImageStatus(const v1::ImageSpec& image, bool verbose) = 0;
  // Returns the image reference (an image id). auth and sandbox_config may be null.
  virtual Result<std::string> PullImage(const v1::ImageSpec& image, const v1::AuthConfig* auth,
                                        const v1::PodSandboxConfig* sandbox_config) = 0;
  virtual Status RemoveImage(const v1::ImageSpec& image) = 0;
  virtual Result<v1::ImageFsInfoResponse> ImageFsInfo() = 0;
};

}  // namespace knode::cri
