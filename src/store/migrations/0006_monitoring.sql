-- Monitoring: incidents grouped from Alertmanager alerts, the alerts themselves (deduplicated by
-- fingerprint and start time), each incident's timeline, the webhook bodies already received
-- (replays are refused) and the Alertmanager silences Gantry created for maintenance.

CREATE TABLE mon_incidents (
  id {{pk}},
  title TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
  severity TEXT NOT NULL DEFAULT '',
  unmapped INTEGER NOT NULL DEFAULT 0,
  ci_id BIGINT,
  ci TEXT NOT NULL DEFAULT '',
  tenant TEXT,
  alertname TEXT NOT NULL DEFAULT '',
  assignee TEXT,
  context TEXT NOT NULL DEFAULT '{}',
  alerts BIGINT NOT NULL DEFAULT 0,
  firing BIGINT NOT NULL DEFAULT 0,
  opened_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  resolved_at BIGINT
);
CREATE INDEX mon_incidents_state ON mon_incidents(state, id);
CREATE INDEX mon_incidents_tenant ON mon_incidents(tenant, id);

CREATE TABLE mon_alerts (
  id {{pk}},
  incident_id BIGINT NOT NULL REFERENCES mon_incidents(id),
  fingerprint TEXT NOT NULL,
  alertname TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('firing', 'resolved')),
  labels TEXT NOT NULL,
  annotations TEXT NOT NULL,
  ci_id BIGINT,
  ci TEXT NOT NULL DEFAULT '',
  matched_by TEXT NOT NULL DEFAULT '',
  starts_at BIGINT NOT NULL,
  ends_at BIGINT,
  received_at BIGINT NOT NULL,
  UNIQUE (fingerprint, starts_at)
);
CREATE INDEX mon_alerts_incident ON mon_alerts(incident_id, id);

CREATE TABLE mon_timeline (
  id {{pk}},
  incident_id BIGINT NOT NULL REFERENCES mon_incidents(id),
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  kind TEXT NOT NULL,
  text TEXT NOT NULL DEFAULT ''
);
CREATE INDEX mon_timeline_incident ON mon_timeline(incident_id, id);

CREATE TABLE mon_webhook_receipts (
  body_sha256 TEXT PRIMARY KEY,
  received_at BIGINT NOT NULL
);
CREATE INDEX mon_webhook_receipts_time ON mon_webhook_receipts(received_at);

CREATE TABLE mon_silences (
  id {{pk}},
  ci_id BIGINT NOT NULL,
  ci TEXT NOT NULL,
  silence_id TEXT NOT NULL,
  matchers TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  ends_at BIGINT NOT NULL,
  removed_at BIGINT
);
CREATE INDEX mon_silences_ci ON mon_silences(ci_id, removed_at);
