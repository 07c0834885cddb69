-- Core platform: users, API tokens, web sessions, the audit trail, jobs and settings.
-- Written once for both backends: {{pk}} is the auto-increment primary key of each backend.
-- Times are int64 nanoseconds since the Unix epoch, UTC.

CREATE TABLE users (
  id {{pk}},
  username TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL DEFAULT '',
  password_hash TEXT,
  roles TEXT NOT NULL DEFAULT '',
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  last_login_at BIGINT
);

CREATE TABLE api_tokens (
  id {{pk}},
  user_id BIGINT NOT NULL REFERENCES users(id),
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  expires_at BIGINT,
  last_used_at BIGINT,
  revoked_at BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE sessions (
  id {{pk}},
  user_id BIGINT NOT NULL REFERENCES users(id),
  session_hash TEXT NOT NULL UNIQUE,
  csrf_token TEXT NOT NULL,
  source_ip TEXT NOT NULL DEFAULT '',
  user_agent TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  revoked_at BIGINT
);
CREATE INDEX sessions_user ON sessions(user_id);

-- The audit trail: a SHA-256 hash chain over contiguous sequence numbers.
CREATE TABLE audit_events (
  seq BIGINT PRIMARY KEY,
  time BIGINT NOT NULL,
  actor TEXT NOT NULL,
  actor_id BIGINT,
  source_ip TEXT NOT NULL,
  user_agent TEXT NOT NULL,
  action TEXT NOT NULL,
  target_type TEXT NOT NULL,
  target TEXT NOT NULL,
  tenant TEXT,
  request_id TEXT NOT NULL,
  result TEXT NOT NULL,
  details TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_events_time ON audit_events(time);
CREATE INDEX audit_events_actor ON audit_events(actor, seq);
CREATE INDEX audit_events_action ON audit_events(action, seq);
CREATE INDEX audit_events_target ON audit_events(target, seq);
CREATE INDEX audit_events_tenant ON audit_events(tenant, seq);

-- The head of the chain: one row, locked by every append so the chain stays linear.
CREATE TABLE audit_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq BIGINT NOT NULL,
  hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
  VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Signed checkpoints: Ed25519 signature over "gantry-audit-checkpoint\n<seq>\n<hash>".
CREATE TABLE audit_checkpoints (
  seq BIGINT PRIMARY KEY,
  hash TEXT NOT NULL,
  time BIGINT NOT NULL,
  key_id TEXT NOT NULL,
  signature TEXT NOT NULL
);

CREATE TABLE jobs (
  id {{pk}},
  type TEXT NOT NULL,
  state TEXT NOT NULL,
  progress INTEGER NOT NULL DEFAULT 0,
  message TEXT NOT NULL DEFAULT '',
  params TEXT NOT NULL DEFAULT '{}',
  result TEXT,
  error TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL DEFAULT 3,
  run_after BIGINT NOT NULL,
  lease_owner TEXT,
  lease_expires BIGINT,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  created_by TEXT NOT NULL,
  tenant TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  started_at BIGINT,
  finished_at BIGINT
);
CREATE INDEX jobs_claim ON jobs(state, run_after);

CREATE TABLE job_logs (
  id {{pk}},
  job_id BIGINT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  time BIGINT NOT NULL,
  line TEXT NOT NULL
);
CREATE INDEX job_logs_job ON job_logs(job_id, id);

CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
