// Volumes against the real kernel (root): memory-backed emptyDir as tmpfs, subPath bind mounts and
// their safety checks, mountPropagation checks, unmounting and orphan cleanup.
#include <catch2/catch.hpp>

#include <sys/mount.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/kubelet/volumes.h"
#include "../unit/kubelet_test_util.h"

using namespace knode;
using namespace knode::kubelet;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/knode-vol-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() {
    for (int i = 0; i < 3; ++i)
      for (const auto& p : mounts_under(path)) umount2(p.c_str(), MNT_DETACH);
    fs::remove_all(path);
  }
};

std::string slurp(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

kube::Pod volume_pod(const std::string& extra_mounts, const std::string& volumes, const std::string& container_extra = "") {
  return testing::pod_from_yaml(R"(apiVersion: v1
kind: Pod
metadata: {name: vols}
spec:
  containers:
  - name: app
    image: img
    env:
    - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: EMPTY, value: ""}
)" + container_extra + R"(
    volumeMounts:
)" + extra_mounts + R"(
  volumes:
)" + volumes, "uid-vol");
}

}  // namespace

TEST_CASE("volumes: emptyDir medium Memory is a tmpfs of sizeLimit, unmounted with the pod", "[kubelet][volumes]") {
  REQUIRE(geteuid() == 0);
  TempDir root;
  auto pod = volume_pod("    - {name: mem, mountPath: /mem}\n    - {name: big, mountPath: /big}\n    - {name: disk, mountPath: /disk}\n",
                        "  - {name: mem, emptyDir: {medium: Memory, sizeLimit: 16Mi}}\n"
                        "  - {name: big, emptyDir: {medium: Memory}}\n"
                        "  - {name: disk, emptyDir: {}}\n");
  REQUIRE(prepare_volumes(pod, root.path).ok());
  std::string mem = root.path + "/uid-vol/volumes/kubernetes.io~empty-dir/mem";
  std::string big = root.path + "/uid-vol/volumes/kubernetes.io~empty-dir/big";
  std::string disk = root.path + "/uid-vol/volumes/kubernetes.io~empty-dir/disk";
  struct statfs sfs {};
  REQUIRE(statfs(mem.c_str(), &sfs) == 0);
  CHECK(static_cast<unsigned long>(sfs.f_type) == 0x01021994UL);  // TMPFS_MAGIC
  CHECK(static_cast<uint64_t>(sfs.f_blocks) * sfs.f_bsize == 16ull << 20);
  REQUIRE(statfs(big.c_str(), &sfs) == 0);
  CHECK(static_cast<unsigned long>(sfs.f_type) == 0x01021994UL);
  CHECK(static_cast<uint64_t>(sfs.f_blocks) * sfs.f_bsize > 16ull << 20);  // tmpfs's own default size
  REQUIRE(statfs(disk.c_str(), &sfs) == 0);
  CHECK(static_cast<unsigned long>(sfs.f_type) != 0x01021994UL);
  CHECK((fs::status(mem).permissions() & fs::perms::others_write) != fs::perms::none);
  CHECK(mounts_under(root.path + "/uid-vol").size() == 2);

  // A second preparation (sandbox re-created) mounts nothing new and keeps the contents.
  std::ofstream(mem + "/keep") << "x";
  REQUIRE(prepare_volumes(pod, root.path).ok());
  CHECK(mounts_under(root.path + "/uid-vol").size() == 2);
  CHECK(slurp(mem + "/keep") == "x");

  remove_pod_dir(root.path, "uid-vol");
  CHECK(mounts_under(root.path).empty());
  CHECK_FALSE(fs::exists(root.path + "/uid-vol"));
}

TEST_CASE("volumes: subPath and subPathExpr are bind-mounted from inside the volume", "[kubelet][volumes]") {
  REQUIRE(geteuid() == 0);
  TempDir root;
  TempDir host;
  fs::create_directories(host.path + "/data/conf");
  std::ofstream(host.path + "/data/conf/app.conf") << "port=80\n";
  fs::create_symlink("data/conf", host.path + "/inner-link");  // a symlink that stays inside: allowed
  auto pod = volume_pod("    - {name: hp, mountPath: /etc/app, subPath: data/conf}\n"
                        "    - {name: hp, mountPath: /etc/app.conf, subPath: data/conf/app.conf}\n"
                        "    - {name: hp, mountPath: /linked, subPath: inner-link}\n"
                        "    - {name: scratch, mountPath: /per-pod, subPathExpr: \"logs/$(POD_NAME)\"}\n",
                        "  - {name: hp, hostPath: {path: " + host.path + "}}\n  - {name: scratch, emptyDir: {}}\n");
  REQUIRE(prepare_volumes(pod, root.path).ok());
  auto mounts = container_mounts(pod, pod.spec.containers[0], root.path);
  REQUIRE(mounts.ok());
  REQUIRE(mounts->size() == 4);
  std::string subpaths = root.path + "/uid-vol/volume-subpaths/";
  CHECK((*mounts)[0].host_path == subpaths + "hp/app/0");
  CHECK((*mounts)[0].container_path == "/etc/app");
  CHECK(slurp((*mounts)[0].host_path + "/app.conf") == "port=80\n");  // only the sub-directory
  CHECK_FALSE(fs::exists((*mounts)[0].host_path + "/conf"));
  CHECK((*mounts)[1].host_path == subpaths + "hp/app/1");
  CHECK(fs::is_regular_file((*mounts)[1].host_path));
  CHECK(slurp((*mounts)[1].host_path) == "port=80\n");
  CHECK(slurp((*mounts)[2].host_path + "/app.conf") == "port=80\n");
  // subPathExpr: $(POD_NAME) from the container's environment; the directory is created.
  CHECK(fs::is_directory(root.path + "/uid-vol/volumes/kubernetes.io~empty-dir/scratch/logs/vols"));
  std::ofstream((*mounts)[3].host_path + "/out.log") << "hello";
  CHECK(slurp(root.path + "/uid-vol/volumes/kubernetes.io~empty-dir/scratch/logs/vols/out.log") == "hello");
  CHECK(mounts_under(root.path + "/uid-vol").size() == 4);

  // A container restart prepares the same targets again without stacking mounts.
  REQUIRE(container_mounts(pod, pod.spec.containers[0], root.path).ok());
  CHECK(mounts_under(root.path + "/uid-vol").size() == 4);

  remove_pod_dir(root.path, "uid-vol");
  CHECK(mounts_under(root.path).empty());
  CHECK_FALSE(fs::exists(root.path + "/uid-vol"));
  CHECK(slurp(host.path + "/data/conf/app.conf") == "port=80\n");  // the hostPath is untouched
}

TEST_CASE("volumes: unsafe subPaths fail with upstream's messages and mount nothing", "[kubelet][volumes]") {
  REQUIRE(geteuid() == 0);
  TempDir root;
  TempDir host;
  TempDir outside;
  fs::create_symlink(outside.path, host.path + "/escape");
  fs::create_symlink("../..", host.path + "/up");
  auto check = [&](const std::string& mount, const std::string& want) {
    auto pod = volume_pod("    - {name: hp, mountPath: /x, " + mount + "}\n",
                          "  - {name: hp, hostPath: {path: " + host.path + "}}\n");
    REQUIRE(prepare_volumes(pod, root.path).ok());
    auto r = container_mounts(pod, pod.spec.containers[0], root.path);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message() == want);
    CHECK(mounts_under(root.path).empty());
  };
  check("subPath: ../etc", "unable to provision SubPath `../etc`: must not contain '..'");
  check("subPath: a/../../etc", "unable to provision SubPath `a/../../etc`: must not contain '..'");
  check("subPath: /etc", "error SubPath `/etc` must not be an absolute path");
  check("subPathExpr: \"$(POD_NAME)/../../x\"", "unable to provision SubPath `vols/../../x`: must not contain '..'");
  check("subPath: escape", "failed to prepare subPath for volumeMount \"hp\" of container \"app\"");
  check("subPath: escape/new-dir", "failed to prepare subPath for volumeMount \"hp\" of container \"app\"");
  check("subPath: up", "failed to prepare subPath for volumeMount \"hp\" of container \"app\"");
  CHECK(fs::is_empty(outside.path));  // nothing was created through the escaping symlink
  auto pod = volume_pod("    - {name: hp, mountPath: /x, subPathExpr: \"$(EMPTY)/$(NOPE)\"}\n",
                        "  - {name: hp, hostPath: {path: " + host.path + "}}\n");
  auto r = container_mounts(pod, pod.spec.containers[0], root.path);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message().find("EMPTY") != std::string::npos);
}

TEST_CASE("volumes: mountPropagation maps to the CRI modes; Bidirectional needs a privileged container",
          "[kubelet][volumes]") {
  TempDir root;
  std::string vol = "  - {name: hp, hostPath: {path: /tmp}}\n";
  auto mode = [&](const std::string& m, const std::string& extra = "") {
    auto pod = volume_pod("    - {name: hp, mountPath: /x, mountPropagation: " + m + "}\n", vol, extra);
    return container_mounts(pod, pod.spec.containers[0], root.path);
  };
  auto r = mode("None");
  REQUIRE(r.ok());
  CHECK(r->at(0).propagation == "None");
  r = mode("HostToContainer");
  REQUIRE(r.ok());
  CHECK(r->at(0).propagation == "HostToContainer");
  r = mode("Bidirectional");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message() ==
        "volumeMount \"hp\" of container \"app\": Bidirectional mount propagation is available only to privileged containers");
  r = mode("Bidirectional", "    securityContext: {privileged: true}\n");
  REQUIRE(r.ok());
  CHECK(r->at(0).propagation == "Bidirectional");
  r = mode("Sideways");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message().rfind("invalid MountPropagation mode: \"Sideways\"", 0) == 0);
}

TEST_CASE("volumes: directories of pods that are gone are unmounted and removed", "[kubelet][volumes]") {
  REQUIRE(geteuid() == 0);
  TempDir root;
  auto mem = [](const std::string& uid) {
    return testing::pod_from_yaml(R"(apiVersion: v1
kind: Pod
metadata: {name: m}
spec:
  containers: [{name: app, image: img}]
  volumes: [{name: mem, emptyDir: {medium: Memory, sizeLimit: 1Mi}}]
)", uid);
  };
  REQUIRE(prepare_volumes(mem("gone"), root.path).ok());
  REQUIRE(prepare_volumes(mem("kept"), root.path).ok());
  std::ofstream(root.path + "/gone/volumes/kubernetes.io~empty-dir/mem/data") << "x";
  auto removed = cleanup_orphaned_pod_dirs(root.path, {"kept"});
  CHECK(removed == std::vector<std::string>{"gone"});
  CHECK_FALSE(fs::exists(root.path + "/gone"));
  CHECK(mounts_under(root.path + "/gone").empty());
  CHECK(mounts_under(root.path + "/kept").size() == 1);
}
