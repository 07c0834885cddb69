// End-to-end test of the web portal in a real (headless) Chromium against a real server.
//
//   GANTRY_BIN=/path/to/gantry node --test tests/browser/portal.test.mjs   # the real server
//   GANTRY_MOCK=1               node --test tests/browser/portal.test.mjs   # tests/browser/mock-server.mjs
//
// Needs `npm ci && npm run build` in web/ first (playwright-core comes from web/node_modules,
// the pages from web/dist). Optional env: OUT_DIR (screenshots and the server log go there;
// without it they go to a temp dir that is removed when the test passes), CHROMIUM (default
// /usr/bin/chromium). Without GANTRY_BIN or GANTRY_MOCK the test is skipped.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const WEB_ROOT = path.join(REPO, 'web', 'dist');
const MOCK = process.env.GANTRY_MOCK === '1';
const BIN = process.env.GANTRY_BIN;
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

const TEST_TIMEOUT_MS = 90_000;
const STARTUP_TIMEOUT_MS = 30_000;
const UI_TIMEOUT_MS = 10_000;
const JOB_TIMEOUT_MS = 30_000;

function loadPlaywright() {
  const require = createRequire(new URL('../../web/package.json', import.meta.url));
  try {
    return require('playwright-core');
  } catch (e) {
    throw new Error(`playwright-core not found: run 'npm ci' in web/ first (${e.message})`);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
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

test('web portal: login, jobs, audit', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (!MOCK && !BIN) {
    t.skip('set GANTRY_BIN to the gantry binary (or GANTRY_MOCK=1 for the mock server)');
    return;
  }
  assert.ok(existsSync(path.join(WEB_ROOT, 'index.html')), `${WEB_ROOT}/index.html missing: run 'npm run build' in web/`);
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}`);
  const { chromium } = loadPlaywright();

  const tmp = mkdtempSync(path.join(os.tmpdir(), 'gantry-portal-'));
  const profile = mkdtempSync(path.join(os.tmpdir(), 'gantry-chromium-'));
  const outDir = process.env.OUT_DIR || mkdtempSync(path.join(os.tmpdir(), 'gantry-portal-shots-'));
  mkdirSync(outDir, { recursive: true });
  const serverLog = path.join(outDir, 'server.log');
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
    const exited = new Promise((resolve) =>
      server.on('exit', (code, signal) => {
        serverExit = { code, signal };
        resolve(serverExit);
      }),
    );
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
    const shot = (name) =>
      page.screenshot({ path: path.join(outDir, `${String(++shotNo).padStart(2, '0')}-${name}.png`), fullPage: true });
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
    const createJobViaButton = async (seconds) => {
      await byId('demo-seconds').fill(String(seconds));
      const created = page.waitForResponse(
        (r) => new URL(r.url()).pathname === '/api/v1/jobs' && r.request().method() === 'POST',
      );
      await byId('run-demo-job').click();
      const resp = await created;
      assert.ok(resp.ok(), `POST /api/v1/jobs answered ${resp.status()}: ${await resp.text()}`);
      const job = await resp.json();
      assert.ok(job.id !== undefined, 'created job has an id');
      await byId(`job-row-${job.id}`).waitFor();
      return job.id;
    };

    await step('login page renders', async () => {
      await page.goto(`${base}/`);
      await byId('login-form').waitFor();
      assert.match(await page.title(), /Gantry/);
    });

    await step('wrong password shows the error', async () => {
      await byId('login-username').fill('admin');
      await byId('login-password').fill(`${password}-wrong`);
      await byId('login-submit').click();
      await byId('login-error').waitFor();
      const text = (await byId('login-error').textContent()).trim();
      assert.ok(text.length > 0, 'the login error has text');
      assert.equal(await byId('nav-user').count(), 0, 'not logged in');
      await shot('login-error');
    });

    await step('login', async () => {
      await byId('login-password').fill(password);
      await byId('login-submit').click();
      await byId('nav-user').waitFor();
      assert.match(await byId('nav-user').textContent(), /\badmin\b/);
      await page.waitForURL(/#\/jobs$/);
      for (const key of ['jobs', 'audit', 'cmdb', 'nodes', 'monitoring', 'tenants', 'billing'])
        await byId(`nav-${key}`).waitFor();
      await byId('jobs-table').waitFor();
    });

    let jobId;
    await step('run a demo job and watch it finish', async () => {
      jobId = await createJobViaButton(2);
      await shot('jobs-running');
      await waitText(`job-state-${jobId}`, 'succeeded', JOB_TIMEOUT_MS);
      await page.waitForFunction(
        (id) => document.querySelector(`[data-testid="job-progress-${id}"]`)?.getAttribute('aria-valuenow') === '100',
        jobId,
      );
      await shot('jobs');
    });

    await step('job details show the log', async () => {
      await byId(`job-row-${jobId}`).click();
      await byId('job-detail').waitFor();
      await page.waitForURL(new RegExp(`#/jobs/${jobId}$`));
      await waitText('job-detail-state', 'succeeded');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="job-log-line"]').length > 0);
      assert.equal(await byId('job-cancel').count(), 0, 'no Cancel button on a finished job');
      await shot('job-detail');
      await byId('job-back').click();
      await byId('jobs-table').waitFor();
    });

    await step('cancel a running job', async () => {
      const id = await createJobViaButton(60);
      await byId(`job-row-${id}`).click();
      await byId('job-cancel').click();
      await waitText('job-detail-state', 'cancelled', JOB_TIMEOUT_MS);
      await byId('job-back').click();
      await waitText(`job-state-${id}`, 'cancelled');
    });

    await step('audit: filter by action', async () => {
      await byId('nav-audit').click();
      await byId('audit-table').waitFor();
      await byId('audit-filter-action').fill('auth.login');
      // since/until around now, entered as local time, exercise the RFC 3339 conversion.
      const [since, until] = await page.evaluate(() => {
        const p = (n) => String(n).padStart(2, '0');
        const local = (d) =>
          `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
        return [local(new Date(Date.now() - 3600e3)), local(new Date(Date.now() + 3600e3))];
      });
      await byId('audit-filter-since').fill(since);
      await byId('audit-filter-until').fill(until);
      const answered = page.waitForResponse((r) => {
        const u = new URL(r.url());
        return u.pathname === '/api/v1/audit/events' && u.searchParams.get('action') === 'auth.login';
      });
      await byId('audit-search').click();
      const resp = await answered;
      assert.ok(resp.ok(), `audit search answered ${resp.status()}`);
      const q = new URL(resp.url()).searchParams;
      assert.match(q.get('since'), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, 'since is RFC 3339 UTC');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid^="audit-row-"]').length > 0);
      const rows = await page.$$eval('[data-testid^="audit-row-"]', (trs) =>
        trs.map((tr) => ({ id: tr.dataset.testid, action: tr.dataset.action, result: tr.dataset.result })),
      );
      assert.ok(rows.every((r) => r.action === 'auth.login'), `only auth.login rows: ${JSON.stringify(rows)}`);
      const ok = rows.find((r) => r.result === 'success');
      assert.ok(ok, `a successful login is listed: ${JSON.stringify(rows)}`);
      await byId(ok.id).click();
      await byId(ok.id.replace('audit-row-', 'audit-details-')).waitFor();
    });

    await step('audit: verify chain', async () => {
      await byId('audit-verify').click();
      await byId('audit-verify-result').waitFor();
      assert.equal(await byId('audit-verify-result').getAttribute('data-ok'), 'true', await byId('audit-verify-result').textContent());
      await shot('audit');
    });

    await step('placeholder pages', async () => {
      await byId('nav-cmdb').click();
      await byId('coming-soon').waitFor();
      assert.match(await byId('coming-soon').textContent(), /coming soon/i);
      await shot('cmdb-placeholder');
    });

    await step('deep link: SPA fallback and session restore', async () => {
      const r = await page.goto(`${base}/some/deep/link#/audit`);
      assert.equal(r.status(), 200, 'unknown non-API path serves index.html');
      await byId('audit-table').waitFor();
      assert.match(await byId('nav-user').textContent(), /\badmin\b/);
    });

    await step('logout', async () => {
      await byId('logout').click();
      await byId('login-form').waitFor();
      const status = await page.evaluate(async () => (await fetch('/api/v1/whoami')).status);
      assert.equal(status, 401, 'whoami after logout');
    });

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
});
