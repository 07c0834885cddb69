-- Hardware control: BMCs (Redfish / IPMI) and firmware campaigns with their per-node state.
-- Credentials are sealed with AES-256-GCM under the key file bmc-credentials.key in the data
-- directory (hex of nonce || ciphertext || tag); the database never holds a password in clear.

CREATE TABLE bmcs (
  id {{pk}},
  name TEXT NOT NULL UNIQUE,
  address TEXT NOT NULL,
  protocol TEXT NOT NULL,                    -- redfish | ipmi
  server TEXT,                               -- the server CI (name) this BMC controls
  system_id TEXT,                            -- redfish: the ComputerSystem Id (none: the first)
  credentials TEXT NOT NULL,                 -- sealed {"username", "password"}
  auth TEXT NOT NULL DEFAULT 'basic',        -- redfish: basic | session
  tls_verify INTEGER NOT NULL DEFAULT 1,     -- 0: verification explicitly disabled
  ca_file TEXT,                              -- PEM bundle to verify the BMC's certificate
  health TEXT NOT NULL DEFAULT 'unknown',    -- unknown | ok | unreachable | timeout | auth_failed | bad_response | error
  health_message TEXT NOT NULL DEFAULT '',
  power_state TEXT NOT NULL DEFAULT 'unknown',
  checked_at BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX bmcs_server ON bmcs(server);

CREATE TABLE fw_campaigns (
  id {{pk}},
  name TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL,                       -- pending | running | paused | succeeded | failed | halted | cancelled
  spec TEXT NOT NULL,                        -- JSON: component, target_version, image_uri, checksum, selection, sizes, window
  impact TEXT NOT NULL DEFAULT '{}',         -- JSON: tenants and services touched (preview at creation)
  job_id BIGINT,
  batch INTEGER NOT NULL DEFAULT 0,          -- index of the batch being worked on (0 = canary)
  failures INTEGER NOT NULL DEFAULT 0,
  message TEXT NOT NULL DEFAULT '',
  soak_until BIGINT,                         -- after the canary: no batch starts before this time
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE fw_campaign_nodes (
  campaign_id BIGINT NOT NULL REFERENCES fw_campaigns(id),
  server TEXT NOT NULL,
  batch INTEGER NOT NULL,
  state TEXT NOT NULL,                       -- pending | updating | verifying | succeeded | failed
  task TEXT NOT NULL DEFAULT '',             -- the BMC's task monitor URI while updating
  version_before TEXT NOT NULL DEFAULT '',
  version_after TEXT NOT NULL DEFAULT '',
  message TEXT NOT NULL DEFAULT '',
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (campaign_id, server)
);
CREATE INDEX fw_campaign_nodes_batch ON fw_campaign_nodes(campaign_id, batch);
