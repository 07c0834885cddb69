// Hardware control endpoints (docs/hardware.md): BMCs and one node's power through its BMC.
import { api, type Page } from './api';

export interface Bmc {
  id: number;
  name: string;
  address: string;
  protocol: 'redfish' | 'ipmi';
  server: string | null;
  health: string;
  health_message: string;
  power_state: string;
  checked_at: string | null;
  tls_verify: boolean;
}

export type PowerAction = 'on' | 'off' | 'force-off' | 'cycle' | 'reset';

export const listBmcs = (signal?: AbortSignal) => api<Page<Bmc>>('/bmcs', { query: { limit: 1000 }, signal });

// The node of a BMC: the server it controls, or the BMC itself.
export const nodeOf = (b: Bmc) => b.server ?? b.name;

export const powerStatus = (node: string) =>
  api<{ node: string; power_state: string }>(`/nodes/${encodeURIComponent(node)}/power`);

export const powerAction = (node: string, action: PowerAction) =>
  api<{ node: string; action: string; ok: boolean }>(`/nodes/${encodeURIComponent(node)}/power`, {
    method: 'POST',
    body: { action },
  });

// Health of every BMC as a job; returns its id (follow it on the Jobs page).
export const checkAll = () =>
  api<{ job_id: number }>('/hardware/check', { method: 'POST', body: { all: true } });

// "ok" → ok, transient faults → warn, the rest → bad (badge colours).
export function healthKind(h: string): string {
  if (h === 'ok') return 'succeeded';
  if (h === 'unknown') return 'queued';
  if (h === 'timeout' || h === 'unreachable') return 'failed';
  return 'cancelled';
}
