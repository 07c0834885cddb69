#include "audit/service.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "audit/chain.h"
#include "core/crypto.h"

namespace gantry::audit {

core::Result<SigningKey> LoadSigningKey(const std::string& path, bool create) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (!create) {
      return core::FailedPrecondition("audit signing key '" + path +
                                      "' not found; run 'gantry admin init' first");
    }
    auto kp = core::Ed25519Generate();
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    std::string tmp = path + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << core::HexEncode(kp.private_key) << "\n";
      if (!out) return core::Internal("cannot write audit signing key '" + path + "'");
    }
    ::chmod(tmp.c_str(), 0600);
    std::filesystem::rename(tmp, path, ec);
    if (ec) return core::Internal("cannot write audit signing key '" + path + "': " + ec.message());
  }
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    return core::FailedPrecondition("audit signing key '" + path +
                                    "' is readable by others; chmod 600 it");
  }
  std::ifstream in(path);
  std::string hex;
  in >> hex;
  GANTRY_TRY(auto priv, core::HexDecode(hex));
  GANTRY_TRY(auto pub, core::Ed25519PublicFromPrivate(priv));
  return SigningKey{priv, pub, KeyId(pub)};
}

Event Service::MakeEvent(const core::RequestContext& rc, std::string action,
                         std::string target_type, std::string target,
                         const core::json::object& details, std::string result) {
  Event e;
  e.actor = rc.principal.username.empty() ? "anonymous" : rc.principal.username;
  if (rc.principal.user_id) e.actor_id = rc.principal.user_id;
  e.source_ip = rc.source_ip;
  e.user_agent = rc.user_agent;
  e.action = std::move(action);
  e.target_type = std::move(target_type);
  e.target = std::move(target);
  e.request_id = rc.request_id;
  e.result = std::move(result);
  e.details = core::json::serialize(Redact(details));
  return e;
}

core::Status Service::Append(store::Tx& tx, Event e) const {
  GANTRY_TRY(auto head, Store::LockHead(tx, db_.backend()));
  e.seq = head.seq + 1;
  e.time = clock_.Now();
  e.prev_hash = head.hash;
  std::string scratch;
  e.hash = ComputeHash(e, e.prev_hash, scratch);
  GANTRY_TRY_STATUS(Store::Insert(tx, e));
  return Store::SetHead(tx, Head{e.seq, e.hash});
}

core::Status Service::AppendAll(store::Tx& tx, std::vector<Event> events) const {
  if (events.empty()) return {};
  GANTRY_TRY(auto head, Store::LockHead(tx, db_.backend()));
  std::string scratch;
  for (auto& e : events) {
    e.seq = ++head.seq;
    e.time = clock_.Now();
    e.prev_hash = head.hash;
    e.hash = ComputeHash(e, e.prev_hash, scratch);
    head.hash = e.hash;
    GANTRY_TRY_STATUS(Store::Insert(tx, e));
  }
  return Store::SetHead(tx, head);
}

core::Status Service::AppendStandalone(Event e) const {
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kWrite));
  GANTRY_TRY_STATUS(Append(*tx, std::move(e)));
  return tx->Commit();
}

core::Result<std::vector<Event>> Service::Search(const SearchFilter& filter) const {
  return Store::Search(db_, filter);
}

core::Result<std::optional<int64_t>> Service::Checkpoint() const {
  if (!key_) return core::FailedPrecondition("no audit signing key loaded");
  GANTRY_TRY(auto head, Store::ReadHead(db_));
  if (head.seq == 0) return std::optional<int64_t>{};
  GANTRY_TRY(auto rs, db_.Query("SELECT COALESCE(MAX(seq), 0) FROM audit_checkpoints"));
  if (rs.rows[0].Int(0) >= head.seq) return std::optional<int64_t>{};
  GANTRY_TRY(auto sig, core::Ed25519Sign(key_->private_key, CheckpointMessage(head.seq, head.hash)));
  GANTRY_TRY_STATUS(Store::InsertCheckpoint(
      db_, audit::Checkpoint{head.seq, head.hash, clock_.Now(), key_->key_id, core::HexEncode(sig)}));
  return std::optional<int64_t>(head.seq);
}

core::Status Service::PublishPublicKey() const {
  if (!key_) return core::FailedPrecondition("no audit signing key loaded");
  GANTRY_TRY_STATUS(db_.Exec(
      "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
      {"audit.public_key." + key_->key_id, core::HexEncode(key_->public_key)}));
  return {};
}

core::Result<VerifyReport> Service::Verify(std::optional<std::string> public_key) const {
  VerifyReport rep;
  auto fail = [&](int64_t seq, std::string problem) {
    if (!rep.ok) return;
    rep.ok = false;
    rep.first_bad_seq = seq;
    rep.problem = std::move(problem);
  };
  GANTRY_TRY(auto checkpoints, Store::Checkpoints(db_));
  std::map<int64_t, const audit::Checkpoint*> by_seq;
  for (const auto& c : checkpoints) by_seq[c.seq] = &c;

  std::map<std::string, std::string> keys;  // key_id -> public key
  if (public_key) {
    keys[KeyId(*public_key)] = *public_key;
  } else {
    GANTRY_TRY(auto rs, db_.Query("SELECT key, value FROM settings WHERE key LIKE 'audit.public_key.%'"));
    for (const auto& r : rs.rows) {
      auto pub = core::HexDecode(r.Str(1));
      if (pub) keys[r.Str(0).substr(std::string("audit.public_key.").size())] = *pub;
    }
  }

  int64_t expected = 1;
  std::string prev(kGenesisHash);
  std::string scratch;
  GANTRY_TRY_STATUS(Store::Scan(db_, [&](const Event& e) {
    if (e.seq != expected) {
      fail(expected, e.seq > expected
                         ? "events " + std::to_string(expected) + ".." + std::to_string(e.seq - 1) +
                               " are missing (deleted)"
                         : "event " + std::to_string(e.seq) + " is out of order");
      return false;
    }
    std::string h = ComputeHash(e, e.prev_hash, scratch);
    rep.bytes_hashed += static_cast<int64_t>(scratch.size());
    if (h != e.hash) {
      fail(e.seq, "event " + std::to_string(e.seq) + " was altered (its hash does not match its content)");
      return false;
    }
    if (e.prev_hash != prev) {
      fail(e.seq, "event " + std::to_string(e.seq) + " does not follow event " +
                      std::to_string(e.seq - 1) + " (inserted, reordered or re-hashed)");
      return false;
    }
    if (auto it = by_seq.find(e.seq); it != by_seq.end()) {
      const auto& c = *it->second;
      auto kit = keys.find(c.key_id);
      auto sig = core::HexDecode(c.signature);
      if (c.hash != e.hash) {
        fail(e.seq, "event " + std::to_string(e.seq) + " differs from its signed checkpoint");
        return false;
      }
      if (kit == keys.end() || !sig || !core::Ed25519Verify(kit->second, CheckpointMessage(c.seq, c.hash), *sig)) {
        fail(e.seq, "checkpoint at event " + std::to_string(e.seq) + " has a bad or unknown signature");
        return false;
      }
      ++rep.checkpoints;
    }
    prev = e.hash;
    ++rep.events;
    ++expected;
    return true;
  }));
  if (rep.ok) {
    GANTRY_TRY(auto head, Store::ReadHead(db_));
    int64_t last = expected - 1;
    int64_t last_cp = checkpoints.empty() ? 0 : checkpoints.back().seq;
    if (head.seq > last || last_cp > last) {
      fail(last + 1, "events after " + std::to_string(last) + " are missing (deleted at the tail)");
    } else if (head.seq != last || head.hash != prev) {
      fail(last, "the chain head does not match the last event");
    }
  }
  return rep;
}

}  // namespace gantry::audit
