#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "agent/base/log.h"
#include "agent/kubelet/static_pods.h"

using namespace knode;
using namespace knode::kubelet;
namespace fs = std::filesystem;

namespace {

const char* kYaml = R"(apiVersion: v1
kind: Pod
metadata:
  name: hello
spec:
  containers:
  - name: web
    image: knode.local/busybox:1.36
    imagePullPolicy: Never
)";

const char* kJson = R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"j","namespace":"kube-system"},
 "spec":{"containers":[{"name":"c","image":"knode.local/busybox:1.36"}]}})";

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/knode-static-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
  void write(const std::string& name, const std::string& text) const { std::ofstream(path / name) << text; }
};

struct Captured {
  std::mutex mu;
  std::vector<std::vector<kube::Pod>> updates;
  void add(std::vector<kube::Pod> p) {
    std::lock_guard l(mu);
    updates.push_back(std::move(p));
  }
};

struct LogCapture {
  std::vector<std::string> lines;
  LogCapture() {
    log::set_sink([](std::string_view line, void* ctx) { static_cast<LogCapture*>(ctx)->lines.emplace_back(line); },
                  this);
  }
  ~LogCapture() { log::reset_sink(); }
  size_t count(const std::string& needle) const {
    size_t n = 0;
    for (const auto& l : lines) n += l.find(needle) != std::string::npos;
    return n;
  }
};

}  // namespace

TEST_CASE("static pods: name, namespace, annotations, node name, toleration", "[kubelet][static]") {
  auto pod = load_static_pod(kYaml, "/etc/kubernetes/manifests/hello.yaml", "Node-1", "2026-01-01T00:00:00Z");
  REQUIRE(pod.ok());
  CHECK(pod->metadata.name == "hello-node-1");
  CHECK(pod->metadata.namespace_ == "default");
  CHECK(pod->spec.node_name == "Node-1");
  CHECK(pod->metadata.uid.size() == 32);
  CHECK(pod->metadata.annotations.at("kubernetes.io/config.source") == "file");
  CHECK(pod->metadata.annotations.at("kubernetes.io/config.hash") == pod->metadata.uid);
  CHECK(pod->metadata.annotations.at("kubernetes.io/config.seen") == "2026-01-01T00:00:00Z");
  CHECK(pod->status.phase == "Pending");
  bool tol = false;
  for (const auto& t : pod->spec.tolerations) tol |= t.operator_ == "Exists" && t.effect == "NoExecute";
  CHECK(tol);
  auto j = load_static_pod(kJson, "/m/j.json", "n", "x");
  REQUIRE(j.ok());
  CHECK(j->metadata.name == "j-n");
  CHECK(j->metadata.namespace_ == "kube-system");
}

TEST_CASE("static pods: UID is stable and depends on content, node and file", "[kubelet][static]") {
  auto a = load_static_pod(kYaml, "/m/hello.yaml", "n1", "t1");
  auto b = load_static_pod(kYaml, "/m/hello.yaml", "n1", "t2");  // seen time does not matter
  auto other_node = load_static_pod(kYaml, "/m/hello.yaml", "n2", "t1");
  auto other_file = load_static_pod(kYaml, "/m/hello2.yaml", "n1", "t1");
  std::string changed = std::string(kYaml) + "    command: [sleep, \"3600\"]\n";
  auto c = load_static_pod(changed, "/m/hello.yaml", "n1", "t1");
  REQUIRE((a.ok() && b.ok() && other_node.ok() && other_file.ok() && c.ok()));
  CHECK(a->metadata.uid == b->metadata.uid);
  CHECK(a->metadata.uid != other_node->metadata.uid);
  CHECK(a->metadata.uid != other_file->metadata.uid);
  CHECK(a->metadata.uid != c->metadata.uid);
  // An explicit UID is kept.
  auto d = load_static_pod(std::string(kYaml).replace(std::string(kYaml).find("  name: hello"), 13,
                                                       "  name: hello\n  uid: fixed-uid"),
                           "/m/hello.yaml", "n1", "t");
  REQUIRE(d.ok());
  CHECK(d->metadata.uid == "fixed-uid");
}

TEST_CASE("static pods: invalid manifests are refused with the field named", "[kubelet][static]") {
  auto missing_kind = load_static_pod("metadata: {name: x}\nspec: {containers: [{name: c, image: i}]}\n", "/m/x", "n", "t");
  CHECK_FALSE(missing_kind.ok());
  auto dup = load_static_pod(R"(apiVersion: v1
kind: Pod
metadata: {name: x}
spec:
  containers:
  - {name: c, image: i}
  - {name: c, image: i}
)", "/m/x", "n", "t");
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().message().find("spec.containers[1].name") != std::string::npos);
  CHECK_FALSE(load_static_pod("{not yaml: [", "/m/x", "n", "t").ok());
}

TEST_CASE("static pod source: add, change, remove, dotfiles, invalid file logged once", "[kubelet][static]") {
  TempDir dir;
  LogCapture logs;
  Captured got;
  dir.write("hello.yaml", kYaml);
  dir.write(".hidden.yaml", kJson);
  dir.write("j.json", kJson);
  StaticPodSource src({.path = dir.path.string(), .node_name = "n1"}, [&](auto pods) { got.add(std::move(pods)); });
  src.scan();
  REQUIRE(got.updates.size() == 1);
  REQUIRE(got.updates[0].size() == 2);
  std::string hello_uid;
  for (const auto& p : got.updates[0])
    if (p.metadata.name == "hello-n1") hello_uid = p.metadata.uid;
  REQUIRE_FALSE(hello_uid.empty());

  src.scan();  // nothing changed: no delivery
  CHECK(got.updates.size() == 1);

  dir.write("bad.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec: {containers: [{name: c}]}\n");
  src.scan();
  src.scan();
  CHECK(got.updates.size() == 1);  // the set did not change
  CHECK(logs.count("Invalid static pod manifest") == 1);
  CHECK(logs.count("bad.yaml") == 1);

  dir.write("hello.yaml", std::string(kYaml) + "    command: [sleep, \"3600\"]\n");
  src.scan();
  REQUIRE(got.updates.size() == 2);
  REQUIRE(got.updates[1].size() == 2);
  for (const auto& p : got.updates[1])
    if (p.metadata.name == "hello-n1") CHECK(p.metadata.uid != hello_uid);

  fs::remove(dir.path / "hello.yaml");
  src.scan();
  REQUIRE(got.updates.size() == 3);
  REQUIRE(got.updates[2].size() == 1);
  CHECK(got.updates[2][0].metadata.name == "j-n1");
}

TEST_CASE("static pod source: inotify delivers a new file without waiting for the rescan", "[kubelet][static]") {
  TempDir dir;
  Captured got;
  StaticPodSource src({.path = dir.path.string(), .node_name = "n1", .check_period = std::chrono::hours(1)},
                      [&](auto pods) { got.add(std::move(pods)); });
  src.start();
  dir.write("hello.yaml", kYaml);
  for (int i = 0; i < 50; ++i) {
    {
      std::lock_guard l(got.mu);
      if (got.updates.size() >= 2) break;
    }
    usleep(50'000);
  }
  src.stop();
  std::lock_guard l(got.mu);
  REQUIRE(got.updates.size() >= 2);
  CHECK(got.updates[0].empty());
  CHECK(got.updates.back().size() == 1);
}
