// End-to-end test of the CMDB browser in headless Chromium, same contract as portal.test.mjs:
//
//   GANTRY_BIN=/path/to/gantry node --test tests/browser/cmdb.test.mjs   # the real server
//   GANTRY_MOCK=1               node --test tests/browser/cmdb.test.mjs   # the mock server
//
// Seeds a small estate through the API with the admin's bearer token (site › room › row ›
// rack A01 holding switch leaf-01 with two ports and two servers, each with a NIC cabled to
// a leaf port; a GPU in server 1; a service deployed on server 1; one change request), then
// in the browser: search, a CI page with relationships and history, impact with paths, the
// neighbourhood graph (drag, click → navigate), the context box, change request review.
// Screenshots: OUT_DIR/cmdb-NN-<step>.png.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loginThroughForm, skipReason, withPortal } from './harness.mjs';

const TEST_TIMEOUT_MS = 90_000;

/** Creates the estate; returns the CIs by name and the change request. */
async function seed(api) {
  const ci = {};
  const make = async (type, name, attributes = {}, extra = {}) => {
    ci[name] = await api('POST', '/cmdb/cis', { type, name, attributes, ...extra });
    return ci[name];
  };
  const relate = (type, from, to, attributes) =>
    api('POST', '/cmdb/relations', { type, from: `${ci[from].type}/${from}`, to: `${ci[to].type}/${to}`, attributes });

  await make('site', 'dc1', { city: 'Frankfurt' });
  await make('room', 'dc1-hall-1', { floor: 1 });
  await make('row', 'dc1-r01', { aisle: 'cold-A' });
  await make('rack', 'A01', { height_u: 42 });
  await relate('located_in', 'dc1-hall-1', 'dc1');
  await relate('located_in', 'dc1-r01', 'dc1-hall-1');
  await relate('located_in', 'A01', 'dc1-r01');

  await make('switch', 'leaf-01', { role: 'leaf', model: 'SN3700', mgmt_ip: '10.255.1.1' });
  await relate('located_in', 'leaf-01', 'A01', { position_u: 42 });
  for (const p of ['p1', 'p2']) {
    await make('switch_port', `leaf-01-${p}`, { port_name: p, speed_gbps: 200 });
    await relate('contains', 'leaf-01', `leaf-01-${p}`);
  }
  for (const [i, u] of [[1, 10], [2, 14]]) {
    const srv = `srv-0${i}`;
    await make('server', srv, { role: 'gpu-node', model: 'SYS-821GE', mgmt_ip: `10.0.0.${10 + i}`, serial: `SN-${i}` });
    await relate('located_in', srv, 'A01', { position_u: u });
    await make('nic', `${srv}-eth0`, { kind: 'ethernet', speed_gbps: 200, mac: `02:00:00:00:00:0${i}` });
    await relate('contains', srv, `${srv}-eth0`);
    await relate('connected_to', `${srv}-eth0`, `leaf-01-p${i}`);
  }
  await make('gpu', 'srv-01-gpu0', { model: 'H100 SXM', index: 0 });
  await relate('contains', 'srv-01', 'srv-01-gpu0');
  await make('service', 'train-api', { criticality: 'high', owner: 'ml-platform' }, { tenant: 'acme' });
  await relate('deployed_on', 'train-api', 'srv-01');

  // A later edit, for the history, and a pending change request by the admin.
  ci['leaf-01'] = await api('PATCH', '/cmdb/cis/switch%2Fleaf-01', { attributes: { os_version: 'cumulus-5.9' } });
  const change = await api('POST', '/cmdb/changes', {
    title: 'Drain srv-02 for a BIOS update',
    description: 'bios 2.1 → 2.4',
    edits: [{ op: 'update_ci', ci: 'server/srv-02', status: 'maintenance' }],
  });
  return { ci, change };
}

test('web portal: CMDB browser', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (skipReason()) {
    t.skip(skipReason());
    return;
  }
  await withPortal(t, { prefix: 'cmdb-' }, async (env) => {
    const { base, page, byId, shot, step, api } = env;
    const attr = (testid, name) => byId(testid).getAttribute(name);
    const count = (prefix) => page.locator(`[data-testid^="${prefix}"]`).count();

    let ci;
    let change;
    await step('seed the estate through the API', async () => {
      try {
        ({ ci, change } = await seed(api));
      } catch (e) {
        if (e.status === 404) e.message += '\n(the server has no CMDB routes yet: try GANTRY_MOCK=1)';
        throw e;
      }
    });
    const id = (name) => ci[name].id;

    await step('log in', async () => {
      await page.goto(`${base}/`);
      await byId('login-form').waitFor();
      await loginThroughForm(env);
    });

    await step('search "leaf"', async () => {
      await byId('nav-cmdb').click();
      await byId('cmdb-results').waitFor();
      assert.equal(await count('coming-soon'), 0, 'no placeholder any more');
      await byId('cmdb-search').fill('leaf');
      await byId('cmdb-search').press('Enter');
      await page.waitForURL(/#\/cmdb\?q=leaf$/);
      await byId(`cmdb-row-${id('leaf-01')}`).waitFor();
      await page.waitForFunction(() => document.querySelectorAll('[data-testid^="cmdb-row-"]').length === 3);
      const names = await page.$$eval('[data-testid^="cmdb-row-"]', (trs) => trs.map((tr) => tr.dataset.name));
      assert.deepEqual(names.sort(), ['leaf-01', 'leaf-01-p1', 'leaf-01-p2'], 'name matches only');
      // The type filter narrows it to the switch.
      await byId('cmdb-filter-type').selectOption('switch');
      await byId('cmdb-search-submit').click();
      await page.waitForURL(/#\/cmdb\?q=leaf&type=switch$/);
      await page.waitForFunction(() => document.querySelectorAll('[data-testid^="cmdb-row-"]').length === 1);
      await shot('search');
    });

    await step("leaf-01's page: header, attributes, relationships, history", async () => {
      await byId(`cmdb-row-${id('leaf-01')}`).click();
      await page.waitForURL(new RegExp(`#/cmdb/ci/${id('leaf-01')}$`));
      await byId('ci-header').waitFor();
      assert.equal(await attr('ci-header', 'data-name'), 'leaf-01');
      assert.equal((await byId('ci-version').textContent()).trim(), '2');
      assert.match(await byId('ci-attributes').textContent(), /os_version\s*cumulus-5\.9/);
      // Outgoing: located_in A01, contains p1, p2 — with the other CIs' names fetched.
      for (const other of ['leaf-01-p1', 'leaf-01-p2', 'A01']) {
        const row = page.locator(`[data-testid^="ci-rel-"][data-other="${id(other)}"]`);
        await row.waitFor();
        await page.waitForFunction((o) => [...document.querySelectorAll(`[data-testid^="ci-rel-"][data-other="${o.id}"]`)].some((tr) => tr.textContent.includes(o.name)), { id: id(other), name: other });
      }
      assert.equal(await count('ci-rel-'), 3);
      // History: the create, three relationships and the attribute change, newest first.
      await page.waitForFunction(() => document.querySelectorAll('[data-testid^="ci-history-"]').length >= 5);
      const ops = await page.$$eval('[data-testid^="ci-history-"]', (lis) => lis.map((li) => li.dataset.op));
      assert.equal(ops[0], 'ci.update', `newest first: ${ops}`);
      assert.equal(ops.at(-1), 'ci.create', `oldest last: ${ops}`);
      assert.equal(ops.filter((o) => o === 'relation.create').length, 3, `${ops}`);
      assert.match(await byId('ci-history').textContent(), /attributes\.os_version/);
      await page.waitForFunction(() => document.querySelector('[data-testid="ci-history"]').textContent.includes('leaf-01-p2'));
      await shot('ci-leaf-01');
    });

    await step('impact of leaf-01: both servers and the service, with paths', async () => {
      await byId('ci-impact-run').click();
      await byId('ci-impact-result').waitFor();
      for (const name of ['srv-01', 'srv-02', 'train-api', 'srv-01-gpu0']) {
        const item = byId(`impact-item-${id(name)}`);
        await item.waitFor();
        const crumbs = await item.getByTestId('impact-path').textContent();
        assert.match(crumbs, /^leaf-01/, `${name}'s path starts at leaf-01: ${crumbs}`);
        assert.ok(crumbs.trim().endsWith(name), `${name}'s path ends at it: ${crumbs}`);
      }
      const svcPath = await byId(`impact-item-${id('train-api')}`).getByTestId('impact-path').textContent();
      for (const hop of ['contains', 'connected_to', 'deployed_on', 'srv-01-eth0', 'srv-01']) assert.ok(svcPath.includes(hop), svcPath);
      await byId('impact-group-server').waitFor();
      assert.match(await byId('ci-impact-services').textContent(), /train-api/);
      assert.match(await byId('ci-impact-tenants').textContent(), /acme/);
      await shot('impact');
    });

    await step('neighbourhood graph: nodes, hover, drag', async () => {
      await page.waitForFunction(() => Number(document.querySelector('[data-testid="ci-graph"]')?.dataset.nodes) >= 3);
      assert.ok((await count('graph-node-')) >= 3, 'at least 3 nodes drawn');
      for (const name of ['leaf-01', 'leaf-01-p1', 'leaf-01-p2', 'A01']) await byId(`graph-node-${id(name)}`).waitFor();
      // Depth 1 → just leaf-01 and its 3 neighbours.
      await byId('ci-graph-depth').selectOption('1');
      await page.waitForFunction(() => document.querySelector('[data-testid="ci-graph"]')?.dataset.nodes === '4');
      // Hovering a node shows the relation types of its edges.
      await byId(`graph-node-${id('leaf-01-p1')}`).hover();
      await page.locator('[data-testid="ci-graph"] .edge-label').first().waitFor();
      assert.equal(await page.locator('[data-testid="ci-graph"] .edge-label').first().textContent(), 'contains');
      // Dragging moves a node and does not navigate.
      const node = byId(`graph-node-${id('A01')}`);
      const before = await node.getAttribute('transform');
      await node.scrollIntoViewIfNeeded();
      const box = await node.locator('circle').boundingBox();
      const [cx, cy] = [box.x + box.width / 2, box.y + box.height / 2];
      await page.mouse.move(cx, cy);
      await page.mouse.down();
      await page.mouse.move(cx + 60, cy + 40, { steps: 6 });
      await page.mouse.up();
      await page.waitForFunction(
        ([sel, old]) => document.querySelector(sel)?.getAttribute('transform') !== old,
        [`[data-testid="graph-node-${id('A01')}"]`, before],
      );
      assert.match(page.url(), new RegExp(`#/cmdb/ci/${id('leaf-01')}$`), 'a drag is not a click');
      await shot('graph');
    });

    await step('click a graph node → that CI', async () => {
      await byId(`graph-node-${id('leaf-01-p1')}`).click();
      await page.waitForURL(new RegExp(`#/cmdb/ci/${id('leaf-01-p1')}$`));
      await page.waitForFunction(() => document.querySelector('[data-testid="ci-header"]')?.dataset.name === 'leaf-01-p1');
      // Its graph is centred on it.
      await byId(`graph-node-${id('srv-01-eth0')}`).waitFor();
    });

    await step("srv-01's context: location, tenant, services", async () => {
      await page.goto(`${base}/#/cmdb/ci/server%2Fsrv-01`);
      await page.waitForFunction(() => document.querySelector('[data-testid="ci-header"]')?.dataset.name === 'srv-01');
      await byId('ci-location').waitFor();
      const loc = (await byId('ci-location').textContent()).replace(/\s+/g, ' ').trim();
      assert.match(loc, /^dc1 › dc1-hall-1 › dc1-r01 › A01 U10$/, loc);
      assert.match(await byId('ci-context-services').textContent(), /train-api/);
      // Shortest path to the other server: through the rack.
      await byId('ci-path-to').fill('server/srv-02');
      await byId('ci-path-run').click();
      await byId('ci-path-result').waitFor();
      assert.equal(await attr('ci-path-result', 'data-found'), 'true');
      const hops = (await byId('ci-path-result').getByTestId('impact-path').textContent()).replace(/\s+/g, ' ');
      assert.match(hops, /^srv-01\s*located_in →\s*A01\s*← located_in\s*srv-02$/, hops);
      await shot('ci-srv-01');
    });

    await step("a GPU's context: its server's location", async () => {
      await page.goto(`${base}/#/cmdb/ci/${id('srv-01-gpu0')}`);
      await page.waitForFunction(() => document.querySelector('[data-testid="ci-header"]')?.dataset.name === 'srv-01-gpu0');
      await byId('ci-container').waitFor();
      assert.match(await byId('ci-container').textContent(), /srv-01/);
      assert.match((await byId('ci-location').textContent()).replace(/\s+/g, ' '), /A01 U10$/);
    });

    await step('change requests: the author cannot approve, can reject', async () => {
      await page.goto(`${base}/#/cmdb/changes`);
      await byId(`change-row-${change.id}`).waitFor();
      assert.equal(await attr(`change-row-${change.id}`, 'data-state'), 'pending');
      const impact = await byId(`change-row-${change.id}`).textContent();
      assert.match(impact, /affected/, impact);
      await shot('changes');
      await byId(`change-row-${change.id}`).click();
      await byId('change-detail').waitFor();
      assert.match(await byId('change-edits').textContent(), /server\/srv-02/);
      await byId('change-comment').fill('looks fine');
      await byId('change-approve').click();
      await byId('change-error').waitFor();
      assert.match(await byId('change-error').textContent(), /other than its author/);
      assert.equal((await byId('change-state').textContent()).trim(), 'pending');
      await shot('change-approve-denied');
      await byId('change-reject').click();
      await page.waitForFunction(() => document.querySelector('[data-testid="change-state"]')?.textContent.trim() === 'rejected');
      assert.match(await byId('change-reviewer').textContent(), /admin/);
      assert.equal(await byId('change-approve').count(), 0, 'no review buttons once decided');
      await shot('change-rejected');
    });
  });
});
