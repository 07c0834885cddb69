// The node agent: the node and GPU collectors behind one Render call, plus the agent's own
// series (collector up/duration, process CPU and memory). Render is serialised by a mutex; the
// output buffer is reused between scrapes so memory stays bounded by the largest scrape.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "agent/exposition.h"
#include "agent/gpu_collector.h"
#include "agent/node_collector.h"

namespace gantry::agent {

struct AgentOptions {
  NodeCollectorOptions node;
  GpuCollectorOptions gpu;
  bool gpu_enabled = true;
};

class Agent {
 public:
  explicit Agent(AgentOptions options);
  // The whole exposition in `format`; the returned reference is valid until the next call.
  const std::string& Render(Format format);
  const std::string& gpu_status() const { return gpu_status_; }

 private:
  std::mutex mu_;
  NodeCollector node_;
  std::unique_ptr<GpuCollector> gpu_;
  std::string gpu_status_;
  std::string out_;
  unsigned long long scrapes_ = 0;
};

}  // namespace gantry::agent
