// Metering and billing endpoints (docs/metering.md). Money arrives as integer micro-units plus a
// decimal string; quantities in the SKU's base unit plus `priced_quantity` in price units.
import { api, type Page } from './api';

export interface Tenant {
  id: number;
  slug: string;
  name: string;
}

export interface InvoiceLine {
  line: number;
  project: string;
  sku: string;
  policy: string;
  description: string;
  quantity: number;
  priced_quantity: string;
  price_unit: string;
  unit_price_micros: number;
  discount_bp: number;
  amount_micros: number;
  amount: string;
}

export interface Invoice {
  id: number;
  number: string;
  kind: 'invoice' | 'credit_note';
  tenant: string;
  period: string;
  currency: string;
  total_micros: number;
  total: string;
  issued: boolean;
  issued_at: string | null;
  lines?: InvoiceLine[];
}

export interface UsageBucket {
  tenant: string;
  project: string;
  sku: string;
  kind: string;
  start: string;
  quantity: number;
}

export interface BudgetStatus {
  id: number;
  project: string;
  metric: 'cost' | 'gpu_hours';
  limit: number;
  spent: number;
  percent: number;
  hard: boolean;
  exhausted: boolean;
  alerts: number[];
}

export const listTenants = (signal?: AbortSignal) => api<Page<Tenant>>('/tenants', { query: { limit: 1000 }, signal });
export const previewInvoice = (tenant: string, month: string, signal?: AbortSignal) =>
  api<Invoice>('/invoices/preview', { query: { tenant, month }, signal });
export const listInvoices = (tenant: string, signal?: AbortSignal) => api<Page<Invoice>>('/invoices', { query: { tenant }, signal });
export const listBudgets = (tenant: string, signal?: AbortSignal) =>
  api<Page<BudgetStatus>>(`/tenants/${encodeURIComponent(tenant)}/budgets`, { signal });
export const dailyUsage = (tenant: string, since: string, until: string, signal?: AbortSignal) =>
  api<Page<UsageBucket>>('/metering/usage', { query: { tenant, since, until, granularity: 'day' }, signal });

/** Sums `amount_micros` of the lines by a key (project or SKU), largest first. */
export function costBy(lines: InvoiceLine[], key: (l: InvoiceLine) => string): [string, number][] {
  const m = new Map<string, number>();
  for (const l of lines) m.set(key(l), (m.get(key(l)) ?? 0) + l.amount_micros);
  return [...m.entries()].sort((a, b) => b[1] - a[1]);
}

/** "1234.56" from micro-units (rounded half away from zero to cents, for display only). */
export function money(micros: number): string {
  return (Math.round(micros / 10_000) / 100).toFixed(2);
}

/** [first day, first day of next month) of "2026-11" as RFC 3339. */
export function monthRange(month: string): [string, string] {
  const [y, m] = month.split('-').map(Number);
  const start = new Date(Date.UTC(y, m - 1, 1));
  const end = new Date(Date.UTC(y, m, 1));
  return [start.toISOString(), end.toISOString()];
}
