-- Covering indexes for relationship look-ups by end and type (per-type counts, cycle checks,
-- related_to filters, the recursive CTEs of the benchmark): they replace the single-column ones.
CREATE INDEX cmdb_relations_from_type ON cmdb_relations(from_id, type, to_id);
CREATE INDEX cmdb_relations_to_type ON cmdb_relations(to_id, type, from_id);
DROP INDEX cmdb_relations_from;
DROP INDEX cmdb_relations_to;
