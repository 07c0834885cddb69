// The audit trail service: appends events to the hash chain inside the caller's transaction,
// searches them, writes signed checkpoints and verifies the whole chain.
//
// Contract: every state change in Gantry calls Append() with the same Tx that makes the change,
// as its last statement before Commit(), so the change and its event commit or vanish together.
// Thread-safe; holds no state beyond its dependencies.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "audit/store.h"
#include "audit/types.h"
#include "core/clock.h"
#include "core/principal.h"
#include "store/database.h"

namespace gantry::audit {

struct SigningKey {
  std::string private_key;  // 32 raw bytes
  std::string public_key;   // 32 raw bytes
  std::string key_id;
};

// Reads the key file (hex, mode 0600); creates it when `create` and it does not exist.
core::Result<SigningKey> LoadSigningKey(const std::string& path, bool create);

class Service {
 public:
  Service(store::Database& db, const core::Clock& clock, std::optional<SigningKey> key = {})
      : db_(db), clock_(clock), key_(std::move(key)) {}

  // An event for `rc` with details redacted.
  static Event MakeEvent(const core::RequestContext& rc, std::string action,
                         std::string target_type, std::string target,
                         const core::json::object& details = {},
                         std::string result = kSuccess);

  // Appends inside `tx`; fills seq, time, prev_hash and hash.
  core::Status Append(store::Tx& tx, Event e) const;
  // Appends several events in this order inside `tx`, reading and writing the head once (a
  // batch of decisions made in one transaction).
  core::Status AppendAll(store::Tx& tx, std::vector<Event> events) const;
  // Appends in a transaction of its own (denials, failed logins: nothing else to commit).
  core::Status AppendStandalone(Event e) const;

  core::Result<std::vector<Event>> Search(const SearchFilter& filter) const;

  // Signs the current head when it moved since the last checkpoint; returns its seq.
  core::Result<std::optional<int64_t>> Checkpoint() const;

  // Re-computes the chain from the first event. `public_key` checks checkpoint signatures
  // (raw 32 bytes); without it the key recorded in the database is used.
  core::Result<VerifyReport> Verify(std::optional<std::string> public_key = {}) const;

  // Stores this instance's public key in settings (done by `gantry admin init`).
  core::Status PublishPublicKey() const;

 private:
  store::Database& db_;
  const core::Clock& clock_;
  std::optional<SigningKey> key_;
};

}  // namespace gantry::audit
