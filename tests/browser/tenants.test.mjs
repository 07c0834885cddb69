// End-to-end test of the tenant pages in headless Chromium against the real server (the mock
// server has no tenancy routes, so this test needs GANTRY_BIN):
//
//   GANTRY_BIN=/path/to/gantry node --test tests/browser/tenants.test.mjs
//
// Seeds through the API: tenants acme and beta in cohort "pool" (gpu/h100 8 guaranteed each,
// acme may burst to 12), acme's memory 512 GiB, project vision (gpu/h100 4), member alice
// (tenant-admin), and a reservation of 10 GPUs for acme — 2 of them borrowed from beta. Then in
// the browser: the tenant list and the engines' sync panel; acme's page shows quota, burst,
// reserved, borrowed, the project line, the member and the usage chart ending at 10 of 12;
// beta's shows 2 lent; the quota editor refuses a bad amount, asks for the explicit
// below-usage flag before lowering acme to 6 GPUs, and once saved the line is marked and a new
// reservation is refused (429). Screenshots: OUT_DIR/tenants-NN-<step>.png.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MOCK, loginThroughForm, skipReason, withPortal } from './harness.mjs';

const TEST_TIMEOUT_MS = 90_000;

async function seed(api) {
  await api('POST', '/tenants', { slug: 'acme', name: 'Acme Research', cohort: 'pool' });
  await api('POST', '/tenants', { slug: 'beta', name: 'Beta Labs', cohort: 'pool' });
  await api('PUT', '/tenants/acme/quotas', { resource: 'gpu/h100', guaranteed: 8, burst: 12 });
  await api('PUT', '/tenants/beta/quotas', { resource: 'gpu/h100', guaranteed: 8 });
  await api('PUT', '/tenants/acme/quotas', { resource: 'memory', guaranteed: 512 * 2 ** 30 });
  await api('POST', '/tenants/acme/projects', { slug: 'vision', name: 'Vision' });
  await api('PUT', '/tenants/acme/quotas', { resource: 'gpu/h100', guaranteed: 4, project: 'vision' });
  await api('POST', '/users', { username: 'alice', roles: ['tenant-member'] });
  await api('POST', '/tenants/acme/members', { user: 'alice', role: 'tenant-admin' });
  await api('POST', '/tenants/acme/reservations', { resources: { 'gpu/h100': 10 }, ref: 'slurm:1' });
}

test('web portal: tenants, quotas and usage', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (skipReason() || MOCK) {
    t.skip(skipReason() ?? 'the mock server has no tenancy routes');
    return;
  }
  await withPortal(t, { prefix: 'tenants-' }, async (env) => {
    const { base, page, byId, shot, step, api } = env;
    const cell = (row, col) => page.locator(`[data-testid="${row}"] [data-testid="${col}"]`).textContent();

    await step('seed tenants, quotas, a member and a reservation through the API', () => seed(api));

    await step('log in and open the tenant list', async () => {
      await page.goto(`${base}/`);
      await byId('login-form').waitFor();
      await loginThroughForm(env);
      await byId('nav-tenants').click();
      await byId('tenant-row-acme').waitFor();
      await byId('tenant-row-beta').waitFor();
      assert.equal(await page.locator('[data-testid="coming-soon"]').count(), 0, 'no placeholder any more');
      // Neither engine is configured in this server: the panel says so.
      await byId('sync-kubernetes').waitFor();
      assert.equal(await byId('sync-slurm').getAttribute('data-state'), 'never');
      assert.match(await byId('sync-kubernetes').textContent(), /kubernetes\s*no/);
      await shot('list');
    });

    await step("acme's page: quotas, borrowing, projects, members, usage chart", async () => {
      await byId('tenant-row-acme').click();
      await page.waitForURL(/#\/tenants\/acme$/);
      await byId('quota-tenant-gpu/h100').waitFor();
      assert.equal(await cell('quota-tenant-gpu/h100', 'q-guaranteed'), '8');
      assert.equal(await cell('quota-tenant-gpu/h100', 'q-burst'), '12');
      assert.equal(await cell('quota-tenant-gpu/h100', 'q-reserved'), '10');
      assert.equal(await cell('quota-tenant-gpu/h100', 'q-borrowed'), '2');
      assert.equal(await cell('quota-tenant-memory', 'q-guaranteed'), '512 GiB');
      assert.equal(await cell('quota-vision-gpu/h100', 'q-guaranteed'), '4');
      await byId('member-row-alice').waitFor();
      assert.match(await byId('member-row-alice').textContent(), /tenant-admin/);
      await byId('project-row-vision').waitFor();
      await byId('usage-chart').waitFor();
      assert.equal(await byId('usage-chart').getAttribute('data-resource'), 'gpu/h100');
      assert.equal(await byId('usage-chart').getAttribute('data-last-reserved'), '10');
      assert.equal(await byId('usage-chart').getAttribute('data-last-ceiling'), '12');
      await shot('acme');
    });

    await step("beta's page: what it lends", async () => {
      await page.goto(`${base}/#/tenants/beta`);
      await byId('quota-tenant-gpu/h100').waitFor();
      await page.waitForFunction(() => document.querySelector('[data-testid="quota-tenant-gpu/h100"] [data-testid="q-lent"]')?.textContent === '2');
      assert.equal(await cell('quota-tenant-gpu/h100', 'q-reserved'), '0');
    });

    await step('quota editor: a bad amount, then a quota below usage needs the explicit flag', async () => {
      await page.goto(`${base}/#/tenants/acme`);
      await byId('quota-editor').waitFor();
      await byId('qe-resource').fill('gpu/h100');
      await byId('qe-guaranteed').fill('4GiB');
      await byId('qe-parse-error').waitFor();
      assert.match(await byId('qe-parse-error').textContent(), /count/);
      assert.equal(await byId('qe-save').isDisabled(), true);

      await byId('qe-guaranteed').fill('6');
      await byId('qe-below').waitFor();
      assert.equal(await byId('qe-save').isDisabled(), true, 'saving needs the below-usage flag');
      await shot('below-usage');
      await byId('qe-force').check();
      await byId('qe-save').click();
      await byId('qe-saved').waitFor();
      await page.waitForFunction(() => document.querySelector('[data-testid="quota-tenant-gpu/h100"] [data-testid="q-guaranteed"]')?.textContent === '6');
      assert.equal(await cell('quota-tenant-gpu/h100', 'q-burst'), '—');
      assert.equal(await byId('quota-tenant-gpu/h100').getAttribute('class'), 'row-warn');
      await shot('saved');

      // The forced quota blocks new admissions; the running reservation stays.
      await assert.rejects(
        api('POST', '/tenants/acme/reservations', { resources: { 'gpu/h100': 1 }, ref: 'slurm:2' }),
        (e) => e.status === 429,
      );
      const q = await api('GET', '/tenants/acme/quotas');
      const line = q.items.find((l) => !l.project && l.resource === 'gpu/h100');
      assert.equal(line.reserved, 10);
    });

    await step('a project quota larger than the tenant ceiling: the server refuses it', async () => {
      await byId('qe-project').selectOption('vision');
      await byId('qe-guaranteed').fill('20');
      await byId('qe-save').click();
      await byId('qe-error').waitFor();
      assert.match(await byId('qe-error').textContent(), /vision|tenant/);
    });
  });
});
