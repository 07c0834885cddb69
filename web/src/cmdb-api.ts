// Typed client for the CMDB part of the REST API (src/cmdb/http_api.cc): configuration
// items (CIs), relationships, history, graph questions and change requests. Every call
// goes through `api()`, so writes carry the CSRF header and errors are `ApiError`s.

import { api, type Page } from './api';

export type CiStatus = 'active' | 'maintenance' | 'retired';
export const CI_STATUSES: CiStatus[] = ['active', 'maintenance', 'retired'];

export type Attributes = Record<string, unknown>;

export interface Ci {
  id: number;
  type: string;
  name: string;
  attributes: Attributes;
  tenant: string | null;
  status: CiStatus | string;
  version: number;
  stale: boolean;
  last_seen_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface AttrDef {
  name: string;
  type: string; // string, int, bool, enum, ipv4, ipv6, cidr, mac, date, reference
  required: boolean;
  values?: string[];
  ref_type?: string;
  min?: number;
  max?: number;
  description?: string;
}

export interface CiType {
  name: string;
  description: string;
  builtin: boolean;
  attributes: AttrDef[];
}

export interface Relation {
  id: number;
  type: string;
  from_id: number;
  to_id: number;
  attributes: Attributes;
  source: string;
  created_at: string;
}

export interface HistoryEntry {
  id: number;
  time: string;
  actor: string;
  op: string; // ci.create, ci.update, ci.delete, relation.create, relation.delete
  ci_id: number | null;
  relation_id: number | null;
  version: number | null;
  change_request_id: number | null;
  before: unknown;
  after: unknown;
}

/**
 * One step of an explanation path: `from` and `to` are "type/name"; `forward` when the
 * step follows the relationship from its `from` end to its `to` end.
 */
export interface Hop {
  from: string;
  relation: string;
  direction: 'forward' | 'reverse';
  to: string;
  from_id?: number; // the real server sends the ids too
  to_id?: number;
}

export interface ImpactItem {
  ci: Ci;
  depth: number;
  path: Hop[];
}

/**
 * The answer of /impact and /root-cause. Each item's path explains it as failure
 * propagation: for impact from `ci` to the item, for root cause from the item to `ci`.
 */
export interface ImpactAnswer {
  question?: 'impact' | 'root-cause';
  ci: Ci;
  total: number;
  truncated: boolean;
  by_type: Record<string, number>;
  tenants: string[];
  services: string[];
  items: ImpactItem[];
}

export interface GraphEdge {
  id?: number; // not sent by the real server
  type: string;
  from_id: number;
  to_id: number;
}

export interface Neighbourhood {
  ci: Ci;
  depth?: number;
  nodes: (Ci & { depth?: number })[];
  edges: GraphEdge[];
  truncated: boolean;
}

export interface PathAnswer {
  found: boolean;
  hops: Hop[];
  from?: Ci;
  to?: Ci;
  length?: number;
  truncated?: boolean;
}

export interface LocationStep {
  type: string;
  name: string;
  id?: number;
  position_u?: number;
}

export interface CiContext {
  ci: Ci;
  location: LocationStep[]; // site first; the rack step carries position_u
  location_path?: string; // "dc1/dc1-hall-1/dc1-r01/A01"
  container?: Ci | null; // for a part (GPU, NIC, port): what it is inside
  tenant: string | null;
  services: Ci[];
  dependents: { total: number; by_type: Record<string, number>; truncated?: boolean };
}

export type ChangeState = 'pending' | 'applied' | 'rejected' | 'failed';
export const CHANGE_STATES: ChangeState[] = ['pending', 'applied', 'rejected', 'failed'];

export interface ChangeImpact {
  touched?: { ci: string; op: string; affected: number }[];
  affected_total?: number;
  affected_by_type?: Record<string, number>;
  tenants?: string[];
  services?: string[];
}

export interface ChangeRequest {
  id: number;
  title: string;
  description: string;
  state: ChangeState | string;
  created_by: string;
  created_at: string;
  updated_at: string;
  edits: unknown;
  impact: ChangeImpact | null;
  reviewed_by: string | null;
  review_comment: string | null;
  applied_at: string | null;
}

// ----------------------------------------------------------- endpoints

const enc = (ref: number | string) => encodeURIComponent(String(ref));

export interface CiFilter {
  q?: string;
  type?: string;
  status?: string;
  tenant?: string;
  related_to?: number | string;
  limit?: number;
  cursor?: string | null;
}

export const listTypes = (signal?: AbortSignal) => api<Page<CiType>>('/cmdb/types', { signal });

export const listCis = (f: CiFilter = {}, signal?: AbortSignal) =>
  api<Page<Ci>>('/cmdb/cis', { query: { ...f }, signal });

export const getCi = (ref: number | string, signal?: AbortSignal) => api<Ci>(`/cmdb/cis/${enc(ref)}`, { signal });

export const getRelations = (ref: number | string, signal?: AbortSignal) =>
  api<Page<Relation>>(`/cmdb/cis/${enc(ref)}/relations`, { signal });

export const getHistory = (ref: number | string, limit = 200, signal?: AbortSignal) =>
  api<Page<HistoryEntry>>(`/cmdb/cis/${enc(ref)}/history`, { query: { limit }, signal });

export const getContext = (ref: number | string, signal?: AbortSignal) =>
  api<CiContext>(`/cmdb/cis/${enc(ref)}/context`, { signal });

export type ImpactKind = 'impact' | 'root-cause';

export const getImpact = (ref: number | string, kind: ImpactKind = 'impact', signal?: AbortSignal) =>
  api<ImpactAnswer>(`/cmdb/cis/${enc(ref)}/${kind}`, { signal });

export const getNeighbourhood = (ref: number | string, depth: number, limit = 200, signal?: AbortSignal) =>
  api<Neighbourhood>(`/cmdb/cis/${enc(ref)}/neighbourhood`, { query: { depth, limit }, signal });

export const getPath = (from: string, to: string, signal?: AbortSignal) =>
  api<PathAnswer>('/cmdb/path', { query: { from, to }, signal });

export const listChanges = (state?: string, signal?: AbortSignal) =>
  api<Page<ChangeRequest>>('/cmdb/changes', { query: { state }, signal });

export const getChange = (id: number | string, signal?: AbortSignal) =>
  api<ChangeRequest>(`/cmdb/changes/${enc(id)}`, { signal });

export const reviewChange = (id: number | string, verdict: 'approve' | 'reject', comment: string) =>
  api<ChangeRequest>(`/cmdb/changes/${enc(id)}/${verdict}`, { method: 'POST', body: { comment } });

// ------------------------------------------------------------- helpers

export const ciLabel = (ci: Pick<Ci, 'type' | 'name'>) => `${ci.type}/${ci.name}`;

/** Attribute keys worth a column in lists, most telling first. */
const KEY_ATTRS = [
  'role', 'model', 'gpu_model', 'gpu_count', 'mgmt_ip', 'primary_ip', 'ipv4', 'mac', 'port_name', 'speed_gbps',
  'kind', 'criticality', 'owner', 'serial', 'height_u', 'city', 'floor', 'aisle', 'uuid', 'version',
];

/**
 * Up to `n` "key=value" pairs for a one-line summary of a CI's attributes: those whose
 * value contains the search text `q` first, then the most telling ones.
 */
export function keyAttributes(attrs: Attributes | null | undefined, n = 3, q = ''): [string, string][] {
  if (!attrs) return [];
  const keys = Object.keys(attrs).filter((k) => attrs[k] !== null && attrs[k] !== '' && attrs[k] !== undefined);
  const needle = q.trim().toLowerCase();
  const hit = (k: string) => needle !== '' && formatValue(attrs[k]).toLowerCase().includes(needle);
  const rank = (k: string) => {
    if (hit(k)) return -1;
    const i = KEY_ATTRS.indexOf(k);
    return i < 0 ? KEY_ATTRS.length : i;
  };
  keys.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return keys.slice(0, n).map((k) => [k, formatValue(attrs[k])]);
}

export function formatValue(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}
