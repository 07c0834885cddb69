// What a CMDB history entry changed, derived from its `before` / `after` snapshots
// (CI entries carry whole CI JSON objects, relationship entries the relationship).

import type { HistoryEntry } from './cmdb-api';

export interface FieldChange {
  field: string; // "status", "attributes.mgmt_ip", …
  from: unknown; // undefined: the field did not exist
  to: unknown; // undefined: the field was removed
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The comparable fields of a CI snapshot: name, status, tenant and every attribute. */
function ciFields(ci: unknown): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (!isObj(ci)) return out;
  for (const k of ['name', 'status', 'tenant']) if (k in ci) out.set(k, ci[k]);
  if (isObj(ci.attributes)) for (const [k, v] of Object.entries(ci.attributes)) out.set(`attributes.${k}`, v);
  return out;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Field-by-field changes between two CI snapshots (either may be missing). */
export function diffCi(before: unknown, after: unknown): FieldChange[] {
  const a = ciFields(before);
  const b = ciFields(after);
  const out: FieldChange[] = [];
  for (const [k, v] of a) {
    if (!b.has(k)) out.push({ field: k, from: v, to: undefined });
    else if (!same(v, b.get(k))) out.push({ field: k, from: v, to: b.get(k) });
  }
  for (const [k, v] of b) if (!a.has(k)) out.push({ field: k, from: undefined, to: v });
  // A new CI's null tenant is not news.
  return out.filter((c) => !(c.from === undefined && (c.to === null || c.to === undefined)));
}

export interface RelationChange {
  type: string;
  from_id: number;
  to_id: number;
  from?: string; // "type/name" of the ends, when the server records them
  to?: string;
}

/** The relationship a relation.* history entry is about, if it carries one. */
export function relationOf(e: HistoryEntry): RelationChange | null {
  const r = isObj(e.after) ? e.after : isObj(e.before) ? e.before : null;
  if (!r || typeof r.type !== 'string' || typeof r.from_id !== 'number' || typeof r.to_id !== 'number') return null;
  const out: RelationChange = { type: r.type, from_id: r.from_id, to_id: r.to_id };
  if (typeof r.from === 'string') out.from = r.from;
  if (typeof r.to === 'string') out.to = r.to;
  return out;
}

/** Short display of a field value: strings bare, the rest as JSON, absent as "∅". */
export function showValue(v: unknown): string {
  if (v === undefined) return '∅';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}
