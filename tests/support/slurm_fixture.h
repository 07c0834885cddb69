// A real single-machine Slurm for tests: munged, MariaDB, slurmdbd, slurmctld and N slurmd with
// fake gres/gpu GPUs, all under one temp dir (/tmp/slurmfx.XXXXXX) on free 127.0.0.1 ports,
// started as this process's children (recipe: ../shared/recipes/slurm.md). Tested as root (the
// recipe also ran as an ordinary user). Start-up takes 4-10 s; teardown 1-3 s.
//
//   gantry::testing::SlurmFixture slurm;            // throws std::runtime_error (with log tails)
//   gantry::slurm::SlurmClientOptions o; o.env = slurm.env();
//   slurm.Submit("acct", "gpu:h100:1", "sleep 5");
//
// The destructor (and, for fixtures still alive then, process exit) cancels the jobs, stops the
// daemons (SIGTERM, then SIGKILL after a deadline), sweeps stray slurmstepd and removes the temp
// dir. The daemons also get SIGKILL if the test process dies (PR_SET_PDEATHSIG via setpriv).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/process.h"

namespace gantry::testing {

struct SlurmFixtureOptions {
  int nodes = 2;
  int gpus_per_node = 8;
  std::string gpu_type = "h100";
  std::chrono::seconds ready_timeout{30};  // for the whole start-up of one attempt
  int attempts = 3;                        // fresh ports and dir when a port was taken
};

class SlurmFixture {
 public:
  // Whether the Slurm, munge and MariaDB programs are installed (scripts/bootstrap); if not,
  // *why names the first missing one.
  static bool Installed(std::string* why = nullptr);
  // For a suite's SetUpTestSuite: starts the suite's one Slurm. Returns nullptr with *skip set when
  // Slurm is not installed, or with *error set when it did not start (the tests then fail with it).
  static SlurmFixture* StartForSuite(SlurmFixtureOptions options, std::string** skip, std::string** error);

  explicit SlurmFixture(SlurmFixtureOptions options = {});
  ~SlurmFixture();
  SlurmFixture(const SlurmFixture&) = delete;
  SlurmFixture& operator=(const SlurmFixture&) = delete;

  const std::string& dir() const { return dir_; }
  std::chrono::milliseconds startup_time() const { return startup_time_; }  // of the last attempt
  std::string slurm_conf() const { return dir_ + "/etc/slurm.conf"; }
  std::string cluster() const { return "fixture"; }
  std::string user() const { return user_; }
  // SLURM_CONF and PATH (with /usr/sbin first): what every Slurm command needs.
  const std::map<std::string, std::string>& env() const { return env_; }

  // Runs a Slurm (or any) command with env(); status and combined stdout+stderr.
  RunResult Run(const std::vector<std::string>& args,
                std::chrono::seconds timeout = std::chrono::seconds(30)) const;
  // sbatch --parsable -A account [--gres=gres] --wrap script; returns the job id. Throws
  // std::runtime_error with sbatch's output when it fails.
  std::string Submit(const std::string& account, const std::string& gres,
                     const std::string& script);

  // Stops / starts one daemon, waiting until it is gone / answers.
  void StopController();
  void StartController();
  void StopDatabase();  // slurmdbd
  void StartDatabase();

  // Polls `pred` every `interval` until it holds or `timeout` passes.
  static bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
                      std::chrono::milliseconds interval = std::chrono::milliseconds(200));

  // The last `lines` lines of every log file, for failure messages.
  std::string Logs(size_t lines = 25) const;

  void Stop();  // idempotent

 private:
  bool TryStart(std::string* error, bool* port_clash);
  Process SpawnDaemon(const std::vector<std::string>& args, const std::string& log);
  void StopProcess(Process& p, std::chrono::seconds grace);
  void SweepStrays();

  SlurmFixtureOptions options_;
  std::string dir_;
  std::string user_;
  std::string host_;
  std::map<std::string, std::string> env_;
  std::vector<int> ports_;  // mariadb, slurmdbd, slurmctld, slurmd 1..N
  Process munged_, mariadbd_, slurmdbd_, slurmctld_;
  std::vector<Process> slurmd_;
  bool stopped_ = true;
  std::chrono::milliseconds startup_time_{0};
};

}  // namespace gantry::testing
