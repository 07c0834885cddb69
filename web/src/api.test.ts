import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, api, buildQuery, getCsrfToken, login, setCsrfToken, setUnauthorizedHandler } from './api';

type FetchArgs = [string, RequestInit];

function mockFetch(status: number, body: unknown, contentType = 'application/json') {
  const fn = vi.fn(async (..._args: FetchArgs) =>
    new Response(body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body), {
      status,
      headers: body === undefined ? { 'X-Request-Id': 'req-1' } : { 'Content-Type': contentType, 'X-Request-Id': 'req-1' },
    }),
  );
  vi.stubGlobal('fetch', fn);
  return fn;
}

/** The ApiError a call rejects with (fails the test if it resolves). */
async function failure(p: Promise<unknown>): Promise<ApiError> {
  const e = await p.then(
    () => expect.fail('expected the call to fail'),
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ApiError);
  return e as ApiError;
}

beforeEach(() => {
  setCsrfToken(null);
  setUnauthorizedHandler(() => {});
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe('api()', () => {
  it('GETs JSON with the query string, without a CSRF header', async () => {
    setCsrfToken('tok');
    const f = mockFetch(200, { items: [], next_cursor: null });
    const r = await api('/jobs', { query: { limit: 10, state: '', cursor: undefined, type: 'demo.sleep' } });
    expect(r).toEqual({ items: [], next_cursor: null });
    const [url, init] = f.mock.calls[0];
    expect(url).toBe('/api/v1/jobs?limit=10&type=demo.sleep');
    expect(init.method).toBe('GET');
    expect((init.headers as Record<string, string>)['X-CSRF-Token']).toBeUndefined();
    expect(init.credentials).toBe('same-origin');
  });

  it('sends the CSRF token and a JSON body on unsafe methods', async () => {
    setCsrfToken('csrf-123');
    const f = mockFetch(201, { id: 7, type: 'demo.sleep', state: 'queued' });
    await api('/jobs', { method: 'POST', body: { type: 'demo.sleep', params: { seconds: 5 } } });
    const [, init] = f.mock.calls[0];
    const h = init.headers as Record<string, string>;
    expect(h['X-CSRF-Token']).toBe('csrf-123');
    expect(h['Content-Type']).toBe('application/json');
    expect(JSON.parse(init.body as string)).toEqual({ type: 'demo.sleep', params: { seconds: 5 } });
  });

  it('turns problem+json into an ApiError carrying the detail', async () => {
    mockFetch(
      400,
      { type: 'https://gantry.dev/problems/invalid-argument', title: 'Bad Request', status: 400, detail: "unknown field 'foo'", field: 'foo' },
      'application/problem+json',
    );
    const err = await failure(api('/users', { method: 'POST', body: { foo: 1 } }));
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(400);
    expect(err.message).toBe("unknown field 'foo'");
    expect(err.problem.field).toBe('foo');
    expect(err.problem.request_id).toBe('req-1');
  });

  it('falls back to the title, then the status, when there is no detail', async () => {
    mockFetch(503, 'upstream down', 'text/plain');
    const err = await failure(api('/jobs'));
    expect(err.status).toBe(503);
    expect(err.message).toBe('upstream down');
    mockFetch(500, '', 'text/plain');
    expect((await failure(api('/jobs'))).message).toBe('HTTP 500');
  });

  it('on 401 forgets the CSRF token and calls the unauthorized handler', async () => {
    setCsrfToken('old');
    const onUnauth = vi.fn();
    setUnauthorizedHandler(onUnauth);
    mockFetch(401, { title: 'Unauthorized', status: 401, detail: 'session expired' }, 'application/problem+json');
    await expect(api('/jobs')).rejects.toThrow('session expired');
    expect(onUnauth).toHaveBeenCalledOnce();
    expect(getCsrfToken()).toBeNull();
  });

  it('does not redirect when login itself answers 401, and shows its detail', async () => {
    const onUnauth = vi.fn();
    setUnauthorizedHandler(onUnauth);
    mockFetch(401, { title: 'Unauthorized', status: 401, detail: 'invalid username or password' }, 'application/problem+json');
    await expect(login('admin', 'nope')).rejects.toThrow('invalid username or password');
    expect(onUnauth).not.toHaveBeenCalled();
  });

  it('login keeps the returned csrf_token', async () => {
    mockFetch(200, { user: { id: 1, username: 'admin' }, csrf_token: 'fresh' });
    await login('admin', 'pw');
    expect(getCsrfToken()).toBe('fresh');
  });

  it('returns undefined for 204 No Content', async () => {
    mockFetch(204, undefined);
    await expect(api('/auth/logout', { method: 'POST' })).resolves.toBeUndefined();
  });

  it('reports network failures as ApiError status 0', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))));
    const err = await failure(api('/whoami'));
    expect(err.status).toBe(0);
    expect(err.message).toContain('cannot reach the server');
  });
});

describe('buildQuery', () => {
  it('skips empty values and encodes the rest', () => {
    expect(buildQuery({})).toBe('');
    expect(buildQuery({ action: 'user.*', actor: '', since: '2026-11-25T12:00:00.000Z' })).toBe(
      '?action=user.*&since=2026-11-25T12%3A00%3A00.000Z',
    );
  });
});
