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
import { MOCK, skipReason, withPortal } from './harness.mjs';

const TEST_TIMEOUT_MS = 90_000;
const JOB_TIMEOUT_MS = 30_000;

test('web portal: login, jobs, audit', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (skipReason()) {
    t.skip(skipReason());
    return;
  }
  await withPortal(t, {}, async ({ base, password, page, byId, shot, step, waitText }) => {
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

    await step('monitoring: incidents page', async () => {
      await byId('nav-monitoring').click();
      await byId('incidents-table').waitFor();
      await byId('incident-state-filter').selectOption('open');
      // No Prometheus configured: the chart says so, the page works (the mock server has no
      // monitoring routes).
      if (!MOCK) {
        await byId('gpu-util-unavailable').waitFor();
        assert.match(await byId('gpu-util-unavailable').textContent(), /no Prometheus configured/);
      }
      await shot('monitoring');
    });

    await step('billing page', async () => {
      await byId('nav-billing').click();
      await byId('billing-page').waitFor();
      if (!MOCK) {
        // A tenant with metered usage: the draft invoice's lines and the cost chart show it.
        const csrf = await page.evaluate(async () => (await (await fetch('/api/v1/whoami')).json()).csrf_token);
        const post = (path, body) =>
          page.evaluate(
            async ([p, b, t]) =>
              (await fetch(p, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': t }, body: JSON.stringify(b) })).status,
            [path, body, csrf],
          );
        assert.equal(await post('/api/v1/tenants', { slug: 'acme' }), 201);
        const now = new Date();
        const start = new Date(now.getTime() - 2 * 3600_000).toISOString();
        const end = new Date(now.getTime() - 3600_000).toISOString();
        assert.equal(await post('/api/v1/metering/prices', { sku: 'gpu-h100-hour', unit_price_micros: 2_500_000, effective_from: '2020-01-01T00:00:00Z' }), 201);
        assert.equal(
          await post('/api/v1/metering/records', { records: [{ key: 'ui-1', tenant: 'acme', sku: 'gpu-h100-hour', quantity: 7_200_000, start, end }] }),
          200,
        );
        await byId('nav-jobs').click();
        await byId('nav-billing').click();
        await byId('billing-total').waitFor();
        assert.match(await byId('billing-total').textContent(), /5\.000000 USD/);
        assert.match(await byId('billing-lines').textContent(), /gpu-h100-hour/);
        assert.match(await byId('cost-by-sku').textContent(), /gpu-h100-hour/);
      }
      await shot('billing');
    });

    await step('placeholder pages', async () => {
      await byId('nav-nodes').click();
      await byId('coming-soon').waitFor();
      assert.match(await byId('coming-soon').textContent(), /coming soon/i);
      await shot('nodes-placeholder');
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
  });
});
