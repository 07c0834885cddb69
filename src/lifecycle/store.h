// SQL of the lifecycle module (store_sql.cc is the only file with its SQL).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "lifecycle/types.h"
#include "store/database.h"

namespace gantry::lifecycle {

struct NodeFilter {
  std::optional<std::string> state;
  std::optional<int64_t> after_id;
  int limit = 100;
};

struct TokenRow {
  int64_t node_id = 0;
  int64_t job_id = 0;
  std::string purpose;
  core::UnixNanos expires_at = 0;
  std::optional<core::UnixNanos> used_at;
};

class Store {
 public:
  static core::Result<int64_t> InsertNode(store::Tx& tx, const Node& n, core::UnixNanos now);
  // `lock`: FOR UPDATE on PostgreSQL (the SQLite write transaction is exclusive anyway).
  static core::Result<std::optional<Node>> GetNode(store::Tx& tx, int64_t id, bool lock,
                                                   store::Backend backend);
  // By id, name or MAC.
  static core::Result<std::optional<Node>> FindNode(store::Tx& tx, std::string_view ref, bool lock,
                                                    store::Backend backend);
  static core::Result<std::vector<Node>> ListNodes(store::Tx& tx, const NodeFilter& f);
  // Writes every mutable column and bumps the version.
  static core::Status UpdateNode(store::Tx& tx, Node& n, core::UnixNanos now);
  static core::Result<std::vector<std::pair<std::string, int64_t>>> CountByState(store::Tx& tx);
  // Nodes whose operation's job already ended (cancelled while queued, gave up, crashed):
  // node id, job id, job state, job error.
  struct Orphan {
    int64_t node_id = 0, job_id = 0;
    std::string job_state, job_error;
  };
  static core::Result<std::vector<Orphan>> Orphans(store::Database& db);

  static core::Result<int64_t> InsertImage(store::Tx& tx, const Image& i, core::UnixNanos now);
  static core::Result<std::optional<Image>> FindImage(store::Tx& tx, std::string_view name);
  static core::Result<std::vector<Image>> ListImages(store::Tx& tx);
  static core::Status DeleteImage(store::Tx& tx, int64_t id);

  static core::Status UpsertTemplate(store::Tx& tx, const Template& t, core::UnixNanos now);
  static core::Result<std::optional<Template>> FindTemplate(store::Tx& tx, std::string_view name);
  static core::Result<std::vector<Template>> ListTemplates(store::Tx& tx);
  static core::Status DeleteTemplate(store::Tx& tx, int64_t id);

  static core::Status InsertToken(store::Tx& tx, const std::string& hash, int64_t node_id,
                                  int64_t job_id, const std::string& purpose,
                                  core::UnixNanos expires_at, core::UnixNanos now);
  static core::Result<std::optional<TokenRow>> GetToken(store::Tx& tx, const std::string& hash);
  // Marks the token used; false when it already was (another request won).
  static core::Result<bool> UseToken(store::Tx& tx, const std::string& hash, core::UnixNanos now);
  // Tokens of a node's finished operations are useless: drop them.
  static core::Status DeleteTokens(store::Tx& tx, int64_t node_id);
};

}  // namespace gantry::lifecycle
