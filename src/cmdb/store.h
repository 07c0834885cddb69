// SQL for the CMDB (store_sql.cc is the only file with CMDB SQL).
#pragma once

#include <map>
#include <optional>
#include <vector>

#include "cmdb/types.h"
#include "store/database.h"

namespace gantry::cmdb {

struct CiFilter {
  std::optional<std::string> type, status, tenant, q;  // q: full-text over name and attributes
  std::vector<std::pair<std::string, std::string>> attr_equals;  // attribute name, value as text
  std::optional<int64_t> related_to;          // CIs joined to this one ...
  std::optional<std::string> relation;        // ... by this relation type (optional)
  std::optional<bool> stale;
  std::optional<std::vector<std::string>> visible_tenants;  // tenant scope: owned or contained by these
  std::optional<int64_t> after_id;
  int limit = 100;
};

struct AttrSource {
  std::string source;
  int priority = 0;
  core::UnixNanos last_seen_at = 0;
};

struct ChangeRequest {
  int64_t id = 0;
  std::string title, description, state;  // pending | applied | rejected | failed
  std::string edits = "[]";               // JSON array
  std::optional<std::string> impact;      // JSON
  std::string created_by;
  std::optional<std::string> reviewed_by, review_comment;
  core::UnixNanos created_at = 0, updated_at = 0;
  std::optional<core::UnixNanos> applied_at;
};

class Store {
 public:
  // Types.
  static core::Status UpsertType(store::Tx& tx, const CiType& t, core::UnixNanos now);
  static core::Status UpsertRelationType(store::Tx& tx, const RelationType& t, core::UnixNanos now);
  static core::Result<std::vector<CiType>> LoadTypes(store::Database& db);
  static core::Result<std::vector<RelationType>> LoadRelationTypes(store::Database& db);

  // CIs.
  static core::Result<int64_t> InsertCi(store::Tx& tx, const Ci& ci);
  static core::Result<std::optional<Ci>> GetCi(store::Tx& tx, int64_t id, bool lock = false,
                                               store::Backend backend = store::Backend::kSqlite);
  static core::Result<std::vector<Ci>> FindByName(store::Tx& tx, std::optional<std::string> type,
                                                  const std::string& name);
  // Writes every mutable column; fails (returns false) when the stored version is not `expected`.
  static core::Result<bool> UpdateCi(store::Tx& tx, const Ci& ci, int64_t expected_version);
  static core::Status DeleteCi(store::Tx& tx, int64_t id);
  static core::Result<std::vector<Ci>> ListCis(store::Database& db, const CiFilter& f);
  static core::Result<std::vector<Ci>> GetCis(store::Database& db, const std::vector<int64_t>& ids);
  static core::Result<int64_t> MarkStale(store::Tx& tx, core::UnixNanos seen_before, core::UnixNanos now);

  // Relationships.
  static core::Result<int64_t> InsertRelation(store::Tx& tx, const Relation& r);
  static core::Result<std::optional<Relation>> GetRelation(store::Tx& tx, int64_t id);
  static core::Result<std::optional<Relation>> FindRelation(store::Tx& tx, const std::string& type,
                                                            int64_t from, int64_t to);
  static core::Status DeleteRelation(store::Tx& tx, int64_t id);
  static core::Result<std::vector<Relation>> RelationsOf(store::Tx& tx, int64_t ci_id);
  static core::Result<std::vector<Relation>> RelationsOfMany(store::Database& db,
                                                             const std::vector<int64_t>& ids);
  static core::Result<int64_t> CountOut(store::Tx& tx, const std::string& type, int64_t from);
  static core::Result<int64_t> CountIn(store::Tx& tx, const std::string& type, int64_t to);

  // Provenance of attributes (reconciliation).
  static core::Result<std::map<std::string, AttrSource>> Sources(store::Tx& tx, int64_t ci_id);
  static core::Status SetSource(store::Tx& tx, int64_t ci_id, const std::string& attr,
                                const AttrSource& s);

  // History.
  static core::Status InsertHistory(store::Tx& tx, const HistoryEntry& h);
  static core::Result<std::vector<HistoryEntry>> History(store::Database& db, int64_t ci_id, int limit);
  // The last history entry of `ci_id` at or before `t`.
  static core::Result<std::optional<HistoryEntry>> StateAt(store::Database& db, int64_t ci_id,
                                                           core::UnixNanos t);

  // Change requests.
  static core::Result<int64_t> InsertChangeRequest(store::Tx& tx, const ChangeRequest& cr);
  static core::Result<std::optional<ChangeRequest>> GetChangeRequest(store::Tx& tx, int64_t id,
                                                                     bool lock, store::Backend b);
  static core::Status UpdateChangeRequest(store::Tx& tx, const ChangeRequest& cr);
  static core::Result<std::vector<ChangeRequest>> ListChangeRequests(store::Database& db,
                                                                     std::optional<std::string> state,
                                                                     int limit);
};

}  // namespace gantry::cmdb
