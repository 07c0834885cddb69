// The lifecycle service: nodes and their state machine, operations as durable jobs, the boot
// endpoints' logic (iPXE script, one-time config and callback tokens), OS images and install
// templates, and DHCP discovery.
//
// Operations. StartOperation() checks the rule (OpRules()), moves the node into the
// operation's transient state, enqueues its job and appends the audit event, all in one
// transaction: two concurrent requests cannot both start (the second sees the transient state
// and gets kFailedPrecondition). The job (RunOperation) renders the install configuration first
// (a broken template fails the job before the node is powered), sets the boot device to PXE,
// powers the node off and on, and waits for the node to call back before its deadline. On
// success the node reaches the operation's target state; a failed report, an exhausted retry of
// the BMC or a missed deadline makes it `broken` with the reason and the last log lines;
// cancelling the job returns the node to where it came from (commission, rescue) or to `broken`
// (deploy, release: the disk is in an unknown state).
//
// Every change appends its audit event in the same transaction. Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "audit/service.h"
#include "cmdb/service.h"
#include "core/principal.h"
#include "jobs/service.h"
#include "lifecycle/node_control.h"
#include "lifecycle/store.h"
#include "lifecycle/types.h"

namespace gantry::jobs {
class JobContext;
}

namespace gantry::lifecycle {

struct Options {
  // Base URL nodes use to reach Gantry (http://10.99.0.1:8080); empty: boot endpoints answer
  // with an error script.
  std::string boot_url;
  // Where image files live (DATA_DIR/images).
  std::string image_dir;
  std::string commission_image = "inventory";
  std::string deploy_image = "installer";
  std::string release_image = "installer";
  std::string rescue_image = "rescue";
  std::string deploy_template = "gantry-script";
  int64_t op_timeout_s = 1800;     // default callback deadline of an operation
  int64_t token_ttl_s = 3600;      // config and callback tokens
  std::string kernel_args = "console=ttyS0";  // appended to every kernel command line
  std::vector<std::string> ssh_keys;          // default authorized keys of deployed nodes
  int64_t wait_poll_ms = 500;      // how often a waiting job re-reads the node (other replicas)
};

// kPermissionDenied unless the caller's roles allow `action` (policy table) or it is the system.
core::Status RequireAction(const core::RequestContext& rc, std::string_view action);

struct NewNode {
  std::string name;
  std::string mac;
  std::optional<std::string> ip, bmc;
};

struct OpRequest {
  std::optional<std::string> image, template_name;
  core::json::object vars;               // per-node template variables (deploy)
  std::optional<int64_t> timeout_s;      // callback deadline
};

// What a node reports when it calls back.
struct Report {
  bool ok = true;
  std::string message;
  std::vector<std::string> log;
  std::optional<core::json::object> inventory;  // commissioning: cpus, memory, disks, nics
};

// One DHCP lease seen by the managed dnsmasq.
struct DhcpSighting {
  std::string mac, ip, hostname;
};

class Service {
 public:
  Service(store::Database& db, const audit::Service& audit, const core::Clock& clock,
          jobs::Service& jobs, cmdb::Service* cmdb, NodeControl& control, Options options);

  // Installs the built-in templates (gantry-script, kickstart, preseed, cloud-init).
  core::Status Init();
  const Options& options() const { return options_; }

  // ---- nodes (nodes.read / nodes.write / nodes.operate) ----
  core::Result<Node> CreateNode(const core::RequestContext& rc, NewNode n);
  core::Result<Node> GetNode(const core::RequestContext& rc, std::string_view ref);
  core::Result<std::vector<Node>> ListNodes(const core::RequestContext& rc, NodeFilter f);
  // Refused while an operation runs.
  core::Status DeleteNode(const core::RequestContext& rc, std::string_view ref);
  core::Result<Node> StartOperation(const core::RequestContext& rc, std::string_view ref, Op op,
                                    OpRequest req);
  // Enter (from any state without an operation) or leave maintenance (back to the state before).
  core::Result<Node> SetMaintenance(const core::RequestContext& rc, std::string_view ref, bool on,
                                    const std::string& reason);
  core::Result<Node> MarkBroken(const core::RequestContext& rc, std::string_view ref,
                                const std::string& reason);
  core::Result<std::vector<std::pair<std::string, int64_t>>> CountByState();

  // ---- discovery ----
  // Enlists an unknown MAC as a `discovered` node (and its server CI, source "dhcp"); for a
  // known one records the address. Never starts or restarts an operation.
  core::Result<Node> ObserveDhcp(const core::RequestContext& rc, const DhcpSighting& s);

  // ---- boot endpoints (unauthenticated; the token or the MAC scopes them) ----
  // The iPXE script for the node with this MAC: the operation's kernel and initrd with fresh
  // one-time tokens, local disk for deployed nodes, a polling loop otherwise. An unknown MAC is
  // enlisted. `remote_ip` must match the node's DHCP address when one is known.
  core::Result<std::string> BootScript(std::string_view mac, std::string_view remote_ip);
  // The rendered install configuration; the token works once and only until it expires.
  core::Result<std::string> FetchConfig(std::string_view token);
  core::Status Callback(std::string_view token, const Report& report);
  // The bytes of an image file, hashed after reading and compared with the registered SHA-256;
  // kFailedPrecondition on a mismatch (the file is never served).
  core::Result<std::string> ReadImageFile(std::string_view image, std::string_view role);

  // ---- images (images.write) ----
  // Copies files from server-local paths into the image store, verifying each SHA-256 while
  // copying; nothing is kept when any does not match.
  struct ImageSource {
    std::string path, sha256;
  };
  core::Result<Image> CreateImage(const core::RequestContext& rc, const std::string& name,
                                  const std::string& description,
                                  const std::map<std::string, ImageSource>& files);
  core::Result<Image> GetImage(const core::RequestContext& rc, std::string_view name);
  core::Result<std::vector<Image>> ListImages(const core::RequestContext& rc);
  core::Status DeleteImage(const core::RequestContext& rc, std::string_view name);

  // ---- templates (templates.write) ----
  core::Result<Template> PutTemplate(const core::RequestContext& rc, const std::string& name,
                                     const std::string& kind, const std::string& body);
  core::Result<Template> GetTemplate(const core::RequestContext& rc, std::string_view name);
  core::Result<std::vector<Template>> ListTemplates(const core::RequestContext& rc);
  core::Status DeleteTemplate(const core::RequestContext& rc, std::string_view name);
  // Renders `name` for a node with extra variables (preview; nothing changes).
  core::Result<std::string> RenderFor(const core::RequestContext& rc, std::string_view tmpl,
                                      std::string_view node, const core::json::object& vars);

  // ---- jobs ----
  // Registers lifecycle.commission, lifecycle.deploy, lifecycle.release, lifecycle.rescue.
  void RegisterJobTypes(jobs::Registry& registry);
  core::Result<core::json::object> RunOperation(jobs::JobContext& ctx, Op op);
  // Ends operations whose job ended without the handler (cancelled while queued, gave up after
  // its attempts, lost with a dead worker): cancelled → back where it came from (commission,
  // rescue) or broken (deploy, release); failed → broken with the job's error. Run periodically
  // by `gantry serve`; returns how many nodes it settled.
  core::Result<int> Sweep();

  // Test and benchmark hook: called after each committed state change (node, new state).
  void SetObserver(std::function<void(const Node&)> f) { observer_ = std::move(f); }
  // Called after an operation's job was enqueued (gantry serve wakes its workers with it).
  void SetEnqueueHook(std::function<void()> f) { on_enqueue_ = std::move(f); }

 private:
  core::Status Audit(store::Tx& tx, const core::RequestContext& rc, const std::string& action,
                     const Node& n, core::json::object details);
  core::Result<Node> Resolve(store::Tx& tx, std::string_view ref, bool lock);
  core::Result<core::json::object> Variables(const Node& n, const core::json::object& extra);
  core::Result<std::string> Render(store::Tx& tx, const std::string& tmpl, const Node& n,
                                   const core::json::object& extra);
  // Ends the operation of `node` (locked, re-read) in `state`; only while `job_id` owns it.
  core::Result<std::optional<Node>> Finish(int64_t node_id, int64_t job_id, const std::string& state,
                                           const std::string& reason, const std::string& action,
                                           core::json::object details);
  core::Result<std::string> LastLogLines(int64_t job_id, int n);
  // Records a commissioning report in the CMDB: the server's CPUs and memory, its NICs and disks
  // (the node keeps the report itself since its callback).
  core::Status RecordInventory(const Node& n, const core::json::object& inventory);
  void Mirror(const Node& n);  // the server CI's lifecycle attribute (source "lifecycle")
  void Notify(int64_t node_id);

  store::Database& db_;
  const audit::Service& audit_;
  const core::Clock& clock_;
  jobs::Service& jobs_;
  cmdb::Service* cmdb_;
  NodeControl& control_;
  Options options_;
  std::function<void(const Node&)> observer_;
  std::function<void()> on_enqueue_;
  std::mutex mirror_mu_;
  std::mutex wait_mu_;
  std::condition_variable wait_cv_;
  std::map<int64_t, uint64_t> callbacks_seen_;  // node id → callbacks recorded (wakes its job)
};

}  // namespace gantry::lifecycle
