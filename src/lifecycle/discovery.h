// Discovery inputs other than DHCP: LLDP neighbours as `lldpcli -f json show neighbors` prints
// them, and the dnsmasq lease file. Pure parsers; applying them to the CMDB is in discovery.cc
// (ApplyLldp) and the DHCP part in Service::ObserveDhcp.
#pragma once

#include <string>
#include <vector>

#include "cmdb/service.h"
#include "core/error.h"
#include "lifecycle/service.h"

namespace gantry::lifecycle {

// One LLDP neighbour: our interface and what is at the other end of its cable.
struct LldpLink {
  std::string local_port;     // "eth0"
  std::string chassis_name;   // "leaf-01" (the chassis id when the switch sends no name)
  std::string chassis_id;     // "00:11:22:33:44:55"
  std::string mgmt_ip;        // may be empty
  std::string port_id;        // "Ethernet12" (ifname), or a MAC/local id
  std::string port_descr;
};

// Parses lldpd's JSON (one neighbour: "interface" is an object; several: an array of one-key
// objects). kInvalidArgument naming what is missing.
core::Result<std::vector<LldpLink>> ParseLldpNeighbors(std::string_view json_text);

struct LldpApplyReport {
  int links = 0;
  std::vector<std::string> errors;  // one per link that could not be recorded
};

// Records the server's NICs, the switches, their ports and the NIC → port links in the CMDB
// (source "lldp"). A link that contradicts an existing one is reported, not forced.
core::Result<LldpApplyReport> ApplyLldp(cmdb::Service& cmdb, const core::RequestContext& rc,
                                        const std::string& server, const std::vector<LldpLink>& links);

struct Lease {
  std::string mac, ip, hostname;
};
// dnsmasq's lease file: "EXPIRY MAC IP HOSTNAME CLIENT-ID" per line; malformed lines skipped.
std::vector<Lease> ParseLeases(std::string_view text);

}  // namespace gantry::lifecycle
