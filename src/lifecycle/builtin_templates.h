// The install templates Gantry ships: `gantry-script` (shell variables read by Gantry's own
// busybox installer), `kickstart` (RHEL family), `preseed` (Debian) and `cloud-init`
// (cloud-init user data, also Ubuntu autoinstall). Operators may replace any of them.
#pragma once

#include <vector>

#include "lifecycle/types.h"

namespace gantry::lifecycle {

const std::vector<Template>& BuiltinTemplates();

}  // namespace gantry::lifecycle
