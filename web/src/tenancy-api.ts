// Typed client for the tenancy part of the REST API (src/tenancy/http_api.cc, docs/tenancy.md):
// tenants, projects, members, quotas with guaranteed/burst/reserved/borrowed/lent, the usage
// history and the engines' sync status.

import { api, type Page } from './api';

export interface Tenant {
  id: number;
  slug: string;
  name: string;
  cohort: string | null;
  disabled: boolean;
  created_at: string;
  updated_at: string;
}

export interface Project {
  id: number;
  tenant: string;
  slug: string;
  name: string;
  created_at: string;
}

export interface Member {
  user_id: number;
  username: string;
  role: string;
  created_at: string;
}

/** One quota line: a tenant-level line has `project: null`. */
export interface QuotaLine {
  project: string | null;
  resource: string;
  unit?: string;
  guaranteed: number | null;
  burst: number | null;
  reserved: number;
  borrowed: number;
  lent: number;
  used: number | null;
}

export interface HistoryPoint {
  time: string;
  project: string | null;
  resource: string;
  guaranteed: number;
  burst: number | null;
  reserved: number;
  borrowed: number;
}

export interface EngineSync {
  engine: string;
  enabled: boolean;
  state: 'never' | 'pending' | 'in_sync' | 'drift' | 'failing';
  reason: string | null;
  last: { id: number; state: string; finished_at: string | null; error: string | null } | null;
}

const t = (tenant: string) => `/tenants/${encodeURIComponent(tenant)}`;

export const listTenants = (signal?: AbortSignal) =>
  api<Page<Tenant>>('/tenants', { query: { limit: 1000 }, signal });
export const getTenant = (tenant: string, signal?: AbortSignal) => api<Tenant>(t(tenant), { signal });
export const listProjects = (tenant: string, signal?: AbortSignal) =>
  api<Page<Project>>(`${t(tenant)}/projects`, { signal });
export const listMembers = (tenant: string, signal?: AbortSignal) =>
  api<Page<Member>>(`${t(tenant)}/members`, { signal });
export const listQuotas = (tenant: string, signal?: AbortSignal) =>
  api<Page<QuotaLine>>(`${t(tenant)}/quotas`, { signal });
export const usageHistory = (tenant: string, since: string, signal?: AbortSignal) =>
  api<Page<HistoryPoint>>(`${t(tenant)}/usage`, { query: { since, limit: 10000 }, signal });
export const syncStatus = (signal?: AbortSignal) => api<Page<EngineSync>>('/tenancy/sync', { signal });

export interface QuotaChange {
  resource: string;
  guaranteed: number;
  burst?: number;
  project?: string;
  force?: boolean;
}
export const setQuota = (tenant: string, q: QuotaChange) =>
  api<QuotaLine>(`${t(tenant)}/quotas`, { method: 'PUT', body: q });
