-- CMDB: configuration item types, items, relationships, per-attribute provenance, history and
-- change requests. JSON columns hold objects serialised by Boost.JSON.

-- Types of configuration items (built-in ones are upserted at start; operators add their own).
CREATE TABLE cmdb_types (
  name TEXT PRIMARY KEY,
  description TEXT NOT NULL DEFAULT '',
  builtin INTEGER NOT NULL DEFAULT 0,
  attributes TEXT NOT NULL DEFAULT '[]',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

-- Types of relationships with their rules (allowed CI types, cardinality, cycles, impact).
CREATE TABLE cmdb_relation_types (
  name TEXT PRIMARY KEY,
  description TEXT NOT NULL DEFAULT '',
  builtin INTEGER NOT NULL DEFAULT 0,
  rules TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE cmdb_cis (
  id {{pk}},
  type TEXT NOT NULL REFERENCES cmdb_types(name),
  name TEXT NOT NULL,
  attrs TEXT NOT NULL DEFAULT '{}',
  tenant TEXT,
  status TEXT NOT NULL DEFAULT 'active',
  version INTEGER NOT NULL DEFAULT 1,
  stale INTEGER NOT NULL DEFAULT 0,
  last_seen_at BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (type, name)
);
CREATE INDEX cmdb_cis_name ON cmdb_cis(name);
CREATE INDEX cmdb_cis_tenant ON cmdb_cis(tenant);

CREATE TABLE cmdb_relations (
  id {{pk}},
  type TEXT NOT NULL REFERENCES cmdb_relation_types(name),
  from_id BIGINT NOT NULL REFERENCES cmdb_cis(id),
  to_id BIGINT NOT NULL REFERENCES cmdb_cis(id),
  attrs TEXT NOT NULL DEFAULT '{}',
  source TEXT NOT NULL DEFAULT 'manual',
  created_at BIGINT NOT NULL,
  UNIQUE (type, from_id, to_id)
);
CREATE INDEX cmdb_relations_from ON cmdb_relations(from_id);
CREATE INDEX cmdb_relations_to ON cmdb_relations(to_id);

-- Which source last set each attribute, with its priority and when it last saw it.
CREATE TABLE cmdb_attr_sources (
  ci_id BIGINT NOT NULL REFERENCES cmdb_cis(id) ON DELETE CASCADE,
  attr TEXT NOT NULL,
  source TEXT NOT NULL,
  priority INTEGER NOT NULL,
  last_seen_at BIGINT NOT NULL,
  PRIMARY KEY (ci_id, attr)
);

-- Every change to a CI or relationship: the full CI before and after (JSON), so any past state
-- can be rebuilt. ci_id is not a foreign key: history outlives deleted CIs.
CREATE TABLE cmdb_history (
  id {{pk}},
  time BIGINT NOT NULL,
  actor TEXT NOT NULL,
  op TEXT NOT NULL,
  ci_id BIGINT,
  relation_id BIGINT,
  version INTEGER,
  before_state TEXT,
  after_state TEXT,
  change_request_id BIGINT
);
CREATE INDEX cmdb_history_ci ON cmdb_history(ci_id, time);
CREATE INDEX cmdb_history_time ON cmdb_history(time);

CREATE TABLE cmdb_change_requests (
  id {{pk}},
  title TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL,
  edits TEXT NOT NULL,
  impact TEXT,
  created_by TEXT NOT NULL,
  reviewed_by TEXT,
  review_comment TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  applied_at BIGINT
);
