// The hardware service: BMC records and the operations on the servers they control.
//
// The C++ API other modules call (the bare-metal lifecycle powers and boots nodes with it):
//   hw.Power(rc, "node-07", PowerAction::kOn)              → Status
//   hw.PowerStatus(rc, "node-07")                          → "on" | "off" | ...
//   hw.SetBootDevice(rc, "node-07", BootDevice::kPxe, true) → Status (once = next boot only)
// `target` is the server CI a BMC controls, or the BMC's own name. Each call reaches one BMC and
// blocks for at most its timeout (DriverOptions × attempts). Errors: kNotFound (no BMC for the
// target), kDeadlineExceeded (it did not answer), kFailedPrecondition (the BMC does not support
// the action — from its own ActionInfo/AllowableValues), kUnavailable (unreachable, rejected
// credentials, garbage answers, refused requests: the message says which, never the password).
//
// Fan-out (PowerMany, BootMany, CheckMany, ForEach) runs one operation on many targets with
// bounded concurrency: a dead or slow BMC costs only its own timeout; every target gets a
// NodeResult. Results update the BMC's health mark (ok / timeout / unreachable / auth_failed /
// bad_response / ...) and last power state in one transaction at the end.
//
// Every change (BMC added or removed, power or boot action, SEL cleared, media inserted) appends
// an audit event in the same transaction as its row changes; credentials are sealed with
// CredentialBox and never returned, logged or put in an audit event. Thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "audit/service.h"
#include "core/clock.h"
#include "core/principal.h"
#include "hardware/credentials.h"
#include "hardware/driver.h"
#include "hardware/store.h"
#include "store/database.h"

namespace gantry::hardware {

struct FanOutOptions {
  int concurrency = 128;  // 1..1024
  // Called after each target finishes (from worker threads): done, failed, total.
  std::function<void(int done, int failed, int total)> progress;
  const std::atomic<bool>* cancel = nullptr;  // stops starting new targets
};

// What one target of a fan-out runs: the driver and the BMC record; returns data for the result.
using NodeOp = std::function<core::Result<core::json::object>(Driver& driver, const Bmc& bmc)>;

class Service {
 public:
  Service(store::Database& db, const audit::Service& audit, const core::Clock& clock,
          CredentialBox box, std::shared_ptr<const DriverFactory> drivers)
      : db_(db), audit_(audit), clock_(clock), box_(std::move(box)), drivers_(std::move(drivers)) {}

  // ---- BMC records (bmcs.write to change) ----
  core::Result<Bmc> AddBmc(const core::RequestContext& rc, NewBmc b);
  core::Result<Bmc> GetBmc(const core::RequestContext& rc, std::string_view ref);
  core::Result<std::vector<Bmc>> ListBmcs(const core::RequestContext& rc,
                                          std::optional<int64_t> cursor, int limit);
  core::Status RemoveBmc(const core::RequestContext& rc, std::string_view ref);
  // Every BMC's server (or name, when it controls none), for "all".
  core::Result<std::vector<std::string>> AllTargets();

  // ---- one target ----
  core::Result<std::string> PowerStatus(const core::RequestContext& rc, std::string_view target);
  core::Status Power(const core::RequestContext& rc, std::string_view target, PowerAction action);
  core::Status SetBootDevice(const core::RequestContext& rc, std::string_view target,
                             BootDevice device, bool once);
  core::Result<std::vector<SelEntry>> ReadSel(const core::RequestContext& rc, std::string_view target,
                                              int max);
  core::Status ClearSel(const core::RequestContext& rc, std::string_view target);
  core::Status InsertMedia(const core::RequestContext& rc, std::string_view target,
                           const std::string& image_uri);
  core::Status EjectMedia(const core::RequestContext& rc, std::string_view target);

  // ---- many targets ----
  // action nullopt: power status.
  std::vector<NodeResult> PowerMany(const core::RequestContext& rc,
                                    const std::vector<std::string>& targets,
                                    std::optional<PowerAction> action, const FanOutOptions& o);
  std::vector<NodeResult> BootMany(const core::RequestContext& rc, const std::vector<std::string>& targets,
                                   BootDevice device, bool once, const FanOutOptions& o);
  // Reachability and health of each BMC (Probe).
  std::vector<NodeResult> CheckMany(const core::RequestContext& rc, const std::vector<std::string>& targets,
                                    const FanOutOptions& o);
  // Runs `op` on every target; `audit_action` non-empty: one audit event per target (with its
  // result) in the closing transaction.
  std::vector<NodeResult> ForEach(const core::RequestContext& rc, const std::vector<std::string>& targets,
                                  const NodeOp& op, const FanOutOptions& o,
                                  const std::string& audit_action = {},
                                  const core::json::object& audit_details = {});

  // The driver of one BMC (credentials opened), for modules built on this one.
  core::Result<std::unique_ptr<Driver>> DriverFor(const Bmc& bmc) const;
  // The public error of a NodeResult (see the top of this file).
  static core::Error PublicError(const NodeResult& r);

  store::Database& db() { return db_; }
  const audit::Service& audit() const { return audit_; }
  const core::Clock& clock() const { return clock_; }

 private:
  core::Result<NodeResult> One(const core::RequestContext& rc, std::string_view target,
                               const NodeOp& op, const std::string& audit_action,
                               const core::json::object& details);
  core::Status Audit(store::Tx& tx, const core::RequestContext& rc, const std::string& action,
                     const std::string& target, const core::json::object& details,
                     const std::string& result = audit::kSuccess) const;

  store::Database& db_;
  const audit::Service& audit_;
  const core::Clock& clock_;
  CredentialBox box_;
  std::shared_ptr<const DriverFactory> drivers_;
};

}  // namespace gantry::hardware
