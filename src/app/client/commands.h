// The client commands of the gantry binary, registered on a CLI11 app. app::RegisterClientCommands
// calls RegisterCommands with the process' terminal; tests pass an Io over string streams.
//
//   login logout whoami token user   commands_core.cc
//   jobs                             commands_jobs.cc
//   audit                            commands_audit.cc
//   tenant, project, quota           commands_tenancy.cc
//   ci, change                       commands_cmdb.cc
//   bmc, node, firmware              commands_hardware.cc
//   incident, monitor                commands_monitoring.cc
#pragma once

#include <CLI/CLI.hpp>
#include <memory>

#include "app/client/terminal.h"
#include "core/json.h"

namespace gantry::app::client {

using IoPtr = std::shared_ptr<const Io>;

void RegisterCommands(CLI::App& app, IoPtr io);

void RegisterAuthCommands(CLI::App& app, IoPtr io);   // login, logout, whoami
void RegisterTokenCommands(CLI::App& app, IoPtr io);  // token create|list|revoke
void RegisterUserCommands(CLI::App& app, IoPtr io);   // user create|list|show|disable|enable
void RegisterJobCommands(CLI::App& app, IoPtr io);    // jobs list|show|cancel|run|watch
void RegisterAuditCommands(CLI::App& app, IoPtr io);  // audit search
void RegisterTenancyCommands(CLI::App& app, IoPtr io);  // tenant ..., project ..., quota ...
void RegisterCmdbCommands(CLI::App& app, IoPtr io);   // ci ..., change ...
void RegisterHardwareCommands(CLI::App& app, IoPtr io);  // bmc ..., node power|boot|..., firmware ...
void RegisterMeteringCommands(CLI::App& app, IoPtr io);  // usage, price, invoice, budget
void RegisterMonitoringCommands(CLI::App& app, IoPtr io);  // incident ..., monitor ...

// `jobs run --param key=value ...` → {"key": value}; a value that is a whole number becomes a
// JSON integer, anything else a string. kInvalidArgument on a missing '=' or a repeated key.
core::Result<core::json::object> ParseJobParams(const std::vector<std::string>& pairs);

// The API path of a CI: "/api/v1/cmdb/cis/" + the REF percent-encoded as one path segment, so
// "server/node-01" becomes server%2Fnode-01.
std::string CiPath(std::string_view ref);

// `ci create/update/relate --attr name=value ...` → attributes, each value converted by its
// definition in `type` (a CI type or relationship type as the API returns it): an int attribute
// that parses becomes a JSON integer, a bool one true/false, anything else stays a string (the
// server names the attribute when it refuses one). kInvalidArgument on a missing '=' or a
// repeated name.
core::Result<core::json::object> ParseAttrArgs(const std::vector<std::string>& pairs,
                                               const core::json::value& type);

// The WHY of a graph answer: a `path` (array of hops {from, relation, direction, to}) as
// "switch/leaf-01 -contains-> switch_port/leaf-01:p1 <-connected_to- nic/node-01:eth0", each hop
// written the way its relationship is stored.
std::string HopsText(const core::json::value& hops);
// "4 server, 32 gpu, 2 service" for an impact or root-cause answer, nearest type first.
std::string ByTypeText(const core::json::value& answer);

}  // namespace gantry::app::client
