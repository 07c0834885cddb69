// Shared plumbing of the browser tests: start a fresh server (the real binary or the
// mock), open headless Chromium on it, give the test helpers (screenshots, steps, the
// API with a bearer token), and tear everything down, pass or fail.
//
// Environment (the same contract for every test file): GANTRY_BIN or GANTRY_MOCK=1,
// OUT_DIR, CHROMIUM. See README.md.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const WEB_ROOT = path.join(REPO, 'web', 'dist');
export const MOCK = process.env.GANTRY_MOCK === '1';
export const BIN = process.env.GANTRY_BIN;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

const STARTUP_TIMEOUT_MS = 30_000;
export const UI_TIMEOUT_MS = 10_000;

function loadPlaywright() {
  const require = createRequire(new URL('../../web/package.json', import.meta.url));
  try {
    return require('playwright-core');
  } catch (e) {
    throw new Error(`playwright-core not found: run 'npm ci' in web/ first (${e.message})`);
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** A timeout that does not keep the process alive (for races in cleanup). */
const deadlineAfter = (ms) => new Promise((r) => setTimeout(r, ms).unref());

/** The gantry command line: the real binary, or the mock speaking the same flags. */
function gantry(args) {
  return MOCK ? [process.execPath, [path.join(REPO, 'tests/browser/mock-server.mjs'), ...args]] : [BIN, args];
}

/** Runs a command to completion with `input` on stdin; rejects on timeout or non-zero exit. */
function run(args, { input = '', timeoutMs = 30_000, log }) {
  const [cmd, argv] = gantry(args);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    const collect = (d) => {
      out += d;
      log(d);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`'${args.slice(0, 2).join(' ')}' timed out after ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`'${args.slice(0, 2).join(' ')}' exited with ${code ?? signal}:\n${out}`));
    });
    child.stdin.on('error', () => {}); // the command may exit without reading stdin
    child.stdin.end(input);
  });
}

function parsePort(text) {
  // Accept "8080", "8080\n" or "127.0.0.1:8080".
  const m = /(?:^|:)(\d{1,5})\s*$/.exec(text.trim());
  const port = m ? Number(m[1]) : NaN;
  return port > 0 && port < 65536 ? port : null;
}

/** Why the test cannot run here, or null. */
export function skipReason() {
  if (!MOCK && !BIN) return 'set GANTRY_BIN to the gantry binary (or GANTRY_MOCK=1 for the mock server)';
  return null;
}

/**
 * Runs `body(env)` against a fresh server and browser. `prefix` names the screenshots
 * (`<prefix>NN-<name>.png`) and the server log (`<prefix>server.log`) in OUT_DIR.
 * env: { base, password, page, byId, shot, step, waitText, api, pageErrors, log }.
 */
export async function withPortal(t, { prefix = '' } = {}, body) {
  assert.ok(existsSync(path.join(WEB_ROOT, 'index.html')), `${WEB_ROOT}/index.html missing: run 'npm run build' in web/`);
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}`);
  const { chromium } = loadPlaywright();

  const tmp = mkdtempSync(path.join(os.tmpdir(), 'gantry-portal-'));
  const profile = mkdtempSync(path.join(os.tmpdir(), 'gantry-chromium-'));
  const outDir = process.env.OUT_DIR || mkdtempSync(path.join(os.tmpdir(), 'gantry-portal-shots-'));
  mkdirSync(outDir, { recursive: true });
  const serverLog = path.join(outDir, `${prefix}server.log`);
  writeFileSync(serverLog, '');
  let logTail = '';
  const log = (d) => {
    logTail = (logTail + d).slice(-8000);
    try {
      appendFileSync(serverLog, d);
    } catch {
      // diagnostics only
    }
  };

  let passed = false;
  let server = null;
  let serverExit = null;
  let context = null;
  const killServer = () => {
    if (server && serverExit === null) server.kill('SIGKILL');
  };
  process.once('exit', killServer); // last resort if the runner is torn down

  try {
    // ------------------------------------------------------------ server
    const password = randomBytes(18).toString('base64url');
    const db = `sqlite:${path.join(tmp, 'gantry.db')}`;
    const dataDir = path.join(tmp, 'data');
    mkdirSync(dataDir, { recursive: true });
    await run(['admin', 'init', '--db', db, '--data-dir', dataDir, '--admin-username', 'admin', '--password-stdin'], {
      input: `${password}\n`,
      log,
    });

    const portFile = path.join(tmp, 'port');
    const [cmd, argv] = gantry([
      'serve', '--db', db, '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--web-root', WEB_ROOT, '--port-file', portFile,
    ]);
    server = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout.on('data', log);
    server.stderr.on('data', log);
    server.on('exit', (code, signal) => {
      serverExit = { code, signal };
    });
    server.on('error', (e) => log(`spawn error: ${e.message}\n`));

    let base = null;
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    while (!base) {
      if (serverExit) throw new Error(`server exited during startup (${JSON.stringify(serverExit)}):\n${logTail}`);
      if (Date.now() > deadline) throw new Error(`server not healthy within ${STARTUP_TIMEOUT_MS} ms:\n${logTail}`);
      const port = existsSync(portFile) ? parsePort(readFileSync(portFile, 'utf8')) : null;
      if (port) {
        try {
          const r = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
          if (r.status === 200) base = `http://127.0.0.1:${port}`;
        } catch {
          // not listening yet
        }
      }
      if (!base) await sleep(100);
    }
    t.diagnostic(`server at ${base}${MOCK ? ' (mock)' : ''}; screenshots in ${outDir}`);

    // ------------------------------------------------------- API client
    let token = null;
    /** JSON API call as the admin with a bearer token; throws on a non-2xx answer. */
    const api = async (method, apiPath, body) => {
      if (!token) {
        const r = await fetch(`${base}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ username: 'admin', password, issue_token: true, token_name: 'browser-test' }),
        });
        const j = await r.json();
        assert.ok(r.ok && j.token, `token login answered ${r.status}: ${JSON.stringify(j)}`);
        token = j.token;
      }
      const r = await fetch(`${base}/api/v1${apiPath}`, {
        method,
        headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      const text = await r.text();
      if (!r.ok) {
        const e = new Error(`${method} ${apiPath} answered ${r.status}: ${text}`);
        e.status = r.status;
        throw e;
      }
      return text ? JSON.parse(text) : undefined;
    };

    // ----------------------------------------------------------- browser
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 800 },
      timeout: 30_000,
    });
    context.setDefaultTimeout(UI_TIMEOUT_MS);
    const page = context.pages()[0] ?? (await context.newPage());
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) pageErrors.push(m.text());
    });
    const byId = (id) => page.getByTestId(id);
    let shotNo = 0;
    const shot = async (name) => {
      // A full-page shot of a scrolled page draws the sticky top bar mid-page.
      await page.evaluate(() => window.scrollTo(0, 0)).catch(() => {});
      await page.screenshot({ path: path.join(outDir, `${prefix}${String(++shotNo).padStart(2, '0')}-${name}.png`), fullPage: true });
    };
    const step = async (name, fn) => {
      try {
        await fn();
      } catch (e) {
        await shot(`FAILED-${name.replace(/\W+/g, '-')}`).catch(() => {});
        e.message = `step '${name}': ${e.message}\n--- server log tail ---\n${logTail.slice(-3000)}`;
        throw e;
      }
    };
    const waitText = (testid, text, timeout = UI_TIMEOUT_MS) =>
      page.waitForFunction(
        ([id, want]) => document.querySelector(`[data-testid="${id}"]`)?.textContent?.trim() === want,
        [testid, text],
        { timeout },
      );

    await body({ base, password, page, byId, shot, step, waitText, api, pageErrors, log });

    assert.deepEqual(pageErrors, [], 'no uncaught errors or CSP violations in the page');
    passed = true;
  } finally {
    if (context) await Promise.race([context.close().catch(() => {}), deadlineAfter(10_000)]);
    if (server && serverExit === null) {
      server.kill('SIGTERM');
      const done = await Promise.race([new Promise((r) => server.once('exit', () => r(true))), deadlineAfter(5000).then(() => false)]);
      if (!done) {
        t.diagnostic('server ignored SIGTERM for 5 s; killing it');
        server.kill('SIGKILL');
      } else t.diagnostic(`server stopped: ${JSON.stringify(serverExit)}`);
    }
    process.removeListener('exit', killServer);
    rmSync(tmp, { recursive: true, force: true });
    rmSync(profile, { recursive: true, force: true });
    // Without OUT_DIR the screenshots and server log are kept only when something failed.
    if (!process.env.OUT_DIR) {
      if (passed) rmSync(outDir, { recursive: true, force: true });
      else t.diagnostic(`screenshots and server log kept in ${outDir}`);
    }
  }
}

/** Logs in through the login form (the page must show it). */
export async function loginThroughForm({ page, byId, password }) {
  await byId('login-username').fill('admin');
  await byId('login-password').fill(password);
  await byId('login-submit').click();
  await byId('nav-user').waitFor();
  await page.waitForURL(/#\/jobs$/);
}
