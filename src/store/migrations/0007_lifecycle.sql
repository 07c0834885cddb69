-- Bare-metal lifecycle: nodes and their state machine, OS images, install templates and the
-- one-time tokens a booting node uses to fetch its configuration and call back.
-- Times are BIGINT nanoseconds (UTC).

CREATE TABLE lc_nodes (
  id {{pk}},
  name TEXT NOT NULL UNIQUE,            -- hostname; also the CMDB server CI's name
  mac TEXT NOT NULL UNIQUE,             -- boot NIC, lower-case aa:bb:cc:dd:ee:ff
  ip TEXT,                              -- reserved address (dnsmasq dhcp-host), optional
  last_ip TEXT,                         -- last address the DHCP server handed out
  bmc TEXT,                             -- the BMC (hardware module) that powers it, optional
  state TEXT NOT NULL,
  prev_state TEXT,                      -- state before maintenance/rescue/an operation
  reason TEXT NOT NULL DEFAULT '',      -- why it is broken (or in maintenance)
  op TEXT,                              -- operation in progress: commission|deploy|release|rescue
  job_id BIGINT,                        -- the job of that operation
  op_image TEXT,                        -- image booted for the operation
  op_template TEXT,                     -- install template rendered for the operation
  op_vars TEXT NOT NULL DEFAULT '{}',   -- per-deploy variables (JSON)
  op_config TEXT,                       -- the rendered install configuration of the operation
  op_deadline BIGINT,                   -- the node must call back before this
  callback TEXT,                        -- the node's report for the operation (JSON), once called back
  hardware TEXT NOT NULL DEFAULT '{}',  -- last commissioning inventory (JSON)
  source TEXT NOT NULL DEFAULT 'manual',
  version BIGINT NOT NULL DEFAULT 1,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX lc_nodes_state ON lc_nodes(state);

CREATE TABLE lc_images (
  id {{pk}},
  name TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL DEFAULT '',
  files TEXT NOT NULL,                  -- JSON {kernel|initrd|rootfs: {sha256, size}}
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL
);

CREATE TABLE lc_templates (
  id {{pk}},
  name TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,                   -- kickstart | preseed | cloud-init | autoinstall | script
  body TEXT NOT NULL,
  builtin INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

-- One-time tokens, stored as SHA-256 hashes: `config` fetches the rendered template once,
-- `callback` reports the result once.
CREATE TABLE lc_tokens (
  hash TEXT PRIMARY KEY,
  node_id BIGINT NOT NULL REFERENCES lc_nodes(id),
  job_id BIGINT NOT NULL,
  purpose TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at BIGINT,
  created_at BIGINT NOT NULL
);
CREATE INDEX lc_tokens_node ON lc_tokens(node_id);
