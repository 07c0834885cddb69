-- Tenancy: tenants, their projects and members, quotas per resource, usage counters,
-- reservations (admission) and the history behind the "over time" views.
-- Amounts are integers in base units (GPUs, cores, bytes, nodes, instances): always BIGINT.

CREATE TABLE tenants (
  id {{pk}},
  slug TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL DEFAULT '',
  cohort TEXT,
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX tenants_cohort ON tenants(cohort);

-- One row per cohort name: the lock every admission in the cohort takes first
-- (SELECT ... FOR UPDATE on PostgreSQL), so decisions in one cohort are serialised.
CREATE TABLE quota_cohorts (
  name TEXT PRIMARY KEY,
  created_at BIGINT NOT NULL
);

CREATE TABLE projects (
  id {{pk}},
  tenant_id BIGINT NOT NULL REFERENCES tenants(id),
  slug TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (tenant_id, slug)
);

CREATE TABLE tenant_members (
  tenant_id BIGINT NOT NULL REFERENCES tenants(id),
  user_id BIGINT NOT NULL REFERENCES users(id),
  role TEXT NOT NULL CHECK (role IN ('tenant-admin', 'tenant-member', 'viewer')),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX tenant_members_user ON tenant_members(user_id);

-- project_id 0: the tenant's own quota; otherwise a project of the tenant.
CREATE TABLE quotas (
  tenant_id BIGINT NOT NULL REFERENCES tenants(id),
  project_id BIGINT NOT NULL DEFAULT 0,
  resource TEXT NOT NULL,
  guaranteed BIGINT NOT NULL,
  burst BIGINT,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, project_id, resource)
);

-- What active reservations hold. project_id 0 is the tenant's total (every project included);
-- borrowed is the part above the guaranteed amount at that level.
CREATE TABLE quota_usage (
  tenant_id BIGINT NOT NULL REFERENCES tenants(id),
  project_id BIGINT NOT NULL DEFAULT 0,
  resource TEXT NOT NULL,
  reserved BIGINT NOT NULL DEFAULT 0,
  borrowed BIGINT NOT NULL DEFAULT 0,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, project_id, resource)
);

-- resources and borrowed are JSON objects {"gpu/h100": 4, ...}.
CREATE TABLE quota_reservations (
  id {{pk}},
  tenant_id BIGINT NOT NULL REFERENCES tenants(id),
  project_id BIGINT NOT NULL DEFAULT 0,
  ref TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('active', 'released', 'reclaimed')),
  resources TEXT NOT NULL,
  borrowed TEXT NOT NULL DEFAULT '{}',
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  released_at BIGINT
);
CREATE INDEX quota_reservations_tenant ON quota_reservations(tenant_id, state, id);
CREATE INDEX quota_reservations_ref ON quota_reservations(tenant_id, ref, state);

-- One row per change of a quota or of a usage counter, for the "over time" views.
CREATE TABLE quota_history (
  id {{pk}},
  time BIGINT NOT NULL,
  tenant_id BIGINT NOT NULL,
  project_id BIGINT NOT NULL DEFAULT 0,
  resource TEXT NOT NULL,
  guaranteed BIGINT NOT NULL,
  burst BIGINT,
  reserved BIGINT NOT NULL,
  borrowed BIGINT NOT NULL
);
CREATE INDEX quota_history_tenant ON quota_history(tenant_id, time);
