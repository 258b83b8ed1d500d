// Wire compatibility of cri/api.proto with the published CRI v1 definition (runtime.v1):
//  - every message, field number, cardinality and type we declare is listed below, transcribed
//    separately from the published api.proto, and compared with the compiled descriptors;
//  - enum values and the service/method names (they form the HTTP/2 paths) are compared too;
//  - a few messages are serialized and their bytes checked by hand, and bytes as a runtime sends
//    them are parsed back.
#include <catch2/catch.hpp>

#include <google/protobuf/descriptor.h>

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "api.grpc.pb.h"
#include "cri/types.h"

namespace v1 = knode::cri::v1;
using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::FieldDescriptor;

namespace {

// One line per message: `Message field=number:type ...`. `*type` is repeated, `map` a map<string,
// string>; type is a scalar name, or the name of a message or enum in runtime.v1.
constexpr const char* kPublishedFields = R"(
VersionRequest version=1:string
VersionResponse version=1:string runtime_name=2:string runtime_version=3:string runtime_api_version=4:string
DNSConfig servers=1:*string searches=2:*string options=3:*string
PortMapping protocol=1:Protocol container_port=2:int32 host_port=3:int32 host_ip=4:string
Mount container_path=1:string host_path=2:string readonly=3:bool selinux_relabel=4:bool propagation=5:MountPropagation uidMappings=6:*IDMapping gidMappings=7:*IDMapping recursive_read_only=8:bool image=9:ImageSpec
IDMapping host_id=1:uint32 container_id=2:uint32 length=3:uint32
UserNamespace mode=1:NamespaceMode uids=2:*IDMapping gids=3:*IDMapping
NamespaceOption network=1:NamespaceMode pid=2:NamespaceMode ipc=3:NamespaceMode target_id=4:string userns_options=5:UserNamespace
Int64Value value=1:int64
LinuxSandboxSecurityContext namespace_options=1:NamespaceOption selinux_options=2:SELinuxOption run_as_user=3:Int64Value run_as_group=8:Int64Value readonly_rootfs=4:bool supplemental_groups=5:*int64 supplemental_groups_policy=11:SupplementalGroupsPolicy privileged=6:bool seccomp=9:SecurityProfile apparmor=10:SecurityProfile seccomp_profile_path=7:string
SecurityProfile profile_type=1:ProfileType localhost_ref=2:string
LinuxPodSandboxConfig cgroup_parent=1:string security_context=2:LinuxSandboxSecurityContext sysctls=3:map overhead=4:LinuxContainerResources resources=5:LinuxContainerResources
PodSandboxMetadata name=1:string uid=2:string namespace=3:string attempt=4:uint32
PodSandboxConfig metadata=1:PodSandboxMetadata hostname=2:string log_directory=3:string dns_config=4:DNSConfig port_mappings=5:*PortMapping labels=6:map annotations=7:map linux=8:LinuxPodSandboxConfig
RunPodSandboxRequest config=1:PodSandboxConfig runtime_handler=2:string
RunPodSandboxResponse pod_sandbox_id=1:string
StopPodSandboxRequest pod_sandbox_id=1:string
StopPodSandboxResponse
RemovePodSandboxRequest pod_sandbox_id=1:string
RemovePodSandboxResponse
PodSandboxStatusRequest pod_sandbox_id=1:string verbose=2:bool
PodIP ip=1:string
PodSandboxNetworkStatus ip=1:string additional_ips=2:*PodIP
Namespace options=2:NamespaceOption
LinuxPodSandboxStatus namespaces=1:Namespace
PodSandboxStatus id=1:string metadata=2:PodSandboxMetadata state=3:PodSandboxState created_at=4:int64 network=5:PodSandboxNetworkStatus linux=6:LinuxPodSandboxStatus labels=7:map annotations=8:map runtime_handler=9:string
PodSandboxStatusResponse status=1:PodSandboxStatus info=2:map containers_statuses=3:*ContainerStatus timestamp=4:int64
PodSandboxStateValue state=1:PodSandboxState
PodSandboxFilter id=1:string state=2:PodSandboxStateValue label_selector=3:map
ListPodSandboxRequest filter=1:PodSandboxFilter
PodSandbox id=1:string metadata=2:PodSandboxMetadata state=3:PodSandboxState created_at=4:int64 labels=5:map annotations=6:map runtime_handler=7:string
ListPodSandboxResponse items=1:*PodSandbox
PodSandboxStatsRequest pod_sandbox_id=1:string
PodSandboxStatsResponse stats=1:PodSandboxStats
PodSandboxStatsFilter id=1:string label_selector=2:map
ListPodSandboxStatsRequest filter=1:PodSandboxStatsFilter
ListPodSandboxStatsResponse stats=1:*PodSandboxStats
PodSandboxAttributes id=1:string metadata=2:PodSandboxMetadata labels=3:map annotations=4:map
PodSandboxStats attributes=1:PodSandboxAttributes linux=2:LinuxPodSandboxStats
LinuxPodSandboxStats cpu=1:CpuUsage memory=2:MemoryUsage network=3:NetworkUsage process=4:ProcessUsage containers=5:*ContainerStats
NetworkUsage timestamp=1:int64 default_interface=2:NetworkInterfaceUsage interfaces=3:*NetworkInterfaceUsage
NetworkInterfaceUsage name=1:string rx_bytes=2:UInt64Value rx_errors=3:UInt64Value tx_bytes=4:UInt64Value tx_errors=5:UInt64Value
ProcessUsage timestamp=1:int64 process_count=2:UInt64Value
ImageSpec image=1:string annotations=2:map user_specified_image=18:string runtime_handler=19:string
KeyValue key=1:string value=2:string
LinuxContainerResources cpu_period=1:int64 cpu_quota=2:int64 cpu_shares=3:int64 memory_limit_in_bytes=4:int64 oom_score_adj=5:int64 cpuset_cpus=6:string cpuset_mems=7:string hugepage_limits=8:*HugepageLimit unified=9:map memory_swap_limit_in_bytes=10:int64
HugepageLimit page_size=1:string limit=2:uint64
SELinuxOption user=1:string role=2:string type=3:string level=4:string
Capability add_capabilities=1:*string drop_capabilities=2:*string add_ambient_capabilities=3:*string
LinuxContainerSecurityContext capabilities=1:Capability privileged=2:bool namespace_options=3:NamespaceOption selinux_options=4:SELinuxOption run_as_user=5:Int64Value run_as_group=12:Int64Value run_as_username=6:string readonly_rootfs=7:bool supplemental_groups=8:*int64 supplemental_groups_policy=17:SupplementalGroupsPolicy no_new_privs=11:bool masked_paths=13:*string readonly_paths=14:*string seccomp=15:SecurityProfile apparmor=16:SecurityProfile apparmor_profile=9:string seccomp_profile_path=10:string
LinuxContainerConfig resources=1:LinuxContainerResources security_context=2:LinuxContainerSecurityContext
LinuxContainerUser uid=1:int64 gid=2:int64 supplemental_groups=3:*int64
ContainerMetadata name=1:string attempt=2:uint32
Device container_path=1:string host_path=2:string permissions=3:string
CDIDevice name=1:string
ContainerConfig metadata=1:ContainerMetadata image=2:ImageSpec command=3:*string args=4:*string working_dir=5:string envs=6:*KeyValue mounts=7:*Mount devices=8:*Device labels=9:map annotations=10:map log_path=11:string stdin=12:bool stdin_once=13:bool tty=14:bool linux=15:LinuxContainerConfig CDI_devices=17:*CDIDevice
CreateContainerRequest pod_sandbox_id=1:string config=2:ContainerConfig sandbox_config=3:PodSandboxConfig
CreateContainerResponse container_id=1:string
StartContainerRequest container_id=1:string
StartContainerResponse
StopContainerRequest container_id=1:string timeout=2:int64
StopContainerResponse
RemoveContainerRequest container_id=1:string
RemoveContainerResponse
ContainerStateValue state=1:ContainerState
ContainerFilter id=1:string state=2:ContainerStateValue pod_sandbox_id=3:string label_selector=4:map
ListContainersRequest filter=1:ContainerFilter
Container id=1:string pod_sandbox_id=2:string metadata=3:ContainerMetadata image=4:ImageSpec image_ref=5:string state=6:ContainerState created_at=7:int64 labels=8:map annotations=9:map image_id=10:string
ListContainersResponse containers=1:*Container
ContainerStatusRequest container_id=1:string verbose=2:bool
ContainerStatus id=1:string metadata=2:ContainerMetadata state=3:ContainerState created_at=4:int64 started_at=5:int64 finished_at=6:int64 exit_code=7:int32 image=8:ImageSpec image_ref=9:string reason=10:string message=11:string labels=12:map annotations=13:map mounts=14:*Mount log_path=15:string resources=16:ContainerResources image_id=17:string user=18:ContainerUser image_source=19:string
ContainerStatusResponse status=1:ContainerStatus info=2:map
ContainerResources linux=1:LinuxContainerResources
ContainerUser linux=1:LinuxContainerUser
UpdateContainerResourcesRequest container_id=1:string linux=2:LinuxContainerResources annotations=4:map
UpdateContainerResourcesResponse
ExecSyncRequest container_id=1:string cmd=2:*string timeout=3:int64
ExecSyncResponse stdout=1:bytes stderr=2:bytes exit_code=3:int32
ExecRequest container_id=1:string cmd=2:*string tty=3:bool stdin=4:bool stdout=5:bool stderr=6:bool
ExecResponse url=1:string
AttachRequest container_id=1:string stdin=2:bool tty=3:bool stdout=4:bool stderr=5:bool
AttachResponse url=1:string
PortForwardRequest pod_sandbox_id=1:string port=2:*int32
PortForwardResponse url=1:string
ImageFilter image=1:ImageSpec
ListImagesRequest filter=1:ImageFilter
Image id=1:string repo_tags=2:*string repo_digests=3:*string size=4:uint64 uid=5:Int64Value username=6:string spec=7:ImageSpec pinned=8:bool image_source=9:string
ListImagesResponse images=1:*Image
ImageStatusRequest image=1:ImageSpec verbose=2:bool
ImageStatusResponse image=1:Image info=2:map
AuthConfig username=1:string password=2:string auth=3:string server_address=4:string identity_token=5:string registry_token=6:string
PullImageRequest image=1:ImageSpec auth=2:AuthConfig sandbox_config=3:PodSandboxConfig
PullImageResponse image_ref=1:string
RemoveImageRequest image=1:ImageSpec
RemoveImageResponse
NetworkConfig pod_cidr=1:string
RuntimeConfig network_config=1:NetworkConfig
UpdateRuntimeConfigRequest runtime_config=1:RuntimeConfig
UpdateRuntimeConfigResponse
RuntimeCondition type=1:string status=2:bool reason=3:string message=4:string
RuntimeStatus conditions=1:*RuntimeCondition
StatusRequest verbose=1:bool
RuntimeHandlerFeatures recursive_read_only_mounts=1:bool user_namespaces=2:bool
RuntimeHandler name=1:string features=2:RuntimeHandlerFeatures
RuntimeFeatures supplemental_groups_policy=1:bool
StatusResponse status=1:RuntimeStatus info=2:map runtime_handlers=3:*RuntimeHandler features=4:RuntimeFeatures
ImageFsInfoRequest
UInt64Value value=1:uint64
FilesystemIdentifier mountpoint=1:string
FilesystemUsage timestamp=1:int64 fs_id=2:FilesystemIdentifier used_bytes=3:UInt64Value inodes_used=4:UInt64Value
ImageFsInfoResponse image_filesystems=1:*FilesystemUsage container_filesystems=2:*FilesystemUsage
ContainerStatsRequest container_id=1:string
ContainerStatsResponse stats=1:ContainerStats
ListContainerStatsRequest filter=1:ContainerStatsFilter
ContainerStatsFilter id=1:string pod_sandbox_id=2:string label_selector=3:map
ListContainerStatsResponse stats=1:*ContainerStats
ContainerAttributes id=1:string metadata=2:ContainerMetadata labels=3:map annotations=4:map
ContainerStats attributes=1:ContainerAttributes cpu=2:CpuUsage memory=3:MemoryUsage writable_layer=4:FilesystemUsage swap=5:SwapUsage
CpuUsage timestamp=1:int64 usage_core_nano_seconds=2:UInt64Value usage_nano_cores=3:UInt64Value
MemoryUsage timestamp=1:int64 working_set_bytes=2:UInt64Value available_bytes=3:UInt64Value usage_bytes=4:UInt64Value rss_bytes=5:UInt64Value page_faults=6:UInt64Value major_page_faults=7:UInt64Value
SwapUsage timestamp=1:int64 swap_available_bytes=2:UInt64Value swap_usage_bytes=3:UInt64Value
ReopenContainerLogRequest container_id=1:string
ReopenContainerLogResponse
RuntimeConfigRequest
RuntimeConfigResponse linux=1:LinuxRuntimeConfiguration
LinuxRuntimeConfiguration cgroup_driver=1:CgroupDriver
)";

// `Enum NAME=value ...`
constexpr const char* kPublishedEnums = R"(
Protocol TCP=0 UDP=1 SCTP=2
MountPropagation PROPAGATION_PRIVATE=0 PROPAGATION_HOST_TO_CONTAINER=1 PROPAGATION_BIDIRECTIONAL=2
NamespaceMode POD=0 CONTAINER=1 NODE=2 TARGET=3
SupplementalGroupsPolicy Merge=0 Strict=1
SecurityProfile.ProfileType RuntimeDefault=0 Unconfined=1 Localhost=2
PodSandboxState SANDBOX_READY=0 SANDBOX_NOTREADY=1
ContainerState CONTAINER_CREATED=0 CONTAINER_RUNNING=1 CONTAINER_EXITED=2 CONTAINER_UNKNOWN=3
CgroupDriver SYSTEMD=0 CGROUPFS=1
)";

// `Service Method:Request:Response ...`
constexpr const char* kPublishedMethods = R"(
RuntimeService Version:VersionRequest:VersionResponse RunPodSandbox:RunPodSandboxRequest:RunPodSandboxResponse StopPodSandbox:StopPodSandboxRequest:StopPodSandboxResponse RemovePodSandbox:RemovePodSandboxRequest:RemovePodSandboxResponse PodSandboxStatus:PodSandboxStatusRequest:PodSandboxStatusResponse ListPodSandbox:ListPodSandboxRequest:ListPodSandboxResponse CreateContainer:CreateContainerRequest:CreateContainerResponse StartContainer:StartContainerRequest:StartContainerResponse StopContainer:StopContainerRequest:StopContainerResponse RemoveContainer:RemoveContainerRequest:RemoveContainerResponse ListContainers:ListContainersRequest:ListContainersResponse ContainerStatus:ContainerStatusRequest:ContainerStatusResponse UpdateContainerResources:UpdateContainerResourcesRequest:UpdateContainerResourcesResponse ReopenContainerLog:ReopenContainerLogRequest:ReopenContainerLogResponse ExecSync:ExecSyncRequest:ExecSyncResponse Exec:ExecRequest:ExecResponse Attach:AttachRequest:AttachResponse PortForward:PortForwardRequest:PortForwardResponse ContainerStats:ContainerStatsRequest:ContainerStatsResponse ListContainerStats:ListContainerStatsRequest:ListContainerStatsResponse PodSandboxStats:PodSandboxStatsRequest:PodSandboxStatsResponse ListPodSandboxStats:ListPodSandboxStatsRequest:ListPodSandboxStatsResponse UpdateRuntimeConfig:UpdateRuntimeConfigRequest:UpdateRuntimeConfigResponse Status:StatusRequest:StatusResponse RuntimeConfig:RuntimeConfigRequest:RuntimeConfigResponse
ImageService ListImages:ListImagesRequest:ListImagesResponse ImageStatus:ImageStatusRequest:ImageStatusResponse PullImage:PullImageRequest:PullImageResponse RemoveImage:RemoveImageRequest:RemoveImageResponse ImageFsInfo:ImageFsInfoRequest:ImageFsInfoResponse
)";

std::vector<std::vector<std::string>> lines_of(const char* text) {
  std::vector<std::vector<std::string>> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string x; words >> x;) w.push_back(x);
    if (!w.empty()) out.push_back(std::move(w));
  }
  return out;
}

const DescriptorPool* pool() {
  // Touch a generated type so its file is registered in the generated pool.
  (void)v1::VersionRequest::descriptor();
  return DescriptorPool::generated_pool();
}

std::string type_of(const FieldDescriptor* f) {
  if (f->is_map()) return "map";
  std::string t;
  if (f->type() == FieldDescriptor::TYPE_MESSAGE) {
    t = f->message_type()->name();
  } else if (f->type() == FieldDescriptor::TYPE_ENUM) {
    t = f->enum_type()->name();
  } else {
    t = f->type_name();
  }
  return f->is_repeated() ? "*" + t : t;
}

}  // namespace

TEST_CASE("every declared field has the published number, cardinality and type", "[cri][wire]") {
  std::set<std::string> listed;
  for (const auto& w : lines_of(kPublishedFields)) {
    const std::string message = "runtime.v1." + w[0];
    INFO(message);
    listed.insert(message);
    const Descriptor* d = pool()->FindMessageTypeByName(message);
    REQUIRE(d != nullptr);
    std::set<std::string> seen;
    for (size_t i = 1; i < w.size(); ++i) {
      auto eq = w[i].find('=');
      auto colon = w[i].find(':');
      std::string name = w[i].substr(0, eq);
      int number = std::stoi(w[i].substr(eq + 1, colon - eq - 1));
      std::string type = w[i].substr(colon + 1);
      INFO(name);
      const FieldDescriptor* f = d->FindFieldByName(name);
      REQUIRE(f != nullptr);
      CHECK(f->number() == number);
      CHECK(type_of(f) == type);
      if (type == "map") {
        CHECK(f->message_type()->map_key()->type() == FieldDescriptor::TYPE_STRING);
        CHECK(f->message_type()->map_value()->type() == FieldDescriptor::TYPE_STRING);
      }
      seen.insert(name);
    }
    // Nothing declared here that the list does not vouch for.
    for (int i = 0; i < d->field_count(); ++i) {
      INFO("declared but not in the published list: " << d->field(i)->name());
      CHECK(seen.contains(d->field(i)->name()));
    }
  }
  // And every message of ours is in the list.
  const auto* file = v1::VersionRequest::descriptor()->file();
  for (int i = 0; i < file->message_type_count(); ++i) {
    INFO(file->message_type(i)->full_name());
    CHECK(listed.contains(file->message_type(i)->full_name()));
  }
  CHECK(file->package() == "runtime.v1");
}

TEST_CASE("enum values are the published ones", "[cri][wire]") {
  for (const auto& w : lines_of(kPublishedEnums)) {
    INFO(w[0]);
    const auto* e = pool()->FindEnumTypeByName("runtime.v1." + w[0]);
    REQUIRE(e != nullptr);
    CHECK(e->value_count() == static_cast<int>(w.size() - 1));
    for (size_t i = 1; i < w.size(); ++i) {
      auto eq = w[i].find('=');
      const auto* v = e->FindValueByName(w[i].substr(0, eq));
      REQUIRE(v != nullptr);
      CHECK(v->number() == std::stoi(w[i].substr(eq + 1)));
    }
  }
}

TEST_CASE("services and methods have the published names and types", "[cri][wire]") {
  for (const auto& w : lines_of(kPublishedMethods)) {
    const auto* s = pool()->FindServiceByName("runtime.v1." + w[0]);
    REQUIRE(s != nullptr);
    CHECK(s->method_count() == static_cast<int>(w.size() - 1));
    for (size_t i = 1; i < w.size(); ++i) {
      auto a = w[i].find(':');
      auto b = w[i].rfind(':');
      INFO(w[i]);
      const auto* m = s->FindMethodByName(w[i].substr(0, a));
      REQUIRE(m != nullptr);
      CHECK(m->input_type()->name() == w[i].substr(a + 1, b - a - 1));
      CHECK(m->output_type()->name() == w[i].substr(b + 1));
      CHECK_FALSE(m->client_streaming());
      CHECK_FALSE(m->server_streaming());
    }
  }
}

namespace {
std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s.push_back(static_cast<char>(x));
  return s;
}
}  // namespace

TEST_CASE("messages serialize to the published wire bytes", "[cri][wire]") {
  SECTION("StopContainerRequest: id=1 (LEN), timeout=2 (VARINT)") {
    v1::StopContainerRequest r;
    r.set_container_id("ab");
    r.set_timeout(30);
    CHECK(r.SerializeAsString() == bytes({0x0a, 0x02, 'a', 'b', 0x10, 30}));
  }
  SECTION("PodSandboxMetadata namespace=3 and attempt=4") {
    v1::PodSandboxMetadata m;
    m.set_name("p");
    m.set_uid("u");
    m.set_namespace_("n");
    m.set_attempt(2);
    CHECK(m.SerializeAsString() ==
          bytes({0x0a, 1, 'p', 0x12, 1, 'u', 0x1a, 1, 'n', 0x20, 2}));
  }
  SECTION("ContainerConfig log_path=11, tty=14, linux=15") {
    v1::ContainerConfig c;
    c.set_log_path("l");
    c.set_tty(true);
    c.mutable_linux()->mutable_resources()->set_memory_limit_in_bytes(1);
    // 11<<3|2 = 0x5a; 14<<3|0 = 0x70; 15<<3|2 = 0x7a; resources=1 (0x0a) { memory=4 (0x20) 1 }
    CHECK(c.SerializeAsString() ==
          bytes({0x5a, 1, 'l', 0x70, 1, 0x7a, 4, 0x0a, 2, 0x20, 1}));
  }
  SECTION("LinuxContainerSecurityContext run_as_group=12 and no_new_privs=11") {
    v1::LinuxContainerSecurityContext s;
    s.set_no_new_privs(true);
    s.mutable_run_as_group()->set_value(7);
    // 11<<3|0 = 0x58; 12<<3|2 = 0x62 { value=1 (0x08) 7 }
    CHECK(s.SerializeAsString() == bytes({0x58, 1, 0x62, 2, 0x08, 7}));
  }
  SECTION("ImageSpec user_specified_image=18 takes a two-byte tag") {
    v1::ImageSpec i;
    i.set_user_specified_image("x");
    // 18<<3|2 = 146 -> varint 0x92 0x01
    CHECK(i.SerializeAsString() == bytes({0x92, 0x01, 1, 'x'}));
  }
  SECTION("labels are map entries: key=1, value=2") {
    v1::PodSandboxConfig c;
    (*c.mutable_labels())["a"] = "b";
    // labels=6 -> 0x32, entry { 0x0a 1 'a' 0x12 1 'b' }
    CHECK(c.SerializeAsString() == bytes({0x32, 6, 0x0a, 1, 'a', 0x12, 1, 'b'}));
  }
  SECTION("negative oom_score_adj is a 10-byte varint (int64)") {
    v1::LinuxContainerResources r;
    r.set_oom_score_adj(-1);
    CHECK(r.SerializeAsString() ==
          bytes({0x28, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}));
  }
}

TEST_CASE("a ContainerStatusResponse as a runtime sends it parses", "[cri][wire]") {
  // status=1 { id=1 "c1", state=3 EXITED(2), exit_code=7 137, reason=10 "Error",
  //            finished_at=6 5, an unknown field 99 (string) }, info=2 {"k":"v"}
  std::string status = bytes({0x0a, 2, 'c', '1', 0x18, 2, 0x38, 0x89, 0x01, 0x52, 5, 'E', 'r', 'r',
                              'o', 'r', 0x30, 5, 0x9a, 0x06, 1, 'z'});
  std::string wire = bytes({0x0a, static_cast<int>(status.size())}) + status +
                     bytes({0x12, 6, 0x0a, 1, 'k', 0x12, 1, 'v'});
  v1::ContainerStatusResponse r;
  REQUIRE(r.ParseFromString(wire));
  CHECK(r.status().id() == "c1");
  CHECK(r.status().state() == v1::CONTAINER_EXITED);
  CHECK(r.status().exit_code() == 137);
  CHECK(r.status().reason() == "Error");
  CHECK(r.status().finished_at() == 5);
  CHECK(r.info().at("k") == "v");
}

TEST_CASE("gRPC method paths are the CRI's", "[cri][wire]") {
  // The path is what a runtime routes on: /<package>.<Service>/<Method>.
  const auto* s = v1::RuntimeService::service_full_name();
  CHECK(std::string(s) == "runtime.v1.RuntimeService");
  CHECK(std::string(v1::ImageService::service_full_name()) == "runtime.v1.ImageService");
}
