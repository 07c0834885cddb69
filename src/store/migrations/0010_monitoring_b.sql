-- Monitoring, second part: where a maintenance silence came from. 'manual' (gantry monitor
-- silence, the API) or 'maintenance' (created because the CI's CMDB status is maintenance, and
-- expired by Gantry when it no longer is; see src/monitoring/maintenance.h).
ALTER TABLE mon_silences ADD COLUMN origin TEXT NOT NULL DEFAULT 'manual';
CREATE INDEX mon_silences_origin ON mon_silences(origin, removed_at);
