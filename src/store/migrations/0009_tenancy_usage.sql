-- Tenancy (issue 4): periodic snapshots of every quota line with the capacity the engines
-- report in use (Slurm: running jobs' allocated TRES), for the usage-over-time views.
CREATE TABLE quota_snapshots (
  id {{pk}},
  time BIGINT NOT NULL,
  tenant_id BIGINT NOT NULL,
  project_id BIGINT NOT NULL DEFAULT 0,
  resource TEXT NOT NULL,
  guaranteed BIGINT,
  burst BIGINT,
  reserved BIGINT NOT NULL,
  borrowed BIGINT NOT NULL,
  lent BIGINT NOT NULL,
  used BIGINT
);
CREATE INDEX quota_snapshots_tenant ON quota_snapshots(tenant_id, time);
CREATE INDEX quota_snapshots_time ON quota_snapshots(time);
