// Emulated BMCs for tests and benchmarks (no real BMC runs on the test machine).
//
// RedfishSim starts tests/redfish/redfish_sim.py — a stateful Redfish server that STANDS IN FOR
// REAL BMCs, serving the DMTF / HPE Cray mockups copied into tests/data/redfish-mockups — with
// `count` BMCs on their own ports of 127.0.0.1, and controls its injectable faults.
//
// IpmiSim starts OpenIPMI's real `ipmi_sim` (a real IPMI 2.0 lanplus BMC) on a free UDP port,
// with a chassis-control script that keeps power and boot device in files of its state
// directory (user admin / password "password"). Both stop their process when destroyed.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "support/process.h"

namespace gantry::testing {

struct RedfishSimOptions {
  std::vector<std::string> mockups = {"dmtf-public-rackmount1"};  // assigned round-robin
  int count = 1;
  int latency_ms = 0;
  double dead_fraction = 0;
  double task_seconds = 1.0;
  std::string tls_cert, tls_key;  // PEM files: HTTPS
};

class RedfishSim {
 public:
  explicit RedfishSim(RedfishSimOptions options);  // throws std::runtime_error
  ~RedfishSim();
  RedfishSim(const RedfishSim&) = delete;
  RedfishSim& operator=(const RedfishSim&) = delete;

  int port(int i) const { return ports_.at(i); }
  bool dead(int i) const { return dead_.at(i); }
  int count() const { return static_cast<int>(ports_.size()); }
  // "http://127.0.0.1:PORT" (https with TLS).
  std::string Address(int i) const;
  // POST /_sim/fault on BMC i.
  void SetFault(int i, const std::string& fault);
  // GET /_sim/state of BMC i.
  boost::json::object State(int i);

 private:
  RedfishSimOptions options_;
  std::string dir_;
  Process process_;
  std::vector<int> ports_;
  std::vector<bool> dead_;
};

class IpmiSim {
 public:
  IpmiSim();  // throws std::runtime_error
  ~IpmiSim();
  IpmiSim(const IpmiSim&) = delete;
  IpmiSim& operator=(const IpmiSim&) = delete;
  int port() const { return port_; }
  std::string Address() const { return "127.0.0.1:" + std::to_string(port_); }
  // The chassis state the script keeps: "on"/"off", the boot device ("pxe", "default", ...).
  std::string Power() const;
  std::string BootDevice() const;
  // Every chassis-control call, one per line ("set power 1").
  std::string ChassisLog() const;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  int port_ = 0;
  Process process_;
};

// The repository's tests/data/redfish-mockups directory (from GANTRY_SOURCE_DIR).
std::string MockupDir(const std::string& name);
// The source tree (GANTRY_SOURCE_DIR; throws when unset).
std::string SourceDir();

}  // namespace gantry::testing
