// SQL for the audit trail (the only file with audit SQL is store_sql.cc).
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "audit/types.h"
#include "store/database.h"

namespace gantry::audit {

struct Head {
  int64_t seq = 0;
  std::string hash;
};

struct Checkpoint {
  int64_t seq = 0;
  std::string hash;
  core::UnixNanos time = 0;
  std::string key_id;
  std::string signature;  // hex
};

class Store {
 public:
  // Locks the head row until the transaction ends (PostgreSQL: FOR UPDATE).
  static core::Result<Head> LockHead(store::Tx& tx, store::Backend backend);
  static core::Status Insert(store::Tx& tx, const Event& e);
  static core::Status SetHead(store::Tx& tx, const Head& head);
  static core::Result<Head> ReadHead(store::Database& db);
  static core::Result<std::vector<Event>> Search(store::Database& db, const SearchFilter& f);
  // Calls `fn` for every event in seq order, reading in batches; stops early when fn is false.
  static core::Status Scan(store::Database& db, const std::function<bool(const Event&)>& fn);
  static core::Result<std::vector<Checkpoint>> Checkpoints(store::Database& db);
  static core::Status InsertCheckpoint(store::Database& db, const Checkpoint& c);
};

}  // namespace gantry::audit
