#include "lifecycle/simulator.h"

#include <spdlog/spdlog.h>

namespace gantry::lifecycle {

SimulatedFleet::SimulatedFleet(int agent_threads) {
  for (int i = 0; i < agent_threads; ++i) threads_.emplace_back([this] { AgentLoop(); });
}

SimulatedFleet::~SimulatedFleet() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void SimulatedFleet::SetBehavior(const std::string& mac, SimBehavior b) {
  std::lock_guard lock(mu_);
  behavior_[mac] = b;
}

core::Status SimulatedFleet::Power(const Node& node, PowerAction action) {
  std::lock_guard lock(mu_);
  auto it = behavior_.find(node.mac);
  if (it != behavior_.end() && it->second == SimBehavior::kBmcDown) {
    calls_.push_back(node.name + ": power " + PowerActionName(action) + " (BMC down)");
    return core::Unavailable("BMC of " + node.name + " does not answer");
  }
  calls_.push_back(node.name + ": power " + PowerActionName(action));
  if (action == PowerAction::kOn || action == PowerAction::kCycle) {
    ++power_ons_[node.name];
    queue_.push_back(node);
    cv_.notify_one();
  }
  return {};
}

core::Status SimulatedFleet::SetBootDevice(const Node& node, BootDevice device) {
  std::lock_guard lock(mu_);
  auto it = behavior_.find(node.mac);
  if (it != behavior_.end() && it->second == SimBehavior::kBmcDown) {
    return core::Unavailable("BMC of " + node.name + " does not answer");
  }
  calls_.push_back(node.name + ": boot " + BootDeviceName(device));
  return {};
}

std::vector<std::string> SimulatedFleet::Calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

int SimulatedFleet::PowerOns(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = power_ons_.find(name);
  return it == power_ons_.end() ? 0 : it->second;
}

std::string SimulatedFleet::ConfigOf(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = configs_.find(name);
  return it == configs_.end() ? "" : it->second;
}

std::string SimulatedFleet::Arg(const std::string& script, const std::string& key) {
  std::string k = " " + key + "=";
  auto p = script.find(k);
  if (p == std::string::npos) return "";
  p += k.size();
  auto e = script.find_first_of(" \n", p);
  return script.substr(p, e == std::string::npos ? std::string::npos : e - p);
}

std::string SimulatedFleet::TokenOf(const std::string& url) {
  auto p = url.find("token=");
  return p == std::string::npos ? "" : url.substr(p + 6);
}

void SimulatedFleet::AgentLoop() {
  while (true) {
    Node n;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      n = queue_.front();
      queue_.pop_front();
    }
    Boot(n);
  }
}

void SimulatedFleet::Boot(const Node& node) {
  if (!service_) return;
  SimBehavior b = SimBehavior::kCallBack;
  {
    std::lock_guard lock(mu_);
    if (auto it = behavior_.find(node.mac); it != behavior_.end()) b = it->second;
  }
  auto script = service_->BootScript(node.mac, "");
  if (!script) return;
  std::string callback = TokenOf(Arg(*script, "gantry.callback"));
  std::string config = TokenOf(Arg(*script, "gantry.config"));
  std::string op = Arg(*script, "gantry.op");
  if (callback.empty()) return;  // no operation: the machine idles
  if (!config.empty()) {
    auto text = service_->FetchConfig(config);
    if (!text) {
      Report r{false, "cannot fetch config: " + text.error().message, {}, std::nullopt};
      (void)service_->Callback(callback, r);
      return;
    }
    std::lock_guard lock(mu_);
    configs_[node.name] = *text;
  }
  if (b == SimBehavior::kSilent) return;
  Report r;
  r.ok = b != SimBehavior::kFail;
  r.message = r.ok ? op + " done" : "disk /dev/sda not found";
  r.log = {"simulated " + op + " of " + node.name};
  if (op == "commission") {
    r.inventory = core::json::object{
        {"cpus", 64},
        {"memory_kib", int64_t{512} * 1024 * 1024},
        {"disks", core::json::array{core::json::object{{"name", "nvme0n1"}, {"size_bytes", int64_t{3840} << 30}}}},
        {"nics", core::json::array{core::json::object{{"name", "eth0"}, {"mac", node.mac}}}}};
  }
  if (service_->Callback(callback, r)) ++callbacks_;
}

}  // namespace gantry::lifecycle
