#include "cri/grpc_runtime.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <fmt/format.h>

#include "agent/base/log.h"
#include "api.grpc.pb.h"
#include "cri/errors.h"
#include "cri/types.h"

namespace knode::cri {
namespace {

using Clock = std::chrono::system_clock;

Error to_error(std::string_view what, const grpc::Status& status) {
  return rpc_error(what, static_cast<Code>(status.error_code()), status.error_message());
}

template <class T>
std::vector<T> take_all(google::protobuf::RepeatedPtrField<T>* items) {
  std::vector<T> out;
  out.reserve(items->size());
  for (auto& item : *items) out.push_back(std::move(item));
  return out;
}

std::string create_context(const std::string& sandbox_id, const v1::ContainerConfig& config,
                           const v1::PodSandboxConfig& sandbox_config) {
  const auto& name = config.metadata().name();
  if (sandbox_config.has_metadata()) {
    const auto& m = sandbox_config.metadata();
    return fmt::format("CreateContainer \"{}\" for pod \"{}/{}\"", name, m.namespace_(), m.name());
  }
  return fmt::format("CreateContainer \"{}\" in sandbox \"{}\"", name, sandbox_id);
}

}  // namespace

Result<std::string> socket_path_from_endpoint(std::string_view endpoint) {
  constexpr std::string_view kUnix = "unix://";
  std::string_view path = endpoint;
  if (endpoint.starts_with(kUnix)) {
    path = endpoint.substr(kUnix.size());
  } else if (endpoint.find("://") != std::string_view::npos) {
    return Error(fmt::format("container runtime endpoint {:?}: only unix:// sockets are supported",
                             std::string(endpoint)));
  }
  if (path.empty() || path.front() != '/') {
    return Error(fmt::format("container runtime endpoint {:?}: the socket path must be absolute",
                             std::string(endpoint)));
  }
  return std::string(path);
}

struct GrpcRuntime::Impl {
  GrpcRuntimeOptions options;
  std::string target;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::RuntimeService::Stub> runtime;
  std::unique_ptr<v1::ImageService::Stub> images;
  v1::VersionResponse version;

  // Runs `rpc(ctx)` with a deadline `timeout` from now. On UNAVAILABLE (the runtime went away and
  // the connection with it) waits for the channel to reconnect and tries once more, within the
  // same deadline.
  template <class Rpc>
  grpc::Status call(std::string_view what, std::chrono::milliseconds timeout, Rpc&& rpc) {
    const auto deadline = Clock::now() + timeout;
    grpc::Status status;
    for (int attempt = 0; attempt < 2; ++attempt) {
      grpc::ClientContext ctx;
      ctx.set_deadline(deadline);
      status = rpc(&ctx);
      if (status.error_code() != grpc::StatusCode::UNAVAILABLE || attempt == 1) break;
      auto wait_until = std::min(deadline, Clock::now() + options.reconnect_wait);
      log::infov(2, "Container runtime unavailable, waiting to reconnect", "call", what,
                 "endpoint", options.endpoint, "err", status.error_message());
      if (!channel->WaitForConnected(wait_until)) break;
    }
    return status;
  }
  template <class Rpc>
  grpc::Status call(std::string_view what, Rpc&& rpc) {
    return call(what, options.request_timeout, std::forward<Rpc>(rpc));
  }
};

GrpcRuntime::GrpcRuntime(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GrpcRuntime::~GrpcRuntime() = default;

Result<std::unique_ptr<GrpcRuntime>> GrpcRuntime::Connect(const GrpcRuntimeOptions& options) {
  auto path = socket_path_from_endpoint(options.endpoint);
  if (!path) return path.error();

  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->target = "unix://" + *path;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_message_bytes);
  args.SetMaxSendMessageSize(options.max_message_bytes);
  // Find a restarted runtime quickly (gRPC's default backoff grows to two minutes).
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  impl->channel = grpc::CreateCustomChannel(impl->target, grpc::InsecureChannelCredentials(), args);
  impl->runtime = v1::RuntimeService::NewStub(impl->channel);
  impl->images = v1::ImageService::NewStub(impl->channel);

  // Version, waiting for the socket to appear, as the kubelet does at start.
  v1::VersionRequest req;
  req.set_version(kApiVersion);
  grpc::ClientContext ctx;
  ctx.set_deadline(Clock::now() + options.connect_timeout);
  ctx.set_wait_for_ready(true);
  grpc::Status st = impl->runtime->Version(&ctx, req, &impl->version);
  const std::string where = "container runtime at " + options.endpoint;
  if (st.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
    return to_error("Version", st).wrap(where + " does not serve CRI v1 (runtime.v1.RuntimeService)");
  }
  if (!st.ok()) return to_error("Version", st).wrap("connecting to the " + where);
  const auto& api = impl->version.runtime_api_version();
  if (api != kApiVersion && !api.starts_with("v1.")) {
    return Error(fmt::format("{} reports CRI API version {:?}; knode needs {}", where, api,
                             kApiVersion));
  }
  log::info("Connected to the container runtime", "endpoint", options.endpoint, "runtimeName",
            impl->version.runtime_name(), "runtimeVersion", impl->version.runtime_version(),
            "apiVersion", api);
  return std::unique_ptr<GrpcRuntime>(new GrpcRuntime(std::move(impl)));
}

const std::string& GrpcRuntime::runtime_name() const { return impl_->version.runtime_name(); }
const std::string& GrpcRuntime::runtime_version() const {
  return impl_->version.runtime_version();
}
const std::string& GrpcRuntime::runtime_api_version() const {
  return impl_->version.runtime_api_version();
}

// --- RuntimeService -------------------------------------------------------------------------

Result<v1::VersionResponse> GrpcRuntime::Version() {
  v1::VersionRequest req;
  req.set_version(kApiVersion);
  v1::VersionResponse resp;
  auto st = impl_->call("Version", [&](auto* c) { return impl_->runtime->Version(c, req, &resp); });
  if (!st.ok()) return to_error("Version", st);
  return resp;
}

Result<v1::StatusResponse> GrpcRuntime::RuntimeStatus(bool verbose) {
  v1::StatusRequest req;
  req.set_verbose(verbose);
  v1::StatusResponse resp;
  auto st = impl_->call("Status", [&](auto* c) { return impl_->runtime->Status(c, req, &resp); });
  if (!st.ok()) return to_error("Status", st);
  return resp;
}

Status GrpcRuntime::UpdateRuntimeConfig(const std::string& pod_cidr) {
  v1::UpdateRuntimeConfigRequest req;
  req.mutable_runtime_config()->mutable_network_config()->set_pod_cidr(pod_cidr);
  v1::UpdateRuntimeConfigResponse resp;
  auto st = impl_->call("UpdateRuntimeConfig", [&](auto* c) {
    return impl_->runtime->UpdateRuntimeConfig(c, req, &resp);
  });
  if (!st.ok()) return to_error("UpdateRuntimeConfig", st);
  return {};
}

Result<std::string> GrpcRuntime::RunPodSandbox(const v1::PodSandboxConfig& config,
                                               const std::string& runtime_handler) {
  const std::string what =
      for_pod("RunPodSandbox", config.metadata().namespace_(), config.metadata().name());
  v1::RunPodSandboxRequest req;
  *req.mutable_config() = config;
  req.set_runtime_handler(runtime_handler);
  v1::RunPodSandboxResponse resp;
  auto st = impl_->call(what, [&](auto* c) { return impl_->runtime->RunPodSandbox(c, req, &resp); });
  if (!st.ok()) return to_error(what, st);
  if (resp.pod_sandbox_id().empty()) return Error(what + ": the runtime returned no sandbox id");
  return std::move(*resp.mutable_pod_sandbox_id());
}

Status GrpcRuntime::StopPodSandbox(const std::string& sandbox_id) {
  const std::string what = on("StopPodSandbox", sandbox_id);
  v1::StopPodSandboxRequest req;
  req.set_pod_sandbox_id(sandbox_id);
  v1::StopPodSandboxResponse resp;
  auto st = impl_->call(what, [&](auto* c) { return impl_->runtime->StopPodSandbox(c, req, &resp); });
  if (!st.ok()) return to_error(what, st);
  return {};
}

Status GrpcRuntime::RemovePodSandbox(const std::string& sandbox_id) {
  const std::string what = on("RemovePodSandbox", sandbox_id);
  v1::RemovePodSandboxRequest req;
  req.set_pod_sandbox_id(sandbox_id);
  v1::RemovePodSandboxResponse resp;
  auto st =
      impl_->call(what, [&](auto* c) { return impl_->runtime->RemovePodSandbox(c, req, &resp); });
  if (!st.ok()) return to_error(what, st);
  return {};
}

Result<v1::PodSandboxStatusResponse> GrpcRuntime::PodSandboxStatus(const std::string& sandbox_id,
                                                                   bool verbose) {
  const std::string what = on("PodSandboxStatus", sandbox_id);
  v1::PodSandboxStatusRequest req;
  req.set_pod_sandbox_id(sandbox_id);
  req.set_verbose(verbose);
  v1::PodSandboxStatusResponse resp;
  auto st =
      impl_->call(what, [&](auto* c) { return impl_->runtime->PodSandboxStatus(c, req, &resp); });
  if (!st.ok()) return to_error(what, st);
  if (!resp.has_status()) return Error(what + ": the runtime returned no status");
  return resp;
}

Result<std::vector<v1::PodSandbox>> GrpcRuntime::ListPodSandbox(const v1::PodSandboxFilter* filter) {
  v1::ListPodSandboxRequest req;
  if (filter) *req.mutable_filter() = *filter;
  v1::ListPodSandboxResponse resp;
  auto st = impl_->call("ListPodSandbox",
                        [&](auto* c) { return impl_->runtime->ListPodSandbox(c, req, &resp); });
  if (!st.ok()) return to_error("ListPodSandbox", st);
  return take_all(resp.mutable_items());
}

Result<std::string> GrpcRuntime::CreateContainer(const std::string& sandbox_id,
                                                 const v1::ContainerConfig& config,
                                                 const v1::PodSandboxConfig& sandbox_config) {
  const std::string what = create_context(sandbox_id, config, sandbox_config);
  v1::CreateContainerRequest req;
  req.set_pod_sandbox_id(sandbox_id);
  *req.mutable_config() = config;
  *req.mutable_sandbox_config() = sandbox_config;
  v1::CreateContainerResponse resp;
  auto st =
      impl_->call(what, [&](auto* c) { return impl_->runtime->CreateContainer(c, req, &resp); });
  if (!st.ok()) return to_error(what, st);
  if (resp.container_id().empty()) return Error(what + ": the runtime returned no container id");
  return std::move(*resp.mutable_container_id());
}

Status GrpcRuntime::StartContainer(const std::string& container_id) {
  const std::string what = on("StartContainer", container_id);
  v1::StartContainerRequest req;
  req.set_container_id(container_id);
  v1::StartContainerResponse resp;
  auto st = impl_->call(what, [&](auto* c) { return impl_->runtime->StartContainer(c, req, &resp); });
  if (!st.ok()) return to_error(what, st);
  return {};
}

Status GrpcRuntime::StopContainer(const std::string& container_id, std::chrono::seconds timeout) {
  const std::string what = on("StopContainer", container_id);
  v1::StopContainerRequest req;
  req.set_container_id(container_id);
  req.set_timeout(timeout.count());
  v1::StopContainerResponse resp;
  // The runtime waits up to `timeout` for the process; the call may take that much longer.
  auto st = impl_->call(what, impl_->options.request_timeout + timeout, [&](auto* c) {
    return impl_->runtime->StopContainer(c, req, &resp);
  });
  if (!st.ok()) return to_error(what, st);
  return {};
}

Status GrpcRuntime::RemoveContainer(const std::string& container_id) {
  const std::string what = on("RemoveContainer", container_id);
  v1::RemoveContainerRequest req;
  req.set_container_id(container_id);
  v1::RemoveContainerResponse resp;
  auto st =
      impl_->call(what, [&](auto* c) { return impl_->runtime->RemoveContainer(c, req, &resp); });
  if (!st.ok()) return to_error(what, st);
  return {};
}

Result<std::vector<v1::Container>> GrpcRuntime::ListContainers(const v1::ContainerFilter* filter) {
  v1::ListContainersRequest req;
  if (filter) *req.mutable_filter() = *filter;
  v1::ListContainersResponse resp;
  auto st = impl_->call("ListContainers",
                        [&](auto* c) { return impl_->runtime->ListContainers(c, req, &resp); });
  if (!st.ok()) return to_error("ListContainers", st);
  return take_all(resp.mutable_containers());
}

Result<v1::ContainerStatusResponse> GrpcRuntime::ContainerStatus(const std::string& container_id,
                                                                 bool verbose) {
  const std::string what = on("ContainerStatus", container_id);
  v1::ContainerStatusRequest req;
  req.set_container_id(container_id);
  req.set_verbose(verbose);
  v1::ContainerStatusResponse resp;
  auto st =
      impl_->call(what, [&](auto* c) { return impl_->runtime->ContainerStatus(c, req, &resp); });
  if (!st.ok()) return to_error(what, st);
  if (!resp.has_status()) return Error(what + ": the runtime returned no status");
  return resp;
}

Status GrpcRuntime::UpdateContainerResources(const std::string& container_id,
                                             const v1::LinuxContainerResources& resources) {
  const std::string what = on("UpdateContainerResources", container_id);
  v1::UpdateContainerResourcesRequest req;
  req.set_container_id(container_id);
  *req.mutable_linux() = resources;
  v1::UpdateContainerResourcesResponse resp;
  auto st = impl_->call(
      what, [&](auto* c) { return impl_->runtime->UpdateContainerResources(c, req, &resp); });
  if (!st.ok()) return to_error(what, st);
  return {};
}

Status GrpcRuntime::ReopenContainerLog(const std::string& container_id) {
  const std::string what = on("ReopenContainerLog", container_id);
  v1::ReopenContainerLogRequest req;
  req.set_container_id(container_id);
  v1::ReopenContainerLogResponse resp;
  auto st =
      impl_->call(what, [&](auto* c) { return impl_->runtime->ReopenContainerLog(c, req, &resp); });
  if (!st.ok()) return to_error(what, st);
  return {};
}

Result<v1::ExecSyncResponse> GrpcRuntime::ExecSync(const std::string& container_id,
                                                   const std::vector<std::string>& cmd,
                                                   std::chrono::seconds timeout) {
  const std::string what = on("ExecSync", container_id);
  v1::ExecSyncRequest req;
  req.set_container_id(container_id);
  for (const auto& arg : cmd) req.add_cmd(arg);
  req.set_timeout(timeout.count());
  v1::ExecSyncResponse resp;
  // The command's own timeout plus the request timeout, for the runtime to clean up.
  auto st = impl_->call(what, impl_->options.request_timeout + timeout,
                        [&](auto* c) { return impl_->runtime->ExecSync(c, req, &resp); });
  if (!st.ok()) return to_error(what, st);
  return resp;
}

Result<std::string> GrpcRuntime::Exec(const v1::ExecRequest& req) {
  const std::string what = on("Exec", req.container_id());
  v1::ExecResponse resp;
  auto st = impl_->call(what, [&](auto* c) { return impl_->runtime->Exec(c, req, &resp); });
  if (!st.ok()) return to_error(what, st);
  return std::move(*resp.mutable_url());
}

Result<std::string> GrpcRuntime::Attach(const v1::AttachRequest& req) {
  const std::string what = on("Attach", req.container_id());
  v1::AttachResponse resp;
  auto st = impl_->call(what, [&](auto* c) { return impl_->runtime->Attach(c, req, &resp); });
  if (!st.ok()) return to_error(what, st);
  return std::move(*resp.mutable_url());
}

Result<std::string> GrpcRuntime::PortForward(const v1::PortForwardRequest& req) {
  const std::string what = on("PortForward", req.pod_sandbox_id());
  v1::PortForwardResponse resp;
  auto st = impl_->call(what, [&](auto* c) { return impl_->runtime->PortForward(c, req, &resp); });
  if (!st.ok()) return to_error(what, st);
  return std::move(*resp.mutable_url());
}

Result<v1::ContainerStats> GrpcRuntime::ContainerStats(const std::string& container_id) {
  const std::string what = on("ContainerStats", container_id);
  v1::ContainerStatsRequest req;
  req.set_container_id(container_id);
  v1::ContainerStatsResponse resp;
  auto st = impl_->call(what, [&](auto* c) { return impl_->runtime->ContainerStats(c, req, &resp); });
  if (!st.ok()) return to_error(what, st);
  return std::move(*resp.mutable_stats());
}

Result<std::vector<v1::ContainerStats>> GrpcRuntime::ListContainerStats(
    const v1::ContainerStatsFilter* filter) {
  v1::ListContainerStatsRequest req;
  if (filter) *req.mutable_filter() = *filter;
  v1::ListContainerStatsResponse resp;
  auto st = impl_->call("ListContainerStats",
                        [&](auto* c) { return impl_->runtime->ListContainerStats(c, req, &resp); });
  if (!st.ok()) return to_error("ListContainerStats", st);
  return take_all(resp.mutable_stats());
}

Result<v1::PodSandboxStats> GrpcRuntime::PodSandboxStats(const std::string& sandbox_id) {
  const std::string what = on("PodSandboxStats", sandbox_id);
  v1::PodSandboxStatsRequest req;
  req.set_pod_sandbox_id(sandbox_id);
  v1::PodSandboxStatsResponse resp;
  auto st =
      impl_->call(what, [&](auto* c) { return impl_->runtime->PodSandboxStats(c, req, &resp); });
  if (!st.ok()) return to_error(what, st);
  return std::move(*resp.mutable_stats());
}

Result<std::vector<v1::PodSandboxStats>> GrpcRuntime::ListPodSandboxStats(
    const v1::PodSandboxStatsFilter* filter) {
  v1::ListPodSandboxStatsRequest req;
  if (filter) *req.mutable_filter() = *filter;
  v1::ListPodSandboxStatsResponse resp;
  auto st = impl_->call("ListPodSandboxStats",
                        [&](auto* c) { return impl_->runtime->ListPodSandboxStats(c, req, &resp); });
  if (!st.ok()) return to_error("ListPodSandboxStats", st);
  return take_all(resp.mutable_stats());
}

// --- ImageService ---------------------------------------------------------------------------

Result<std::vector<v1::Image>> GrpcRuntime::ListImages(const v1::ImageFilter* filter) {
  v1::ListImagesRequest req;
  if (filter) *req.mutable_filter() = *filter;
  v1::ListImagesResponse resp;
  auto st = impl_->call("ListImages",
                        [&](auto* c) { return impl_->images->ListImages(c, req, &resp); });
  if (!st.ok()) return to_error("ListImages", st);
  return take_all(resp.mutable_images());
}

Result<v1::ImageStatusResponse> GrpcRuntime::ImageStatus(const v1::ImageSpec& image, bool verbose) {
  const std::string what = on("ImageStatus", image.image());
  v1::ImageStatusRequest req;
  *req.mutable_image() = image;
  req.set_verbose(verbose);
  v1::ImageStatusResponse resp;
  auto st = impl_->call(what, [&](auto* c) { return impl_->images->ImageStatus(c, req, &resp); });
  if (!st.ok()) return to_error(what, st);
  return resp;
}

Result<std::string> GrpcRuntime::PullImage(const v1::ImageSpec& image, const v1::AuthConfig* auth,
                                           const v1::PodSandboxConfig* sandbox_config) {
  const std::string what = on("PullImage", image.image());
  v1::PullImageRequest req;
  *req.mutable_image() = image;
  if (auth) *req.mutable_auth() = *auth;
  if (sandbox_config) *req.mutable_sandbox_config() = *sandbox_config;
  v1::PullImageResponse resp;
  auto st = impl_->call(what, impl_->options.pull_timeout,
                        [&](auto* c) { return impl_->images->PullImage(c, req, &resp); });
  if (!st.ok()) return to_error(what, st);
  if (resp.image_ref().empty()) return Error(what + ": the runtime returned no image reference");
  return std::move(*resp.mutable_image_ref());
}

Status GrpcRuntime::RemoveImage(const v1::ImageSpec& image) {
  const std::string what = on("RemoveImage", image.image());
  v1::RemoveImageRequest req;
  *req.mutable_image() = image;
  v1::RemoveImageResponse resp;
  auto st = impl_->call(what, [&](auto* c) { return impl_->images->RemoveImage(c, req, &resp); });
  if (!st.ok()) return to_error(what, st);
  return {};
}

Result<v1::ImageFsInfoResponse> GrpcRuntime::ImageFsInfo() {
  v1::ImageFsInfoRequest req;
  v1::ImageFsInfoResponse resp;
  auto st = impl_->call("ImageFsInfo",
                        [&](auto* c) { return impl_->images->ImageFsInfo(c, req, &resp); });
  if (!st.ok()) return to_error("ImageFsInfo", st);
  return resp;
}

}  // namespace knode::cri
