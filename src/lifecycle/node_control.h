// How the lifecycle reaches a node's power and boot device: a narrow interface, implemented in
// app/ with the hardware module's BMC service (IPMI, Redfish), and in tests and benchmarks by a
// simulated BMC. Implementations must be thread-safe; every call has its own timeout.
#pragma once

#include <string>

#include "core/error.h"
#include "lifecycle/types.h"

namespace gantry::lifecycle {

enum class PowerAction { kOn, kOff, kCycle };
enum class BootDevice { kPxe, kDisk };

const char* PowerActionName(PowerAction a);
const char* BootDeviceName(BootDevice d);

class NodeControl {
 public:
  virtual ~NodeControl() = default;
  // kUnavailable when the BMC cannot be reached (the job retries), kFailedPrecondition when the
  // node has no BMC to drive.
  virtual core::Status Power(const Node& node, PowerAction action) = 0;
  // Boot override for the next boot only.
  virtual core::Status SetBootDevice(const Node& node, BootDevice device) = 0;
};

// A NodeControl for nodes without a BMC: every call is kFailedPrecondition naming the node.
class NoControl : public NodeControl {
 public:
  core::Status Power(const Node& node, PowerAction action) override;
  core::Status SetBootDevice(const Node& node, BootDevice device) override;
};

}  // namespace gantry::lifecycle
