-- Metering, rating and billing: usage records and their roll-ups, the quarantine, counter state
-- of remote-written series, the price book (SKUs, effective-dated prices, discounts), invoices
-- and credit notes (immutable once issued), budgets and their alerts.
-- Quantities are integers in each SKU's base unit; money is integer micro-units; times are int64
-- nanoseconds (UTC).

CREATE TABLE metering_skus (
  name TEXT PRIMARY KEY,
  description TEXT NOT NULL DEFAULT '',
  base_unit TEXT NOT NULL,
  price_unit TEXT NOT NULL,
  base_per_price_unit BIGINT NOT NULL CHECK (base_per_price_unit > 0),
  policy TEXT NOT NULL CHECK (policy IN ('allocated', 'used')),
  gpu_permille BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE metering_prices (
  id {{pk}},
  sku TEXT NOT NULL REFERENCES metering_skus(name),
  effective_from BIGINT NOT NULL,
  unit_price_micros BIGINT NOT NULL CHECK (unit_price_micros >= 0),
  currency TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (sku, effective_from)
);

-- One row per accepted usage record; `key` is the caller's idempotency key.
CREATE TABLE usage_records (
  id {{pk}},
  key TEXT NOT NULL UNIQUE,
  tenant_id BIGINT NOT NULL,
  project_id BIGINT NOT NULL DEFAULT 0,
  sku TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('allocated', 'used')),
  quantity BIGINT NOT NULL CHECK (quantity >= 0),
  start_at BIGINT NOT NULL,
  end_at BIGINT NOT NULL,
  source TEXT NOT NULL,
  received_at BIGINT NOT NULL
);

-- Records that were not counted, with the reason (unknown tenant, late, clock skew, ...).
CREATE TABLE usage_quarantine (
  id {{pk}},
  key TEXT NOT NULL UNIQUE,
  source TEXT NOT NULL,
  reason TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT '',
  record TEXT NOT NULL,
  received_at BIGINT NOT NULL
);
CREATE INDEX usage_quarantine_reason ON usage_quarantine(reason, id);

-- Roll-ups: sums of accepted records per tenant, project, SKU and kind, per hour and per day.
CREATE TABLE usage_hourly (
  tenant_id BIGINT NOT NULL,
  project_id BIGINT NOT NULL,
  sku TEXT NOT NULL,
  kind TEXT NOT NULL,
  bucket BIGINT NOT NULL,
  quantity BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, project_id, sku, kind, bucket)
);
CREATE TABLE usage_daily (
  tenant_id BIGINT NOT NULL,
  project_id BIGINT NOT NULL,
  sku TEXT NOT NULL,
  kind TEXT NOT NULL,
  bucket BIGINT NOT NULL,
  quantity BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, project_id, sku, kind, bucket)
);

-- Remote-write counter state: each committed group of requests appends the (series hash,
-- timestamp, value) triples it advanced, packed and base64url-encoded; the latest triple of a
-- series wins. Every 1000 rows a snapshot of every series replaces the log (same transaction).
CREATE TABLE metering_series_log (
  id {{pk}},
  states TEXT NOT NULL,
  created_at BIGINT NOT NULL
);

-- Allocations reported by lifecycle events (bare-metal leases, portal instances): usage is
-- emitted up to billed_until when they stop and when an invoice closes their month.
CREATE TABLE metering_allocations (
  id {{pk}},
  key TEXT NOT NULL UNIQUE,
  tenant_id BIGINT NOT NULL,
  project_id BIGINT NOT NULL DEFAULT 0,
  sku TEXT NOT NULL,
  resource TEXT NOT NULL,
  quantity BIGINT NOT NULL,
  started_at BIGINT NOT NULL,
  stopped_at BIGINT,
  billed_until BIGINT NOT NULL
);
CREATE INDEX metering_allocations_open ON metering_allocations(tenant_id, stopped_at);

-- Per-tenant discounts. kind: percentage (bp off everything, or one SKU), tier (bp off the part
-- of a SKU's monthly quantity at or above from_quantity), commitment (bp off a SKU, and the
-- shortfall below `quantity` billed at the discounted price).
CREATE TABLE metering_discounts (
  id {{pk}},
  tenant_id BIGINT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('percentage', 'tier', 'commitment')),
  sku TEXT NOT NULL DEFAULT '',
  basis_points BIGINT NOT NULL CHECK (basis_points >= 0 AND basis_points <= 10000),
  quantity BIGINT NOT NULL DEFAULT 0,
  effective_from BIGINT NOT NULL,
  effective_until BIGINT,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX metering_discounts_tenant ON metering_discounts(tenant_id);

-- Issued invoices and credit notes. Immutable: triggers below refuse UPDATE and DELETE.
CREATE TABLE invoices (
  id {{pk}},
  number TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
  tenant_id BIGINT NOT NULL,
  tenant TEXT NOT NULL,
  period_start BIGINT NOT NULL,
  period_end BIGINT NOT NULL,
  currency TEXT NOT NULL,
  total_micros BIGINT NOT NULL,
  corrects BIGINT,
  reason TEXT NOT NULL DEFAULT '',
  issued_by TEXT NOT NULL,
  issued_at BIGINT NOT NULL
);
CREATE INDEX invoices_tenant ON invoices(tenant_id, period_start);

CREATE TABLE invoice_lines (
  invoice_id BIGINT NOT NULL REFERENCES invoices(id),
  line_no BIGINT NOT NULL,
  project TEXT NOT NULL,
  sku TEXT NOT NULL,
  policy TEXT NOT NULL,
  description TEXT NOT NULL,
  quantity BIGINT NOT NULL,
  base_unit TEXT NOT NULL,
  price_unit TEXT NOT NULL,
  base_per_price_unit BIGINT NOT NULL,
  unit_price_micros BIGINT NOT NULL,
  discount_bp BIGINT NOT NULL,
  amount_micros BIGINT NOT NULL,
  charge_start BIGINT NOT NULL,
  charge_end BIGINT NOT NULL,
  PRIMARY KEY (invoice_id, line_no)
);

-- sqlite-only-begin
CREATE TRIGGER invoices_immutable_update BEFORE UPDATE ON invoices
BEGIN SELECT RAISE(ABORT, 'issued invoices are immutable'); END;
CREATE TRIGGER invoices_immutable_delete BEFORE DELETE ON invoices
BEGIN SELECT RAISE(ABORT, 'issued invoices are immutable'); END;
CREATE TRIGGER invoice_lines_immutable_update BEFORE UPDATE ON invoice_lines
BEGIN SELECT RAISE(ABORT, 'issued invoices are immutable'); END;
CREATE TRIGGER invoice_lines_immutable_delete BEFORE DELETE ON invoice_lines
BEGIN SELECT RAISE(ABORT, 'issued invoices are immutable'); END;
-- sqlite-only-end
-- postgres-only-begin
CREATE FUNCTION gantry_invoices_immutable() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'issued invoices are immutable' USING ERRCODE = 'P0001'; END $$;
CREATE TRIGGER invoices_immutable BEFORE UPDATE OR DELETE ON invoices
FOR EACH ROW EXECUTE FUNCTION gantry_invoices_immutable();
CREATE TRIGGER invoice_lines_immutable BEFORE UPDATE OR DELETE ON invoice_lines
FOR EACH ROW EXECUTE FUNCTION gantry_invoices_immutable();
CREATE TRIGGER invoices_no_truncate BEFORE TRUNCATE ON invoices
FOR EACH STATEMENT EXECUTE FUNCTION gantry_invoices_immutable();
-- postgres-only-end

-- Budgets per tenant (project_id 0) or project and period (calendar month, UTC).
-- metric cost: limit in micro-units; gpu_hours: limit in GPU-hours. hard: admission refuses
-- GPU work once spent; hold_slurm: queued Slurm jobs of the project are held too.
CREATE TABLE budgets (
  id {{pk}},
  tenant_id BIGINT NOT NULL,
  project_id BIGINT NOT NULL DEFAULT 0,
  metric TEXT NOT NULL CHECK (metric IN ('cost', 'gpu_hours')),
  limit_amount BIGINT NOT NULL CHECK (limit_amount > 0),
  hard INTEGER NOT NULL DEFAULT 0,
  hold_slurm INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (tenant_id, project_id, metric)
);

CREATE TABLE budget_alerts (
  budget_id BIGINT NOT NULL,
  period_start BIGINT NOT NULL,
  threshold BIGINT NOT NULL,
  spent BIGINT NOT NULL,
  limit_amount BIGINT NOT NULL,
  raised_at BIGINT NOT NULL,
  PRIMARY KEY (budget_id, period_start, threshold)
);
