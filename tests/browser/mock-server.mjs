#!/usr/bin/env node
// A tiny in-memory stand-in for `gantry`, for developing the web portal and for the
// browser test's GANTRY_MOCK=1 mode. It speaks the same command line as the real binary
// for the two commands the test uses, and the routes of docs/api.md that the portal uses:
//
//   node mock-server.mjs admin init --db sqlite:PATH --data-dir DIR --admin-username NAME --password-stdin
//   node mock-server.mjs serve --db sqlite:PATH --data-dir DIR --listen HOST:PORT \
//        [--web-root DIR] [--port-file FILE]
//   node mock-server.mjs            # dev shortcut: serve on 127.0.0.1:8080, login admin/admin,
//                                   # web root ../../web/dist, a small demo CMDB estate
//
// The CMDB routes live in mock-cmdb.mjs. `serve` starts with an empty CMDB (the browser
// test seeds its own estate through the API); GANTRY_MOCK_DEMO=1 seeds the demo estate.
// Logging in with {"issue_token": true} returns a bearer token, as the real server does.
//
// State lives in memory (the admin's credentials in DATA_DIR/mock-admin.json). Not for
// production, obviously: no persistence, no real roles, no tokens.

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCmdb } from './mock-cmdb.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));

// ------------------------------------------------------------------ command line

function parseFlags(argv) {
  const flags = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument: ${a}`);
    const eq = a.indexOf('=');
    if (eq > 0) flags[a.slice(2, eq)] = a.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) flags[a.slice(2)] = argv[++i];
    else flags[a.slice(2)] = true;
  }
  return flags;
}

function readStdin() {
  return new Promise((resolve, reject) => {
    let s = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (d) => (s += d));
    process.stdin.on('end', () => resolve(s));
    process.stdin.on('error', reject);
  });
}

async function main(argv) {
  if (argv.length === 0) {
    return serve({
      listen: '127.0.0.1:8080',
      webRoot: path.resolve(HERE, '../../web/dist'),
      admin: { username: 'admin', password: 'admin' },
      demo: true,
    });
  }
  const [cmd, sub] = argv;
  if (cmd === 'admin' && sub === 'init') {
    const f = parseFlags(argv.slice(2));
    const dataDir = f['data-dir'];
    const username = f['admin-username'] ?? 'admin';
    if (!dataDir || !f['password-stdin']) throw new Error('admin init needs --data-dir and --password-stdin');
    const password = (await readStdin()).replace(/\r?\n$/, '');
    if (!password) throw new Error('empty password on stdin');
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(path.join(dataDir, 'mock-admin.json'), JSON.stringify({ username, password }), { mode: 0o600 });
    console.log(`mock: initialised ${f.db ?? '(no db)'}, admin user '${username}'`);
    return;
  }
  if (cmd === 'serve') {
    const f = parseFlags(argv.slice(1));
    const dataDir = f['data-dir'];
    if (!dataDir) throw new Error('serve needs --data-dir');
    const admin = JSON.parse(readFileSync(path.join(dataDir, 'mock-admin.json'), 'utf8'));
    return serve({
      listen: f.listen ?? '127.0.0.1:8080',
      webRoot: f['web-root'],
      portFile: f['port-file'],
      admin,
      demo: process.env.GANTRY_MOCK_DEMO === '1',
    });
  }
  throw new Error(`unknown command: ${argv.join(' ')}`);
}

// ------------------------------------------------------------------ helpers

class Problem extends Error {
  constructor(status, title, detail, extra = {}) {
    super(detail);
    this.status = status;
    this.title = title;
    this.extra = extra;
  }
}
const slug = (title) => title.toLowerCase().replace(/[^a-z]+/g, '-');
const bad = (detail, field) => new Problem(400, 'Bad Request', detail, field ? { field } : {});
const now = () => new Date().toISOString();

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

function parseCookies(header = '') {
  const out = {};
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > 1 << 20) {
        reject(new Problem(413, 'Content Too Large', 'request body over 1 MiB'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      const s = Buffer.concat(chunks).toString('utf8');
      if (!s) return resolve(undefined);
      try {
        resolve(JSON.parse(s));
      } catch {
        reject(bad('request body is not valid JSON'));
      }
    });
    req.on('error', reject);
  });
}

function pageOf(items, key, query) {
  const limit = query.has('limit') ? Number(query.get('limit')) : 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw bad('limit must be 1..1000', 'limit');
  const cursor = query.get('cursor');
  let start = 0;
  if (cursor) {
    const c = Number(cursor);
    if (!Number.isInteger(c)) throw bad('invalid cursor', 'cursor');
    start = items.findIndex((x) => x[key] < c);
    if (start < 0) start = items.length;
  }
  const page = items.slice(start, start + limit);
  const more = start + limit < items.length;
  return { items: page, next_cursor: more ? String(page[page.length - 1][key]) : null };
}

function parseTime(query, name) {
  const v = query.get(name);
  if (!v) return null;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v)) throw bad(`${name} must be RFC 3339`, name);
  return Date.parse(v);
}

// ------------------------------------------------------------------ the server

function serve({ listen, webRoot, portFile, admin, demo = false }) {
  const user = {
    id: 1,
    username: admin.username,
    display_name: '',
    roles: ['admin'],
    disabled: false,
    created_at: now(),
    last_login_at: null,
  };
  const sessions = new Map(); // sid → { csrf }
  const tokens = new Set(); // bearer tokens issued by login with issue_token
  const audit = []; // oldest first
  const jobs = new Map(); // id → job
  let nextJobId = 1;

  function record(ctx, action, targetType, target, result, details = {}, actor = ctx.actor) {
    const prev = audit.length ? audit[audit.length - 1].hash : '';
    const ev = {
      seq: audit.length + 1,
      time: now(),
      actor: actor ?? '',
      source_ip: ctx.ip,
      user_agent: ctx.ua,
      action,
      target_type: targetType,
      target: String(target),
      tenant: null,
      request_id: ctx.requestId,
      result,
      details,
    };
    ev.hash = createHash('sha256').update(prev + JSON.stringify(ev)).digest('hex');
    audit.push(ev);
  }

  function jobView(j, withLog) {
    const { log, timer, total, ...rest } = j;
    return withLog ? { ...rest, log: log.slice(-200) } : rest;
  }

  function finish(j, state, message, extra = {}) {
    clearInterval(j.timer);
    clearTimeout(j.timer);
    Object.assign(j, { state, message, finished_at: now(), timer: null }, extra);
    j.log.push({ time: now(), line: `job ${state}` });
  }

  function startJob(j) {
    j.state = 'running';
    j.attempts = 1;
    j.started_at = now();
    j.message = 'running';
    j.log.push({ time: now(), line: `started ${j.type} ${JSON.stringify(j.params)}` });
    const t0 = Date.now();
    let logged = 0;
    j.timer = setInterval(() => {
      if (j.cancel_requested) return finish(j, 'cancelled', 'cancelled by request');
      const elapsed = (Date.now() - t0) / 1000;
      const secs = Math.min(Math.floor(elapsed), j.total);
      while (logged < secs) {
        logged++;
        j.log.push({ time: now(), line: `slept ${logged}/${j.total} s` });
      }
      j.progress = Math.min(100, Math.floor((elapsed / j.total) * 100));
      j.message = `sleeping (${secs}/${j.total} s)`;
      if (elapsed >= j.total) finish(j, 'succeeded', 'done', { progress: 100, result: { slept_seconds: j.total } });
    }, 200);
  }

  function createJob(body) {
    if (!body || typeof body !== 'object') throw bad('body must be a JSON object');
    for (const k of Object.keys(body)) if (k !== 'type' && k !== 'params') throw bad(`unknown field '${k}'`, k);
    const params = body.params ?? {};
    let total;
    if (body.type === 'demo.sleep') {
      total = params.seconds ?? 5;
      if (typeof total !== 'number' || total < 0 || total > 3600) throw bad('params.seconds must be 0..3600', 'params.seconds');
    } else if (body.type === 'audit.checkpoint') {
      total = 0.3;
    } else {
      throw bad(`unknown job type '${body.type}'`, 'type');
    }
    const j = {
      id: nextJobId++,
      type: body.type,
      state: 'queued',
      progress: 0,
      message: 'queued',
      attempts: 0,
      max_attempts: 1,
      params,
      result: null,
      error: null,
      created_at: now(),
      started_at: null,
      finished_at: null,
      cancel_requested: false,
      log: [],
      total: Math.max(total, 0.01),
    };
    jobs.set(j.id, j);
    j.timer = setTimeout(() => startJob(j), 300);
    return j;
  }

  const cmdb = createCmdb({ Problem, record });
  if (demo) cmdb.seedDemo();

  // --- routing

  async function handleApi(req, res, ctx, url) {
    const p = url.pathname.slice('/api/v1'.length);
    const m = req.method;
    const unsafe = !['GET', 'HEAD', 'OPTIONS'].includes(m);

    // public routes
    if (p === '/auth/login') {
      if (m !== 'POST') throw new Problem(405, 'Method Not Allowed', `${m} not allowed`);
      const body = (await readBody(req)) ?? {};
      if (typeof body.username !== 'string' || typeof body.password !== 'string')
        throw bad('username and password are required', 'username');
      if (body.username !== admin.username || body.password !== admin.password) {
        record(ctx, 'auth.login', 'user', body.username, 'failure', { reason: 'bad credentials' }, body.username);
        throw new Problem(401, 'Unauthorized', 'invalid username or password');
      }
      user.last_login_at = now();
      record(ctx, 'auth.login', 'user', user.username, 'success', { method: 'password' }, user.username);
      if (body.issue_token === true) {
        const token = `gty_${randomBytes(24).toString('base64url')}`;
        tokens.add(token);
        return [200, { user, token, token_id: tokens.size, expires_at: new Date(Date.now() + 30 * 86400e3).toISOString() }];
      }
      const sid = randomBytes(24).toString('base64url');
      const csrf = randomBytes(24).toString('base64url');
      sessions.set(sid, { csrf });
      res.setHeader('Set-Cookie', `gantry_session=${sid}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200`);
      return [200, { user, csrf_token: csrf }];
    }
    if (p === '/openapi.json') return [200, { openapi: '3.1.0', info: { title: 'Gantry (mock)', version: '0' }, paths: {} }];

    // everything else needs the session (or a bearer token, which needs no CSRF token)
    const authz = req.headers.authorization ?? '';
    const bearer = authz.startsWith('Bearer ') ? authz.slice(7) : null;
    const sid = parseCookies(req.headers.cookie).gantry_session;
    const session = bearer === null && sid ? sessions.get(sid) : undefined;
    if (bearer !== null ? !tokens.has(bearer) : !session) throw new Problem(401, 'Unauthorized', 'authentication required');
    ctx.actor = user.username;
    if (session && unsafe && req.headers['x-csrf-token'] !== session.csrf)
      throw new Problem(403, 'Forbidden', 'missing or invalid X-CSRF-Token');

    const route = `${m} ${p}`;
    let mt;
    if (route === 'POST /auth/logout') {
      if (sid) sessions.delete(sid);
      record(ctx, 'auth.logout', 'user', user.username, 'success');
      res.setHeader('Set-Cookie', 'gantry_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0');
      return [204];
    }
    if (route === 'GET /whoami') {
      const { id, username, display_name, roles } = user;
      if (!session) return [200, { id, username, display_name, roles, tenants: [], auth: 'token' }];
      return [200, { id, username, display_name, roles, tenants: [], auth: 'session', csrf_token: session.csrf }];
    }
    if (route === 'GET /jobs') {
      const q = url.searchParams;
      let items = [...jobs.values()].reverse();
      if (q.get('state')) items = items.filter((j) => j.state === q.get('state'));
      if (q.get('type')) items = items.filter((j) => j.type === q.get('type'));
      const page = pageOf(items, 'id', q);
      return [200, { ...page, items: page.items.map((j) => jobView(j, false)) }];
    }
    if (route === 'POST /jobs') {
      const j = createJob(await readBody(req));
      record(ctx, 'job.create', 'job', j.id, 'success', { type: j.type });
      return [201, jobView(j, true)];
    }
    if (m === 'GET' && (mt = /^\/jobs\/(\d+)$/.exec(p))) {
      const j = jobs.get(Number(mt[1]));
      if (!j) throw new Problem(404, 'Not Found', `no job ${mt[1]}`);
      return [200, jobView(j, true)];
    }
    if (m === 'POST' && (mt = /^\/jobs\/(\d+)\/cancel$/.exec(p))) {
      const j = jobs.get(Number(mt[1]));
      if (!j) throw new Problem(404, 'Not Found', `no job ${mt[1]}`);
      if (j.state === 'queued') finish(j, 'cancelled', 'cancelled before start', { cancel_requested: true });
      else if (j.state === 'running') j.cancel_requested = true;
      else throw new Problem(409, 'Conflict', `job ${j.id} is already ${j.state}`);
      record(ctx, 'job.cancel', 'job', j.id, 'success');
      return [202, jobView(j, true)];
    }
    if (route === 'GET /audit/events') {
      const q = url.searchParams;
      const since = parseTime(q, 'since');
      const until = parseTime(q, 'until');
      const action = q.get('action');
      const result = q.get('result');
      if (result && !['success', 'denied', 'failure'].includes(result)) throw bad('result must be success|denied|failure', 'result');
      let items = [...audit].reverse();
      if (q.get('actor')) items = items.filter((e) => e.actor === q.get('actor'));
      if (action)
        items = items.filter((e) => (action.endsWith('*') ? e.action.startsWith(action.slice(0, -1)) : e.action === action));
      if (q.get('target')) items = items.filter((e) => e.target === q.get('target'));
      if (q.get('tenant')) items = items.filter((e) => e.tenant === q.get('tenant'));
      if (result) items = items.filter((e) => e.result === result);
      if (since !== null) items = items.filter((e) => Date.parse(e.time) >= since);
      if (until !== null) items = items.filter((e) => Date.parse(e.time) < until);
      return [200, pageOf(items, 'seq', q)];
    }
    if (route === 'GET /audit/verify') {
      let prev = '';
      for (const ev of audit) {
        const { hash, ...rest } = ev;
        if (createHash('sha256').update(prev + JSON.stringify(rest)).digest('hex') !== hash)
          return [200, { ok: false, events: audit.length, checkpoints: 0, first_bad_seq: ev.seq, problem: 'hash mismatch' }];
        prev = hash;
      }
      return [200, { ok: true, events: audit.length, checkpoints: 0 }];
    }
    const answer = await cmdb.handle(m, p, url, () => readBody(req), ctx);
    if (answer) return answer;
    throw new Problem(404, 'Not Found', `no route ${m} /api/v1${p}`);
  }

  function serveStatic(req, res, url) {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new Problem(405, 'Method Not Allowed', `${req.method} not allowed`);
    if (!webRoot) throw new Problem(404, 'Not Found', 'no --web-root');
    let rel;
    try {
      rel = decodeURIComponent(url.pathname);
    } catch {
      throw bad('bad path');
    }
    let file = path.resolve(webRoot, '.' + path.posix.normalize(rel));
    if (!file.startsWith(path.resolve(webRoot))) throw new Problem(404, 'Not Found', 'no such file');
    let isFile = existsSync(file) && statSync(file).isFile();
    if (!isFile) {
      // SPA fallback: unknown paths get index.html; missing build assets stay 404.
      if (rel.startsWith('/assets/')) throw new Problem(404, 'Not Found', 'no such file');
      file = path.join(webRoot, 'index.html');
      if (!existsSync(file)) throw new Problem(404, 'Not Found', 'web root has no index.html (run npm run build in web/)');
    }
    const type = CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream';
    res.writeHead(200, {
      'Content-Type': type,
      'Content-Length': statSync(file).size,
      'Cache-Control': file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
      'X-Content-Type-Options': 'nosniff',
      // The strict policy the portal is built to run under (no inline script or style).
      'Content-Security-Policy':
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
      'Referrer-Policy': 'same-origin',
    });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).pipe(res);
  }

  const server = createServer(async (req, res) => {
    const ctx = {
      requestId: randomUUID(),
      ip: (req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
      ua: req.headers['user-agent'] ?? '',
      actor: null,
    };
    res.setHeader('X-Request-Id', ctx.requestId);
    const url = new URL(req.url, 'http://localhost');
    try {
      let out;
      if (url.pathname === '/healthz' || url.pathname === '/readyz') out = [200, { status: 'ok' }];
      else if (url.pathname === '/api/v1' || url.pathname.startsWith('/api/')) out = await handleApi(req, res, ctx, url);
      else return serveStatic(req, res, url);
      const [status, body] = out;
      if (body === undefined) return res.writeHead(status).end();
      const s = JSON.stringify(body);
      res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(s);
    } catch (e) {
      const p = e instanceof Problem ? e : new Problem(500, 'Internal Server Error', String(e?.message ?? e));
      if (!(e instanceof Problem)) console.error(e);
      const body = {
        type: `https://gantry.dev/problems/${slug(p.title)}`,
        title: p.title,
        status: p.status,
        detail: p.message,
        instance: url.pathname,
        request_id: ctx.requestId,
        ...p.extra,
      };
      if (!res.headersSent) res.writeHead(p.status, { 'Content-Type': 'application/problem+json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify(body));
    }
  });

  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i).replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = Number(listen.slice(i + 1));
  server.listen(port, host, () => {
    const actual = server.address().port;
    if (portFile) writeFileSync(portFile, `${actual}\n`);
    console.log(`mock gantry listening on http://${host}:${actual} (web root: ${webRoot ?? 'none'})`);
  });
  const stop = (sig) => {
    console.log(`mock gantry: ${sig}, shutting down`);
    for (const j of jobs.values()) clearInterval(j.timer), clearTimeout(j.timer);
    server.close(() => process.exit(0));
    server.closeAllConnections?.();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main(process.argv.slice(2)).catch((e) => {
  console.error(`mock gantry: ${e.message}`);
  process.exit(2);
});
