// A simulated fleet for tests and the control-plane benchmark: a NodeControl whose "machines"
// boot at once. Powering a node on hands it to a pool of agent threads that do what a real
// node's firmware and installer do over HTTP, through the same service calls the boot endpoints
// make: fetch the iPXE script by MAC, fetch the config with its one-time token, call back (with
// a hardware inventory when commissioning). Per-MAC behaviours simulate broken machines.
// Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lifecycle/node_control.h"
#include "lifecycle/service.h"

namespace gantry::lifecycle {

enum class SimBehavior {
  kCallBack,  // boots, fetches its config, reports success
  kSilent,    // boots and never calls back (a hung installer)
  kFail,      // reports a failed install
  kBmcDown,   // the BMC does not answer (kUnavailable)
};

class SimulatedFleet : public NodeControl {
 public:
  explicit SimulatedFleet(int agent_threads = 2);
  ~SimulatedFleet() override;
  void Attach(Service* service) { service_ = service; }
  void SetBehavior(const std::string& mac, SimBehavior b);

  core::Status Power(const Node& node, PowerAction action) override;
  core::Status SetBootDevice(const Node& node, BootDevice device) override;

  // "node-x: boot pxe", "node-x: power on", ... in call order.
  std::vector<std::string> Calls() const;
  int PowerOns(const std::string& name) const;
  // The last configuration each node fetched (by node name).
  std::string ConfigOf(const std::string& name) const;
  int64_t callbacks() const { return callbacks_.load(); }

  // Token parsing, shared with tests: the value of `key=` in a kernel line ("" when absent),
  // and the token of a URL "...?token=T".
  static std::string Arg(const std::string& script, const std::string& key);
  static std::string TokenOf(const std::string& url);

 private:
  void AgentLoop();
  void Boot(const Node& node);
  Service* service_ = nullptr;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Node> queue_;
  bool stop_ = false;
  std::map<std::string, SimBehavior> behavior_;
  std::vector<std::string> calls_;
  std::map<std::string, int> power_ons_;
  std::map<std::string, std::string> configs_;
  std::atomic<int64_t> callbacks_{0};
  std::vector<std::thread> threads_;
};

}  // namespace gantry::lifecycle
