// Typed client for the Gantry REST API (docs/api.md). One fetch wrapper, `api()`,
// handles JSON, the CSRF header on unsafe methods, RFC 9457 problem+json errors
// and the "session is gone" case (401 → back to the login page).

export const API_BASE = '/api/v1';

// ---------------------------------------------------------------- objects

export interface User {
  id: number;
  username: string;
  display_name: string;
  roles: string[];
  disabled: boolean;
  created_at: string;
  last_login_at: string | null;
}

export interface WhoAmI {
  id: number;
  username: string;
  display_name: string;
  roles: string[];
  tenants: string[];
  auth: 'token' | 'session';
  csrf_token?: string;
}

export interface LoginResponse {
  user: User;
  csrf_token: string;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export type AuditResult = 'success' | 'denied' | 'failure';

export interface AuditEvent {
  seq: number;
  time: string;
  actor: string;
  source_ip: string;
  user_agent: string;
  action: string;
  target_type: string;
  target: string;
  tenant: string | null;
  request_id: string;
  result: AuditResult;
  details: Record<string, unknown>;
  hash: string;
}

export interface AuditVerify {
  ok: boolean;
  events: number;
  checkpoints: number;
  first_bad_seq?: number;
  problem?: string;
}

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface JobLogLine {
  time: string;
  line: string;
}

export interface Job {
  id: number;
  type: string;
  state: JobState;
  progress: number;
  message: string;
  attempts: number;
  max_attempts: number;
  params: Record<string, unknown>;
  result: Record<string, unknown> | null;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  cancel_requested: boolean;
  log?: JobLogLine[];
}

/** RFC 9457 problem details, as every error response of the server carries. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  instance?: string;
  request_id?: string;
  field?: string;
  [extra: string]: unknown;
}

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  constructor(status: number, problem: Problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
  }
}

export function isActive(state: JobState): boolean {
  return state === 'queued' || state === 'running';
}

// ---------------------------------------------------------- session state

const CSRF_KEY = 'gantry_csrf';
let csrfToken: string | null = readStoredCsrf();

function readStoredCsrf(): string | null {
  try {
    return globalThis.sessionStorage?.getItem(CSRF_KEY) ?? null;
  } catch {
    return null;
  }
}

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
  try {
    if (token) globalThis.sessionStorage?.setItem(CSRF_KEY, token);
    else globalThis.sessionStorage?.removeItem(CSRF_KEY);
  } catch {
    // storage unavailable (private mode, tests): memory is enough
  }
}

export function getCsrfToken(): string | null {
  return csrfToken;
}

let unauthorizedHandler: () => void = () => {};

/** Called whenever an API call answers 401 (session expired, logged out elsewhere). */
export function setUnauthorizedHandler(fn: () => void): void {
  unauthorizedHandler = fn;
}

// ----------------------------------------------------------- the wrapper

export type Query = Record<string, string | number | boolean | null | undefined>;

export interface ApiOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  query?: Query;
  /** Don't treat 401 as "session gone" (login, the initial whoami). */
  noAuthRedirect?: boolean;
  signal?: AbortSignal;
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function buildQuery(query?: Query): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue;
    params.append(k, String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

export async function api<T>(path: string, opts: ApiOptions = {}): Promise<T> {
  const method = opts.method ?? 'GET';
  const headers: Record<string, string> = { Accept: 'application/json' };
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  if (UNSAFE.has(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;

  let res: Response;
  try {
    res = await fetch(API_BASE + path + buildQuery(opts.query), {
      method,
      headers,
      body,
      credentials: 'same-origin',
      signal: opts.signal,
    });
  } catch (e) {
    if ((e as Error)?.name === 'AbortError') throw e;
    throw new ApiError(0, { title: 'Network error', detail: `cannot reach the server (${(e as Error)?.message ?? e})` });
  }

  const type = res.headers.get('Content-Type') ?? '';
  const isJson = /\bjson\b/i.test(type); // application/json and application/problem+json

  if (!res.ok) {
    let problem: Problem;
    if (isJson) {
      const parsed: unknown = await res.json().catch(() => null);
      problem = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Problem) : {};
    } else {
      const text = (await res.text().catch(() => '')).trim();
      problem = { detail: text.length > 0 && text.length < 300 ? text : undefined };
    }
    problem.status ??= res.status;
    problem.title ??= res.statusText || `HTTP ${res.status}`;
    problem.request_id ??= res.headers.get('X-Request-Id') ?? undefined;
    if (res.status === 401 && !opts.noAuthRedirect) {
      setCsrfToken(null);
      unauthorizedHandler();
    }
    throw new ApiError(res.status, problem);
  }

  if (res.status === 204 || !isJson) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

// ----------------------------------------------------------- endpoints

export async function whoami(): Promise<WhoAmI> {
  const me = await api<WhoAmI>('/whoami', { noAuthRedirect: true });
  if (me.csrf_token) setCsrfToken(me.csrf_token);
  return me;
}

export async function login(username: string, password: string): Promise<LoginResponse> {
  const r = await api<LoginResponse>('/auth/login', {
    method: 'POST',
    body: { username, password },
    noAuthRedirect: true,
  });
  setCsrfToken(r.csrf_token);
  return r;
}

export async function logout(): Promise<void> {
  try {
    await api<void>('/auth/logout', { method: 'POST', noAuthRedirect: true });
  } finally {
    setCsrfToken(null);
  }
}

export interface JobFilter {
  state?: JobState | '';
  type?: string;
  limit?: number;
  cursor?: string | null;
}

export const listJobs = (f: JobFilter = {}, signal?: AbortSignal) =>
  api<Page<Job>>('/jobs', { query: { ...f }, signal });

export const getJob = (id: number | string, signal?: AbortSignal) =>
  api<Job>(`/jobs/${encodeURIComponent(String(id))}`, { signal });

export const createJob = (type: string, params?: Record<string, unknown>) =>
  api<Job>('/jobs', { method: 'POST', body: params ? { type, params } : { type } });

export const cancelJob = (id: number | string) =>
  api<Job | undefined>(`/jobs/${encodeURIComponent(String(id))}/cancel`, { method: 'POST' });

export interface AuditFilter {
  actor?: string;
  action?: string;
  target?: string;
  tenant?: string;
  result?: AuditResult | '';
  since?: string;
  until?: string;
  limit?: number;
  cursor?: string | null;
}

export const listAuditEvents = (f: AuditFilter = {}, signal?: AbortSignal) =>
  api<Page<AuditEvent>>('/audit/events', { query: { ...f }, signal });

export const verifyAudit = () => api<AuditVerify>('/audit/verify');
