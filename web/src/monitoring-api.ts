// Monitoring endpoints (docs/monitoring.md): incidents grouped from Alertmanager alerts with
// their CMDB context, and whether Gantry reaches Prometheus and Alertmanager.
import { api, type Page } from './api';

export type IncidentState = 'open' | 'acknowledged' | 'resolved';

export interface IncidentContext {
  location_path?: string;
  tenant?: string | null;
  services?: { type: string; name: string }[];
  dependents?: { total: number; by_type: Record<string, number> };
}

export interface IncidentAlert {
  id: number;
  fingerprint: string;
  alertname: string;
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  ci: string;
  matched_by: string;
  starts_at: string;
  ends_at: string | null;
}

export interface TimelineEntry {
  id: number;
  at: string;
  actor: string;
  kind: string;
  text: string;
}

export interface Incident {
  id: number;
  title: string;
  state: IncidentState;
  severity: string;
  unmapped: boolean;
  ci: string;
  tenant: string | null;
  alertname: string;
  assignee: string | null;
  context: IncidentContext;
  alerts: number;
  firing: number;
  opened_at: string;
  updated_at: string;
  resolved_at: string | null;
  alert_list?: IncidentAlert[];
  timeline?: TimelineEntry[];
}

export interface PeerStatus {
  prometheus: string;
  alertmanager: string;
}

export function listIncidents(state: IncidentState | '', signal?: AbortSignal): Promise<Page<Incident>> {
  return api<Page<Incident>>('/incidents', { query: { state: state || undefined, limit: 200 }, signal });
}

export function getIncident(id: string, signal?: AbortSignal): Promise<Incident> {
  return api<Incident>(`/incidents/${encodeURIComponent(id)}`, { signal });
}

export function ackIncident(id: number, note?: string): Promise<Incident> {
  return api<Incident>(`/incidents/${id}/ack`, { method: 'POST', body: note ? { note } : {} });
}

export function resolveIncident(id: number, note?: string): Promise<Incident> {
  return api<Incident>(`/incidents/${id}/resolve`, { method: 'POST', body: note ? { note } : {} });
}

export function noteIncident(id: number, text: string): Promise<Incident> {
  return api<Incident>(`/incidents/${id}/notes`, { method: 'POST', body: { text } });
}

export function peerStatus(signal?: AbortSignal): Promise<PeerStatus> {
  return api<PeerStatus>('/monitoring/status', { signal });
}

// Badge kind for a severity label (critical first).
export function severityKind(severity: string): string {
  if (severity === 'critical') return 'failed';
  if (severity === 'warning') return 'cancelled';
  return 'muted';
}

// "dc1 / hall-1 / A01" from the context's location path.
export function locationText(ctx: IncidentContext | undefined): string {
  return ctx?.location_path ? ctx.location_path.split('/').join(' / ') : '—';
}

// One series of a Prometheus range query: [[unix seconds, "value"], ...].
export interface RangeSeries {
  metric: Record<string, string>;
  values: [number, string][];
}

interface RangeAnswer {
  status: string;
  data: { resultType: string; result: RangeSeries[] };
}

// A PromQL range query through Gantry (tenant users get their own series only).
export async function queryRange(query: string, seconds: number, step: number, signal?: AbortSignal): Promise<RangeSeries[]> {
  const end = Math.floor(Date.now() / 1000);
  const r = await api<RangeAnswer>('/metrics/query_range', {
    query: { query, start: end - seconds, end, step },
    signal,
  });
  return r.data.result;
}

// SVG polyline points for values 0..max scaled into width x height (y grows downwards).
export function sparkline(values: [number, string][], width: number, height: number, max = 100): string {
  if (values.length === 0) return '';
  const t0 = values[0][0];
  const span = Math.max(1, values[values.length - 1][0] - t0);
  return values
    .map(([t, v]) => {
      const x = ((t - t0) / span) * width;
      const y = height - (Math.max(0, Math.min(max, Number(v))) / max) * height;
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(' ');
}
