// The CMDB service: CI types, CIs, relationships with their rules, history, reconciliation of
// discovered data, tenant scope, change requests, and (with the graph index) impact questions.
//
// Every change writes a history row and an audit event in the same transaction, then updates
// the in-memory graph after commit. Other replicas' changes reach this replica's graph through
// Sync(), which replays new history rows (called before graph questions and periodically).
// Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <vector>

#include "audit/service.h"
#include "cmdb/graph.h"
#include "cmdb/store.h"
#include "cmdb/types.h"
#include "core/principal.h"

namespace gantry::cmdb {

struct NewCi {
  std::string type;
  std::string name;
  core::json::object attrs;
  std::optional<std::string> tenant;
  std::string status = "active";
};

struct CiPatch {
  std::optional<std::string> name;
  core::json::object attrs;  // merged; null removes
  std::optional<std::optional<std::string>> tenant;  // set (or clear with nullopt inside)
  std::optional<std::string> status;
  std::optional<int64_t> expected_version;  // optimistic concurrency
};

struct NewRelation {
  std::string type;
  std::string from;  // CI reference: id, "type/name" or a unique name
  std::string to;
  core::json::object attrs;
  std::string source = "manual";
  bool if_missing = false;  // an identical existing relationship is returned, not a conflict
};

// One observation from a discovery source (DHCP, LLDP, BMC inventory, agent).
struct Observation {
  std::string source;     // "dhcp", "lldp", "bmc", "agent", ...
  int priority = 10;      // higher wins; a hand edit has kManualPriority
  std::string type;
  std::string name;
  core::json::object attrs;
  std::optional<core::UnixNanos> seen_at;  // default: now
};
inline constexpr int kManualPriority = 100;

// One staged edit of a change request.
struct Edit {
  std::string op;  // create_ci | update_ci | delete_ci | relate | unrelate | set_status
  core::json::object body;
};

struct ImportReport {
  bool dry_run = true;
  int64_t rows = 0, created = 0, updated = 0, relations = 0;
  struct RowError {
    int64_t line = 0;
    std::string column;
    std::string message;
  };
  std::vector<RowError> errors;
};

class Service {
 public:
  Service(store::Database& db, const audit::Service& audit, const core::Clock& clock);

  // Upserts the built-in types, loads the custom ones and builds the graph index.
  core::Status Init();
  GraphIndex& graph() { return *graph_; }
  store::Database& db() { return db_; }

  // Types.
  std::vector<CiType> Types() const;
  std::vector<RelationType> RelationTypes() const;
  core::Result<CiType> GetType(std::string_view name) const;
  core::Result<CiType> CreateType(const core::RequestContext& rc, CiType t);
  core::Result<CiType> AddAttribute(const core::RequestContext& rc, const std::string& type, AttrDef def);
  core::Result<RelationType> CreateRelationType(const core::RequestContext& rc, RelationType t);

  // CIs. `ref` is an id, "type/name", or a name that is unique across types.
  core::Result<Ci> CreateCi(const core::RequestContext& rc, NewCi ci);
  core::Result<Ci> GetCi(const core::RequestContext& rc, std::string_view ref);
  core::Result<Ci> UpdateCi(const core::RequestContext& rc, std::string_view ref, CiPatch patch);
  // Refuses (kConflict, listing them) when other CIs depend on it, unless `cascade`.
  core::Status DeleteCi(const core::RequestContext& rc, std::string_view ref, bool cascade);
  core::Result<std::vector<Ci>> ListCis(const core::RequestContext& rc, CiFilter filter);
  core::Result<std::vector<Relation>> RelationsOfMany(const std::vector<int64_t>& ids);

  // Relationships.
  core::Result<Relation> Relate(const core::RequestContext& rc, NewRelation r);
  core::Status Unrelate(const core::RequestContext& rc, int64_t relation_id);
  core::Result<std::vector<Relation>> RelationsOf(const core::RequestContext& rc, std::string_view ref);

  // History.
  core::Result<std::vector<HistoryEntry>> History(const core::RequestContext& rc, std::string_view ref,
                                                  int limit = 200);
  core::Result<core::json::object> AsOf(const core::RequestContext& rc, std::string_view ref,
                                        core::UnixNanos t);
  core::Result<core::json::object> Diff(const core::RequestContext& rc, std::string_view ref,
                                        core::UnixNanos from, core::UnixNanos to);

  // Reconciliation.
  core::Result<Ci> Observe(const core::RequestContext& rc, const Observation& obs);
  core::Result<int64_t> MarkStale(const core::RequestContext& rc, int64_t not_seen_for_nanos);

  // Graph questions; answers name every CI and explain each with a path.
  core::Result<core::json::object> Impact(const core::RequestContext& rc, std::string_view ref,
                                          int max_depth, int max_results);
  core::Result<core::json::object> RootCause(const core::RequestContext& rc, std::string_view ref,
                                             int max_depth, int max_results);
  core::Result<core::json::object> CommonCause(const core::RequestContext& rc,
                                               const std::vector<std::string>& refs);
  core::Result<core::json::object> Neighbourhood(const core::RequestContext& rc, std::string_view ref,
                                                 int depth, int max_results);
  core::Result<core::json::object> Path(const core::RequestContext& rc, std::string_view from,
                                        std::string_view to);
  // Location path, owner tenant, services deployed on it and a dependents summary.
  core::Result<core::json::object> Context(const core::RequestContext& rc, std::string_view ref);

  // Bulk import: every row is checked; any bad row → nothing written.
  // `cis` and `relations` carry the line number of their source row for error reports.
  core::Result<ImportReport> Import(const core::RequestContext& rc,
                                    const std::vector<std::pair<int64_t, NewCi>>& cis,
                                    const std::vector<std::pair<int64_t, NewRelation>>& relations,
                                    bool dry_run);

  // Change requests.
  core::Result<ChangeRequest> ProposeChange(const core::RequestContext& rc, std::string title,
                                            std::string description, std::vector<Edit> edits);
  core::Result<ChangeRequest> ApproveChange(const core::RequestContext& rc, int64_t id, std::string comment);
  core::Result<ChangeRequest> RejectChange(const core::RequestContext& rc, int64_t id, std::string comment);
  core::Result<ChangeRequest> GetChange(const core::RequestContext& rc, int64_t id);
  core::Result<std::vector<ChangeRequest>> ListChanges(const core::RequestContext& rc,
                                                       std::optional<std::string> state);

  // Replays history rows written since the last sync into the graph (other replicas' changes).
  core::Status Sync();

 private:
  struct TxCtx {  // one write transaction and who makes it
    const core::RequestContext& rc;
    std::unique_ptr<store::Tx> tx;
    core::UnixNanos now = 0;
    // A bulk import: every row still gets its history entry, and the import as a whole one
    // audit event (with its counts) instead of one per row.
    bool bulk = false;
  };
  core::Result<Ci> Resolve(store::Tx& tx, std::string_view ref);
  core::Result<Ci> CreateCiTx(TxCtx& t, NewCi ci, std::optional<int64_t> cr);
  core::Result<Ci> UpdateCiTx(TxCtx& t, Ci current, CiPatch patch, std::optional<int64_t> cr);
  core::Status DeleteCiTx(TxCtx& t, const Ci& ci, bool cascade, std::optional<int64_t> cr);
  core::Result<Relation> RelateTx(TxCtx& t, NewRelation r, std::optional<int64_t> cr);
  core::Status UnrelateTx(TxCtx& t, const Relation& r, std::optional<int64_t> cr);
  core::Status ApplyEditTx(TxCtx& t, const Edit& e, int64_t cr);
  core::Status CommitTx(TxCtx& t);
  core::Status CheckVisible(const core::RequestContext& rc, const Ci& ci) const;
  // Reference attributes must name an existing CI of the declared type.
  core::Status CheckReferences(store::Tx& tx, const CiType& type, const core::json::object& attrs);
  // For tenant callers: which of `cis` they may see (owned, or parts of what they own).
  std::set<int64_t> VisibleIds(const core::RequestContext& rc, const std::vector<Ci>& cis);
  std::optional<std::vector<std::string>> VisibleTenants(const core::RequestContext& rc) const;
  core::Result<std::vector<Ci>> Named(const std::vector<int64_t>& ids);
  core::Result<core::json::object> TraversalJson(const core::RequestContext& rc, const Ci& origin,
                                                 const TraversalResult& tr, const char* kind);
  core::Result<core::json::object> EditsImpact(const std::vector<Edit>& edits);
  std::optional<CiType> FindType(std::string_view name) const;
  std::optional<RelationType> FindRelationType(std::string_view name) const;
  core::Status ReloadTypes();

  store::Database& db_;
  const audit::Service& audit_;
  const core::Clock& clock_;
  std::unique_ptr<GraphIndex> graph_;
  mutable std::shared_mutex types_mu_;
  std::map<std::string, CiType, std::less<>> types_;
  std::map<std::string, RelationType, std::less<>> relation_types_;
  std::mutex sync_mu_;
  int64_t synced_history_id_ = 0;
  std::set<int64_t> recent_applied_;  // history ids applied (window for out-of-order commits)
};

}  // namespace gantry::cmdb
