// Post-deploy Ansible playbooks as durable jobs (`lifecycle.playbook`): ansible-playbook runs
// against the CMDB inventory (written for the run as an inventory script), every output line
// goes to the job log as it appears, and the result keeps the exit code and the PLAY RECAP.
// Params: playbook (a path inside the playbook directory), limit (host pattern), check (bool),
// timeout_s. Cancelling the job kills the ansible process group.
#pragma once

#include <string>

#include "cmdb/service.h"
#include "jobs/service.h"

namespace gantry::lifecycle {

struct PlaybookOptions {
  std::string dir;                                  // playbooks live here; empty: job disabled
  std::string ansible_playbook = "ansible-playbook";
  int64_t default_timeout_s = 3600;
};

void RegisterPlaybookJobType(jobs::Registry& registry, cmdb::Service& cmdb, PlaybookOptions options);

}  // namespace gantry::lifecycle
