#include "support/bmc_sims.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/test_db.h"

namespace gantry::testing {

namespace {

void WriteFile(const std::string& path, const std::string& text, mode_t mode = 0644) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  ::chmod(path.c_str(), mode);
}

// setpriv (util-linux) execs the simulator with PR_SET_PDEATHSIG, so that a test process that
// crashes leaves no simulator behind.
std::vector<std::string> WithDeathSignal(std::vector<std::string> args) {
  if (::access("/usr/bin/setpriv", X_OK) == 0) {
    args.insert(args.begin(), {"/usr/bin/setpriv", "--pdeathsig", "KILL", "--"});
  }
  return args;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

std::string SourceDir() {
  const char* s = std::getenv("GANTRY_SOURCE_DIR");
  if (!s || !*s) throw std::runtime_error("GANTRY_SOURCE_DIR is not set");
  return s;
}

std::string MockupDir(const std::string& name) { return SourceDir() + "/tests/data/redfish-mockups/" + name; }

// ---- Redfish ------------------------------------------------------------------------------

RedfishSim::RedfishSim(RedfishSimOptions options) : options_(std::move(options)) {
  dir_ = MakeTempDir("redfish-sim");
  std::string ports = dir_ + "/ports.json";
  std::vector<std::string> args = {"/usr/bin/python3", SourceDir() + "/tests/redfish/redfish_sim.py",
                                   "--count", std::to_string(options_.count),
                                   "--latency-ms", std::to_string(options_.latency_ms),
                                   "--dead-fraction", std::to_string(options_.dead_fraction),
                                   "--task-seconds", std::to_string(options_.task_seconds),
                                   "--ports-file", ports};
  for (const auto& m : options_.mockups) {
    args.push_back("--mockup");
    args.push_back(MockupDir(m));
  }
  if (!options_.tls_cert.empty()) {
    args.insert(args.end(), {"--tls-cert", options_.tls_cert, "--tls-key", options_.tls_key});
  }
  process_ = Process::Spawn({WithDeathSignal(args), {}, dir_ + "/sim.log"});
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!std::ifstream(ports).good()) {
    if (!process_.Running() || std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("redfish_sim did not start: " + ReadFile(dir_ + "/sim.log"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto list = boost::json::parse(ReadFile(ports)).as_array();
  for (const auto& e : list) {
    ports_.push_back(static_cast<int>(e.at("port").as_int64()));
    dead_.push_back(e.at("dead").as_bool());
  }
}

RedfishSim::~RedfishSim() {
  process_.Signal(SIGTERM);
  process_.Wait(std::chrono::seconds(5));
}

std::string RedfishSim::Address(int i) const {
  return std::string(options_.tls_cert.empty() ? "http" : "https") + "://127.0.0.1:" + std::to_string(port(i));
}

void RedfishSim::SetFault(int i, const std::string& fault) {
  auto r = Run({"curl", "-sk", "-m", "10", "-X", "POST", "-d", "{\"fault\": \"" + fault + "\"}",
                Address(i) + "/_sim/fault"});
  if (r.status != 0) throw std::runtime_error("cannot set fault: " + r.output);
}

boost::json::object RedfishSim::State(int i) {
  auto r = Run({"curl", "-sk", "-m", "10", Address(i) + "/_sim/state"});
  if (r.status != 0) throw std::runtime_error("cannot read state: " + r.output);
  return boost::json::parse(r.output).as_object();
}

// ---- IPMI ---------------------------------------------------------------------------------

IpmiSim::IpmiSim() {
  dir_ = MakeTempDir("ipmi-sim");
  // ipmi_sim is UDP; FreePort() picks a free TCP port, which is free for UDP here in practice.
  port_ = FreePort();
  WriteFile(dir_ + "/chassis.sh",
            "#!/bin/sh\n"
            "# ipmi_sim chassis control: chassis.sh get|set PARM [VAL]...; state in files.\n"
            "D=$(dirname \"$0\"); op=$1; shift\n"
            "echo \"$op $*\" >> $D/chassis.log\n"
            "case $op in\n"
            "get) for p in \"$@\"; do case $p in\n"
            "       power) echo \"power:$(cat $D/power 2>/dev/null || echo 0)\" ;;\n"
            "       boot) echo \"boot:$(cat $D/boot 2>/dev/null || echo default)\" ;;\n"
            "       *) echo \"Invalid parameter: $p\"; exit 1 ;;\n"
            "     esac; done ;;\n"
            "set) while [ $# -ge 2 ]; do p=$1; v=$2; shift 2; case $p in\n"
            "       power) echo $v > $D/power ;;\n"
            "       reset) echo 1 > $D/power ;;\n"
            "       shutdown) echo 0 > $D/power ;;\n"
            "       boot) echo $v > $D/boot ;;\n"
            "       identify) shift ;;\n"
            "       *) echo \"Invalid parameter: $p\"; exit 1 ;;\n"
            "     esac; done ;;\n"
            "esac\n",
            0755);
  WriteFile(dir_ + "/lan.conf",
            "name \"gantrytest\"\n"
            "set_working_mc 0x20\n"
            "  startlan 1\n"
            "    addr 127.0.0.1 " + std::to_string(port_) + "\n"
            "    priv_limit admin\n"
            "    allowed_auths_callback none md2 md5 straight\n"
            "    allowed_auths_user none md2 md5 straight\n"
            "    allowed_auths_operator none md2 md5 straight\n"
            "    allowed_auths_admin none md2 md5 straight\n"
            "    guid a123456789abcdefa123456789abcd00\n"
            "  endlan\n"
            "  chassis_control \"" + dir_ + "/chassis.sh\"\n"
            "  user 2 true \"admin\" \"password\" admin 10 none md2 md5 straight\n");
  WriteFile(dir_ + "/sim.emu",
            "mc_setbmc 0x20\n"
            "mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02\n"
            "sel_enable 0x20 1000 0x0a\n"
            // One event: temperature sensor 0x30, upper critical going high.
            "sel_add 0x20 0x02 0x00 0x00 0x00 0x00 0x20 0x00 0x04 0x01 0x30 0x01 0x09 0xff 0xff\n"
            "mc_enable 0x20\n");
  ::mkdir((dir_ + "/state").c_str(), 0700);
  process_ = Process::Spawn({WithDeathSignal({"/usr/bin/ipmi_sim", "-n", "-c", dir_ + "/lan.conf", "-f",
                                              dir_ + "/sim.emu", "-s", dir_ + "/state"}),
                             {},
                             dir_ + "/ipmi_sim.log"});
  // Ready when it answers a request.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    auto r = Run({"ipmitool", "-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p", std::to_string(port_), "-U",
                  "admin", "-P", "password", "-N", "1", "-R", "1", "mc", "info"},
                 {}, std::chrono::seconds(10));
    if (r.status == 0) break;
    if (!process_.Running() || std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("ipmi_sim did not start: " + ReadFile(dir_ + "/ipmi_sim.log") + r.output);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

IpmiSim::~IpmiSim() {
  process_.Signal(SIGTERM);
  process_.Wait(std::chrono::seconds(5));
}

std::string IpmiSim::Power() const {
  std::ifstream in(dir_ + "/power");
  std::string v;
  in >> v;
  return v == "1" ? "on" : "off";
}

std::string IpmiSim::BootDevice() const {
  std::ifstream in(dir_ + "/boot");
  std::string v;
  in >> v;
  return v.empty() ? "default" : v;
}

std::string IpmiSim::ChassisLog() const { return Trim(ReadFile(dir_ + "/chassis.log")); }

}  // namespace gantry::testing
