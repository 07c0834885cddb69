// The CMDB part of the mock server (mock-server.mjs): CI types, CIs, relationships with
// their rules, history, the graph questions (impact, root cause, neighbourhood, path,
// context) and change requests, in memory, with the JSON shapes of src/cmdb/http_api.cc.
// Not a second implementation to trust: just enough for developing and testing the portal.

// ------------------------------------------------------------------ schema (src/cmdb/builtin.cc)

const ENUMS = {
  'server.role': ['gpu-node', 'cpu-node', 'storage', 'login', 'service', 'mgmt'],
  'server.lifecycle': ['discovered', 'commissioning', 'ready', 'deploying', 'deployed', 'releasing', 'maintenance', 'rescue', 'broken'],
  'bmc.protocol': ['redfish', 'ipmi'],
  'nic.kind': ['ethernet', 'infiniband', 'roce'],
  'switch.role': ['leaf', 'spine', 'core', 'mgmt', 'border'],
  'cable.medium': ['copper', 'fiber', 'dac', 'aoc'],
  'storage_volume.kind': ['block', 'file', 'object'],
  'os_image.format': ['installer', 'rootfs', 'disk'],
  'service.criticality': ['low', 'medium', 'high', 'critical'],
  'instance.kind': ['baremetal', 'vm', 'container'],
};

// name: [description, "attr:kind attr:kind …"] (kind defaults to string)
const TYPES = {
  site: ['A data centre campus', 'address city country timezone'],
  room: ['A data hall', 'floor:int power_kw:int'],
  row: ['A row of racks', 'aisle'],
  rack: ['A rack', 'height_u:int power_kw:int asset_tag'],
  pdu: ['A power distribution unit', 'model outlets:int capacity_w:int mgmt_ip:ipv4'],
  pdu_outlet: ['One outlet of a PDU', 'number:int'],
  server: [
    'A physical server',
    'serial vendor model role:enum cpu_cores:int memory_gib:int gpu_model gpu_count:int mgmt_ip:ipv4 primary_ip:ipv4 bios_version lifecycle:enum',
  ],
  bmc: ['A baseboard management controller', 'address:ipv4 protocol:enum firmware_version mac:mac'],
  gpu: ['A GPU (or accelerator)', 'model uuid serial memory_mib:int index:int pci_bus_id vbios_version mig_enabled:bool'],
  nic: ['A network interface (port)', 'mac:mac ipv4:ipv4 ipv6:ipv6 speed_gbps:int model firmware_version kind:enum'],
  switch: ['A network switch', 'model serial role:enum mgmt_ip:ipv4 os_version'],
  switch_port: ['A port of a switch', 'port_name speed_gbps:int vlan:int'],
  cable: ['A cable between two ports', 'label medium:enum length_cm:int'],
  storage_volume: ['A storage volume', 'size_gib:int pool kind:enum'],
  os_image: ['An operating system image', 'distribution version kernel checksum_sha256 format:enum'],
  slurm_partition: ['A Slurm partition', 'cluster max_time_min:int'],
  k8s_cluster: ['A Kubernetes cluster', 'api_url version'],
  service: ['A service or application', 'criticality:enum owner url'],
  instance: ['A tenant-owned instance (VM, container set or leased server)', 'kind:enum flavor server:reference'],
  tenant: ['A tenant (department, team or customer) as a CI, for impact answers', 'slug contact'],
};

const CI_TYPES = Object.entries(TYPES).map(([name, [description, attrs]]) => ({
  name,
  description,
  builtin: true,
  attributes: attrs.split(' ').map((a) => {
    const [n, kind = 'string'] = a.split(':');
    const def = { name: n, type: kind, required: false };
    if (kind === 'enum') def.values = ENUMS[`${name}.${n}`];
    if (kind === 'reference') def.ref_type = 'server';
    return def;
  }),
}));

const PLACED = ['server', 'switch', 'pdu', 'storage_volume', 'rack', 'row', 'room'];
const imp = (forward, reverse, forward_from_types = [], reverse_to_types = []) => ({ forward, reverse, forward_from_types, reverse_to_types });
const REL_TYPES = [
  ['located_in', PLACED, ['rack', 'row', 'room', 'site'], 1, 0, true, imp(false, true)],
  ['contains', ['server', 'switch', 'pdu'], ['gpu', 'nic', 'bmc', 'switch_port', 'pdu_outlet', 'storage_volume'], 0, 1, true, imp(true, true, [], ['nic', 'gpu', 'switch_port'])],
  ['connected_to', ['nic', 'switch_port', 'cable'], ['switch_port', 'nic', 'cable'], 1, 1, false, imp(false, true)],
  ['powered_by', ['server', 'switch', 'pdu', 'storage_volume'], ['pdu_outlet'], 4, 1, false, imp(false, true)],
  ['runs', ['server'], ['os_image'], 1, 0, false, imp(false, false)],
  ['deployed_on', ['service', 'instance'], ['server', 'k8s_cluster', 'slurm_partition'], 0, 0, false, imp(false, true)],
  ['depends_on', ['service'], ['service'], 0, 0, true, imp(false, true)],
  ['member_of', ['server'], ['slurm_partition', 'k8s_cluster'], 0, 0, false, imp(true, false)],
  ['owned_by', ['instance', 'server', 'service', 'storage_volume'], ['tenant'], 1, 0, false, imp(true, false)],
].map(([name, from_types, to_types, max_out, max_in, acyclic, impact]) => ({
  name,
  description: '',
  builtin: true,
  from_types,
  to_types,
  max_out,
  max_in,
  acyclic,
  impact,
  attributes: name === 'located_in' ? [{ name: 'position_u', type: 'int', required: false }, { name: 'height_u', type: 'int', required: false }] : [],
}));
const REL_BY_NAME = new Map(REL_TYPES.map((t) => [t.name, t]));

const STATUSES = ['active', 'maintenance', 'retired'];
const CHANGE_STATES = ['pending', 'applied', 'rejected', 'failed'];
const EDIT_FIELDS = {
  create_ci: ['op', 'type', 'name', 'attributes', 'tenant', 'status'],
  update_ci: ['op', 'ci', 'name', 'attributes', 'tenant', 'status'],
  delete_ci: ['op', 'ci', 'cascade'],
  relate: ['op', 'type', 'from', 'to', 'attributes'],
  unrelate: ['op', 'id'],
};

// ------------------------------------------------------------------ the store

/**
 * `Problem(status, title, detail, extra)` is the mock server's error class; `record(ctx,
 * action, targetType, target, result, details)` appends to its audit log.
 */
export function createCmdb({ Problem, record }) {
  const bad = (detail, field) => new Problem(400, 'Bad Request', detail, field ? { field } : {});
  const notFound = (detail) => new Problem(404, 'Not Found', detail);
  const conflict = (detail) => new Problem(409, 'Conflict', detail);
  const now = () => new Date().toISOString();

  let state = { cis: new Map(), rels: new Map(), history: [], nextCi: 1, nextRel: 1, nextHist: 1 };
  const changes = new Map();
  let nextChange = 1;

  const label = (ci) => `${ci.type}/${ci.name}`;
  const clone = (v) => JSON.parse(JSON.stringify(v));
  const relsOf = (id) => [...state.rels.values()].filter((r) => r.from_id === id || r.to_id === id);

  function resolve(ref) {
    ref = String(ref ?? '');
    if (!ref) throw bad('empty CI reference');
    if (/^\d+$/.test(ref)) {
      const ci = state.cis.get(Number(ref));
      if (!ci) throw notFound(`no CI with id ${ref}`);
      return ci;
    }
    const slash = ref.indexOf('/');
    const type = slash >= 0 ? ref.slice(0, slash) : null;
    const name = slash >= 0 ? ref.slice(slash + 1) : ref;
    const found = [...state.cis.values()].filter((c) => c.name === name && (type === null || c.type === type));
    if (found.length === 0) throw notFound(`no CI '${ref}'`);
    if (found.length > 1) throw bad(`'${ref}' is ambiguous; say which: ${found.map(label).join(', ')}`);
    return found[0];
  }

  function typeOf(name) {
    const t = CI_TYPES.find((x) => x.name === name);
    if (!t) throw bad(`unknown CI type '${name}'; valid types: ${CI_TYPES.map((x) => x.name).join(', ')}`, 'type');
    return t;
  }

  function validateAttrs(type, attrs) {
    if (attrs === undefined || attrs === null) return {};
    if (typeof attrs !== 'object' || Array.isArray(attrs)) throw bad("'attributes' must be an object", 'attributes');
    for (const [k, v] of Object.entries(attrs)) {
      const def = type.attributes.find((a) => a.name === k);
      if (!def)
        throw bad(`unknown attribute '${k}' for type ${type.name}; valid attributes: ${type.attributes.map((a) => a.name).join(', ')}`, `attributes.${k}`);
      if (v === null) continue;
      const ok =
        def.type === 'int' ? Number.isInteger(v) :
        def.type === 'bool' ? typeof v === 'boolean' :
        def.type === 'enum' ? def.values.includes(v) :
        def.type === 'ipv4' ? typeof v === 'string' && /^(\d{1,3}\.){3}\d{1,3}$/.test(v) :
        def.type === 'mac' ? typeof v === 'string' && /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(v) :
        typeof v === 'string';
      if (!ok)
        throw bad(`attribute '${k}' must be ${def.type === 'enum' ? `one of ${def.values.join(', ')}` : `a ${def.type}`}`, `attributes.${k}`);
    }
    return { ...attrs };
  }

  function checkStatus(s) {
    if (!STATUSES.includes(s)) throw bad('status must be active, maintenance or retired', 'status');
  }

  function hist(actor, op, ciId, { relId = null, version = null, cr = null, before = null, after = null } = {}) {
    state.history.push({
      id: state.nextHist++, time: now(), actor: actor || 'system', op, ci_id: ciId, relation_id: relId,
      version, change_request_id: cr, before: before && clone(before), after: after && clone(after),
    });
  }

  // ---- writes (each also used by change requests)

  function createCi(actor, body, cr = null) {
    if (!body || typeof body !== 'object') throw bad('body must be a JSON object');
    const type = typeOf(body.type);
    const name = body.name;
    // eslint-disable-next-line no-control-regex
    if (typeof name !== 'string' || !name || name.length > 200 || /[\x00-\x1f\x7f/]/.test(name) || name.trim() !== name)
      throw bad("CI name must be 1-200 printable characters without '/' or leading/trailing spaces", 'name');
    const status = body.status ?? 'active';
    checkStatus(status);
    const attributes = validateAttrs(type, body.attributes);
    if ([...state.cis.values()].some((c) => c.type === type.name && c.name === body.name))
      throw conflict(`a ${type.name} named '${body.name}' already exists`);
    const t = now();
    const ci = {
      id: state.nextCi++, type: type.name, name: body.name, attributes, tenant: body.tenant ?? null, status,
      version: 1, stale: false, last_seen_at: null, created_at: t, updated_at: t,
    };
    state.cis.set(ci.id, ci);
    hist(actor, 'ci.create', ci.id, { version: 1, cr, after: ci });
    return ci;
  }

  function updateCi(actor, ref, body, cr = null) {
    const ci = resolve(ref);
    if (body.version !== undefined && body.version !== ci.version)
      throw conflict(`${label(ci)} is at version ${ci.version}, not ${body.version}`);
    const before = clone(ci);
    if (body.name !== undefined) ci.name = body.name;
    if (body.status !== undefined) checkStatus(body.status), (ci.status = body.status);
    if ('tenant' in body) ci.tenant = body.tenant ?? null;
    if (body.attributes !== undefined) {
      const merged = { ...ci.attributes, ...validateAttrs(typeOf(ci.type), body.attributes) };
      for (const [k, v] of Object.entries(merged)) if (v === null) delete merged[k];
      ci.attributes = merged;
    }
    ci.version++;
    ci.updated_at = now();
    hist(actor, 'ci.update', ci.id, { version: ci.version, cr, before, after: ci });
    return ci;
  }

  function deleteCi(actor, ref, cascade, cr = null) {
    const ci = resolve(ref);
    const rels = relsOf(ci.id);
    if (rels.length && !cascade)
      throw conflict(
        `${label(ci)} has ${rels.length} relationship(s): ${rels
          .map((r) => `${label(state.cis.get(r.from_id))} ${r.type} ${label(state.cis.get(r.to_id))}`)
          .join('; ')}; delete them first or ask for cascade=true`,
      );
    for (const r of rels) unrelate(actor, r.id, cr);
    state.cis.delete(ci.id);
    hist(actor, 'ci.delete', ci.id, { version: ci.version + 1, cr, before: ci });
  }

  function reaches(fromId, toId, type) {
    const seen = new Set([fromId]);
    const stack = [fromId];
    while (stack.length) {
      const x = stack.pop();
      if (x === toId) return true;
      for (const r of state.rels.values())
        if (r.type === type && r.from_id === x && !seen.has(r.to_id)) seen.add(r.to_id), stack.push(r.to_id);
    }
    return false;
  }

  function relate(actor, body, cr = null) {
    if (!body || typeof body !== 'object') throw bad('body must be a JSON object');
    const rt = REL_BY_NAME.get(body.type);
    if (!rt) throw bad(`unknown relation type '${body.type}'; valid types: ${REL_TYPES.map((t) => t.name).join(', ')}`, 'type');
    const from = resolve(body.from);
    const to = resolve(body.to);
    if (!rt.from_types.includes(from.type) || !rt.to_types.includes(to.type))
      throw bad(`${rt.name} joins ${rt.from_types.join('|')} → ${rt.to_types.join('|')}, not ${from.type} → ${to.type}`, 'type');
    const same = [...state.rels.values()].filter((r) => r.type === rt.name);
    if (same.some((r) => r.from_id === from.id && r.to_id === to.id))
      throw conflict(`${label(from)} ${rt.name} ${label(to)} already exists`);
    if (rt.max_out && same.filter((r) => r.from_id === from.id).length >= rt.max_out)
      throw conflict(`cardinality: ${label(from)} may have at most ${rt.max_out} outgoing ${rt.name}`);
    if (rt.max_in && same.filter((r) => r.to_id === to.id).length >= rt.max_in)
      throw conflict(`cardinality: ${label(to)} may have at most ${rt.max_in} incoming ${rt.name}`);
    if (rt.acyclic && (from.id === to.id || reaches(to.id, from.id, rt.name)))
      throw conflict(`cycle: ${rt.name} may not form a cycle (${label(to)} already reaches ${label(from)})`);
    const r = {
      id: state.nextRel++, type: rt.name, from_id: from.id, to_id: to.id, attributes: { ...(body.attributes ?? {}) },
      source: 'manual', created_at: now(),
    };
    state.rels.set(r.id, r);
    const snap = { ...r, from: label(from), to: label(to) };
    hist(actor, 'relation.create', from.id, { relId: r.id, cr, after: snap });
    hist(actor, 'relation.create', to.id, { relId: r.id, cr, after: snap });
    return r;
  }

  function unrelate(actor, id, cr = null) {
    const r = state.rels.get(Number(id));
    if (!r) throw notFound(`no relationship ${id}`);
    state.rels.delete(r.id);
    const snap = { ...r, from: label(state.cis.get(r.from_id)), to: label(state.cis.get(r.to_id)) };
    hist(actor, 'relation.delete', r.from_id, { relId: r.id, cr, before: snap });
    hist(actor, 'relation.delete', r.to_id, { relId: r.id, cr, before: snap });
  }

  // ---- graph questions

  /** Neighbours that `x` failing affects (downstream) or that affect `x` (upstream). */
  function steps(x, upstream) {
    const out = [];
    for (const r of relsOf(x.id)) {
      const { impact } = REL_BY_NAME.get(r.type);
      const from = state.cis.get(r.from_id);
      const to = state.cis.get(r.to_id);
      const fwd = (f) => impact.forward && (!impact.forward_from_types.length || impact.forward_from_types.includes(f.type));
      const rev = (t) => impact.reverse && (!impact.reverse_to_types.length || impact.reverse_to_types.includes(t.type));
      if (!upstream) {
        if (r.from_id === x.id && fwd(x)) out.push({ next: to, r, direction: 'forward' });
        if (r.to_id === x.id && rev(x)) out.push({ next: from, r, direction: 'reverse' });
      } else {
        if (r.to_id === x.id && fwd(from)) out.push({ next: from, r, direction: 'reverse' });
        if (r.from_id === x.id && rev(to)) out.push({ next: to, r, direction: 'forward' });
      }
    }
    return out;
  }

  const hop = (a, relation, direction, b) => ({ from: label(a), relation, direction, to: label(b), from_id: a.id, to_id: b.id });
  const flip = (d) => (d === 'forward' ? 'reverse' : 'forward');

  /**
   * Impact (downstream) or root cause (upstream) of `start`. Paths read as failure
   * propagation, as the real server's do: impact from `start` to the item, root cause
   * from the item to `start`.
   */
  function traverse(start, upstream, depth, limit) {
    const seen = new Map([[start.id, []]]);
    let frontier = [start];
    const items = [];
    let truncated = false;
    for (let d = 1; d <= depth && frontier.length && !truncated; d++) {
      const next = [];
      for (const x of frontier) {
        for (const s of steps(x, upstream)) {
          if (seen.has(s.next.id)) continue;
          if (items.length >= limit) {
            truncated = true;
            break;
          }
          const path = upstream
            ? [hop(s.next, s.r.type, flip(s.direction), x), ...seen.get(x.id)]
            : [...seen.get(x.id), hop(x, s.r.type, s.direction, s.next)];
          seen.set(s.next.id, path);
          items.push({ ci: s.next, depth: d, path });
          next.push(s.next);
        }
      }
      frontier = next;
    }
    const by_type = {};
    const tenants = new Set();
    const services = new Set();
    for (const { ci } of items) {
      by_type[ci.type] = (by_type[ci.type] ?? 0) + 1;
      if (ci.tenant) tenants.add(ci.tenant);
      if (ci.type === 'tenant') tenants.add(ci.name);
      if (ci.type === 'service') services.add(ci.name);
    }
    const question = upstream ? 'root-cause' : 'impact';
    return { question, ci: start, total: items.length, truncated, by_type, tenants: [...tenants], services: [...services], items };
  }

  /** Like the real server: `limit` counts the nodes besides the centre; edges carry no id. */
  function neighbourhood(start, depth, limit) {
    const depthOf = new Map([[start.id, 0]]);
    let frontier = [start.id];
    let truncated = false;
    for (let d = 1; d <= depth && frontier.length; d++) {
      const next = [];
      for (const id of frontier)
        for (const r of relsOf(id)) {
          const other = r.from_id === id ? r.to_id : r.from_id;
          if (depthOf.has(other)) continue;
          if (depthOf.size > limit) {
            truncated = true;
            continue;
          }
          depthOf.set(other, d);
          next.push(other);
        }
      frontier = next;
    }
    const edges = [...state.rels.values()]
      .filter((r) => depthOf.has(r.from_id) && depthOf.has(r.to_id))
      .map(({ type, from_id, to_id }) => ({ type, from_id, to_id }));
    const nodes = [...depthOf].map(([id, d]) => ({ ...state.cis.get(id), depth: d }));
    return { ci: start, depth, nodes, edges, truncated };
  }

  function path(a, b) {
    const prev = new Map([[a.id, null]]);
    const queue = [a.id];
    while (queue.length && !prev.has(b.id)) {
      const id = queue.shift();
      for (const r of relsOf(id)) {
        const other = r.from_id === id ? r.to_id : r.from_id;
        if (prev.has(other)) continue;
        prev.set(other, { id, r });
        queue.push(other);
      }
    }
    const answer = (hops) => ({ from: a, to: b, found: prev.has(b.id), length: hops.length, hops, truncated: false });
    if (!prev.has(b.id)) return answer([]);
    const hops = [];
    for (let id = b.id; prev.get(id); id = prev.get(id).id) {
      const { id: p, r } = prev.get(id);
      hops.unshift(hop(state.cis.get(p), r.type, r.from_id === p ? 'forward' : 'reverse', state.cis.get(id)));
    }
    return answer(hops);
  }

  function context(ci) {
    // A part (GPU, NIC, port) takes its location and tenant from its container.
    const up = [...state.rels.values()].find((r) => r.type === 'contains' && r.to_id === ci.id);
    const container = up ? state.cis.get(up.from_id) : null;
    const anchor = container ?? ci;
    const location = [];
    for (let x = anchor, i = 0; i < 8; i++) {
      const r = [...state.rels.values()].find((q) => q.type === 'located_in' && q.from_id === x.id);
      if (!r) break;
      x = state.cis.get(r.to_id);
      const step = { type: x.type, name: x.name, id: x.id };
      if (r.attributes.position_u != null) step.position_u = r.attributes.position_u;
      location.unshift(step); // site first
    }
    const services = [...state.rels.values()]
      .filter((r) => r.type === 'deployed_on' && (r.to_id === ci.id || r.to_id === anchor.id))
      .map((r) => state.cis.get(r.from_id));
    const impact = traverse(ci, false, 32, 100000);
    const out = {
      ci,
      location,
      tenant: ci.tenant ?? container?.tenant ?? null,
      services,
      dependents: { total: impact.total, by_type: impact.by_type, truncated: impact.truncated },
    };
    if (container) out.container = container;
    out.location_path = location.map((l) => l.name).join('/');
    return out;
  }

  // ---- change requests

  function parseEdits(edits) {
    if (!Array.isArray(edits)) throw bad("'edits' must be an array", 'edits');
    if (edits.length < 1 || edits.length > 10000) throw bad('a change request needs 1-10000 edits', 'edits');
    edits.forEach((e, i) => {
      if (!e || typeof e !== 'object' || Array.isArray(e)) throw bad(`edit ${i + 1} must be an object`, 'edits');
      const fields = EDIT_FIELDS[e.op];
      if (!fields) throw bad(`edit ${i + 1}: unknown op '${e.op}'; valid ops: ${Object.keys(EDIT_FIELDS).join(', ')}`, 'op');
      for (const k of Object.keys(e)) if (!fields.includes(k)) throw bad(`edit ${i + 1}: unknown field '${k}'`, k);
    });
    return edits;
  }

  function editsImpact(edits) {
    const touched = [];
    const by_type = {};
    const tenants = new Set();
    const services = new Set();
    let total = 0;
    for (const e of edits) {
      if (e.op !== 'update_ci' && e.op !== 'delete_ci') continue;
      let ci;
      try {
        ci = resolve(e.ci);
      } catch {
        continue;
      }
      const t = traverse(ci, false, 16, 20000);
      total += t.total;
      for (const [k, n] of Object.entries(t.by_type)) by_type[k] = (by_type[k] ?? 0) + n;
      t.tenants.forEach((x) => tenants.add(x));
      t.services.forEach((x) => services.add(x));
      touched.push({ ci: label(ci), op: e.op, affected: t.total });
    }
    return { touched, affected_total: total, affected_by_type: by_type, tenants: [...tenants], services: [...services] };
  }

  function applyEdit(actor, e, cr) {
    if (e.op === 'create_ci') createCi(actor, e, cr);
    else if (e.op === 'update_ci') updateCi(actor, e.ci, e, cr);
    else if (e.op === 'delete_ci') deleteCi(actor, e.ci, !!e.cascade, cr);
    else if (e.op === 'relate') relate(actor, e, cr);
    else if (e.op === 'unrelate') unrelate(actor, e.id, cr);
  }

  function review(ctx, id, approve, comment) {
    const cr = changes.get(Number(id));
    if (!cr) throw notFound(`no change request ${id}`);
    if (cr.state !== 'pending') throw conflict(`change request ${id} is ${cr.state}`);
    const actor = ctx.actor;
    if (approve) {
      if (cr.created_by === actor) {
        record(ctx, 'cmdb.change.approve', 'change_request', id, 'denied', { reason: 'author' });
        throw new Problem(403, 'Forbidden', 'a change request must be approved by someone other than its author');
      }
      const saved = { ...state, cis: new Map([...state.cis].map(([k, v]) => [k, clone(v)])), rels: new Map(state.rels), history: [...state.history] };
      let index = 0;
      try {
        for (const e of cr.edits) applyEdit(actor, e, cr.id), index++;
      } catch (err) {
        state = saved; // nothing of the change is applied
        const msg = `edit ${index + 1} failed: ${err.message}`;
        Object.assign(cr, { state: 'failed', reviewed_by: actor, review_comment: msg, updated_at: now() });
        record(ctx, 'cmdb.change.apply', 'change_request', id, 'failure', { error: msg });
        throw new Problem(err.status ?? 500, err.title ?? 'Internal Server Error', `change request ${id} was not applied: ${msg}`);
      }
      Object.assign(cr, { state: 'applied', reviewed_by: actor, review_comment: comment, applied_at: now(), updated_at: now() });
      record(ctx, 'cmdb.change.approve', 'change_request', id, 'success', { author: cr.created_by, comment });
    } else {
      Object.assign(cr, { state: 'rejected', reviewed_by: actor, review_comment: comment, updated_at: now() });
      record(ctx, 'cmdb.change.reject', 'change_request', id, 'success', { comment });
    }
    return cr;
  }

  // ---- HTTP

  const list = (items) => ({ items, next_cursor: null });

  function intParam(q, name, def, min, max) {
    if (!q.has(name)) return def;
    const v = Number(q.get(name));
    if (!Number.isInteger(v) || v < min || v > max) throw bad(`${name} must be between ${min} and ${max}`, name);
    return v;
  }

  function onlyQuery(q, names) {
    for (const k of q.keys()) if (!names.includes(k)) throw bad(`unknown query parameter '${k}'; valid parameters: ${names.join(', ') || 'none'}`, k);
  }

  function listCis(q) {
    const valid = ['type', 'status', 'tenant', 'q', 'related_to', 'relation', 'stale', 'include', 'limit', 'cursor'];
    for (const k of q.keys())
      if (!k.startsWith('attr.') && !valid.includes(k))
        throw bad(`unknown query parameter '${k}'; valid parameters: type, status, tenant, q, attr.NAME, related_to, relation, stale, include, limit, cursor`, k);
    const limit = intParam(q, 'limit', 100, 1, 5000);
    const after = q.has('cursor') ? intParam(q, 'cursor', 0, 0, Number.MAX_SAFE_INTEGER) : 0;
    let items = [...state.cis.values()].filter((c) => c.id > after).sort((a, b) => a.id - b.id);
    for (const k of ['type', 'status', 'tenant']) if (q.get(k)) items = items.filter((c) => c[k] === q.get(k));
    if (q.get('q')) {
      const needle = q.get('q').toLowerCase();
      items = items.filter((c) => c.name.toLowerCase().includes(needle) || JSON.stringify(c.attributes).toLowerCase().includes(needle));
    }
    for (const k of q.keys())
      if (k.startsWith('attr.')) items = items.filter((c) => String(c.attributes[k.slice(5)] ?? '') === q.get(k));
    if (q.get('related_to')) {
      const id = resolve(q.get('related_to')).id;
      const rel = q.get('relation');
      const ids = new Set();
      for (const r of relsOf(id)) if (!rel || r.type === rel) ids.add(r.from_id === id ? r.to_id : r.from_id);
      items = items.filter((c) => ids.has(c.id));
    }
    const page = items.slice(0, limit);
    const out = q.get('include') === 'relations' ? page.map((c) => ({ ...c, relations: relsOf(c.id) })) : page;
    return { items: out, next_cursor: page.length === limit ? String(page[page.length - 1].id) : null };
  }

  /** Answers a CMDB route, or returns null when `p` is not one. */
  async function handle(m, p, url, readBody, ctx) {
    if (!p.startsWith('/cmdb/')) return null;
    const q = url.searchParams;
    const actor = ctx.actor;
    const seg = p.split('/').slice(2).map(decodeURIComponent); // after "/cmdb"
    if (seg.length > 3) return null;
    const [a, b, c] = seg;
    const route = `${m} ${a}${b !== undefined ? '/:b' : ''}${c !== undefined ? `/${c}` : ''}`;

    switch (route) {
      case 'GET types':
        return [200, list(CI_TYPES)];
      case 'GET types/:b': {
        const t = CI_TYPES.find((x) => x.name === b);
        if (!t) throw notFound(`no CI type '${b}'`);
        return [200, t];
      }
      case 'GET relation-types':
        return [200, list(REL_TYPES)];
      case 'GET cis':
        return [200, listCis(q)];
      case 'POST cis': {
        const ci = createCi(actor, await readBody());
        record(ctx, 'cmdb.ci.create', ci.type, ci.name, 'success', { id: ci.id });
        return [201, ci];
      }
      case 'GET cis/:b':
        return [200, resolve(b)];
      case 'PATCH cis/:b': {
        const body = (await readBody()) ?? {};
        for (const k of Object.keys(body))
          if (!['name', 'attributes', 'status', 'tenant', 'version'].includes(k)) throw bad(`unknown field '${k}'`, k);
        const ci = updateCi(actor, b, body);
        record(ctx, 'cmdb.ci.update', ci.type, ci.name, 'success', { id: ci.id });
        return [200, ci];
      }
      case 'DELETE cis/:b': {
        onlyQuery(q, ['cascade']);
        const ci = resolve(b);
        deleteCi(actor, b, q.get('cascade') === 'true');
        record(ctx, 'cmdb.ci.delete', ci.type, ci.name, 'success', { id: ci.id });
        return [204];
      }
      case 'GET cis/:b/relations':
        return [200, list(relsOf(resolve(b).id))];
      case 'GET cis/:b/history': {
        onlyQuery(q, ['limit']);
        const id = resolve(b).id;
        const limit = intParam(q, 'limit', 200, 1, 1000);
        return [200, list(state.history.filter((h) => h.ci_id === id).reverse().slice(0, limit))];
      }
      case 'GET cis/:b/context':
        return [200, context(resolve(b))];
      case 'GET cis/:b/impact':
      case 'GET cis/:b/root-cause': {
        onlyQuery(q, ['depth', 'limit']);
        const depth = intParam(q, 'depth', 32, 1, 64);
        const limit = intParam(q, 'limit', 10000, 1, 1000000);
        return [200, traverse(resolve(b), c === 'root-cause', depth, limit)];
      }
      case 'GET cis/:b/neighbourhood': {
        onlyQuery(q, ['depth', 'limit']);
        return [200, neighbourhood(resolve(b), intParam(q, 'depth', 2, 1, 12), intParam(q, 'limit', 500, 1, 100000))];
      }
      case 'GET path': {
        onlyQuery(q, ['from', 'to']);
        if (!q.get('from') || !q.get('to')) throw bad("query parameters 'from' and 'to' are required", q.get('from') ? 'to' : 'from');
        return [200, path(resolve(q.get('from')), resolve(q.get('to')))];
      }
      case 'POST relations': {
        const r = relate(actor, await readBody());
        record(ctx, 'cmdb.relation.create', 'relation', `${label(state.cis.get(r.from_id))} ${r.type} ${label(state.cis.get(r.to_id))}`, 'success');
        return [201, r];
      }
      case 'DELETE relations/:b':
        unrelate(actor, b);
        record(ctx, 'cmdb.relation.delete', 'relation', b, 'success');
        return [204];
      case 'GET changes': {
        onlyQuery(q, ['state']);
        const st = q.get('state');
        if (st && !CHANGE_STATES.includes(st)) throw bad('state must be pending, applied, rejected or failed', 'state');
        return [200, list([...changes.values()].filter((x) => !st || x.state === st).reverse().slice(0, 200))];
      }
      case 'POST changes': {
        const body = (await readBody()) ?? {};
        for (const k of Object.keys(body)) if (!['title', 'description', 'edits'].includes(k)) throw bad(`unknown field '${k}'`, k);
        if (typeof body.title !== 'string' || !body.title || body.title.length > 200) throw bad('title must be 1-200 characters', 'title');
        const edits = parseEdits(body.edits);
        const t = now();
        const cr = {
          id: nextChange++, title: body.title, description: body.description ?? '', state: 'pending', created_by: actor,
          created_at: t, updated_at: t, edits, impact: editsImpact(edits), reviewed_by: null, review_comment: null, applied_at: null,
        };
        changes.set(cr.id, cr);
        record(ctx, 'cmdb.change.propose', 'change_request', cr.id, 'success', { title: cr.title, edits: edits.length });
        return [201, cr];
      }
      case 'GET changes/:b': {
        const cr = changes.get(Number(b));
        if (!cr) throw notFound(`no change request ${b}`);
        return [200, cr];
      }
      case 'POST changes/:b/approve':
      case 'POST changes/:b/reject': {
        const body = (await readBody()) ?? {};
        for (const k of Object.keys(body)) if (k !== 'comment') throw bad(`unknown field '${k}'`, k);
        return [200, review(ctx, b, c === 'approve', body.comment ?? '')];
      }
      default:
        return null;
    }
  }

  // ---- a small demo estate for `npm run mock`

  function seedDemo() {
    const A = 'mock';
    const ci = (type, name, attributes = {}, extra = {}) => createCi(A, { type, name, attributes, ...extra });
    const rel = (type, from, to, attributes) => relate(A, { type, from: label(from), to: label(to), attributes });
    const site = ci('site', 'fra1', { city: 'Frankfurt', country: 'DE' });
    const room = ci('room', 'fra1-hall-1', { floor: 1, power_kw: 1200 });
    const row = ci('row', 'fra1-h1-r01', { aisle: 'cold-A' });
    rel('located_in', room, site);
    rel('located_in', row, room);
    const acme = ci('tenant', 'acme', { slug: 'acme', contact: 'ops@acme.example' });
    const spine = ci('switch', 'spine-01', { role: 'spine', model: 'SN4700', mgmt_ip: '10.255.0.1' });
    rel('located_in', spine, row);
    const spinePorts = [];
    for (let i = 1; i <= 2; i++) {
      const rack = ci('rack', `A0${i}`, { height_u: 42, power_kw: 40 });
      rel('located_in', rack, row);
      const pdu = ci('pdu', `pdu-a0${i}-1`, { model: 'PX3', outlets: 24, mgmt_ip: `10.254.0.${i}` });
      rel('located_in', pdu, rack, { position_u: 1 });
      const leaf = ci('switch', `leaf-0${i}`, { role: 'leaf', model: 'SN3700', mgmt_ip: `10.255.1.${i}` });
      rel('located_in', leaf, rack, { position_u: 42 });
      const up = ci('switch_port', `leaf-0${i}-swp32`, { port_name: 'swp32', speed_gbps: 400 });
      rel('contains', leaf, up);
      const sp = ci('switch_port', `spine-01-swp${i}`, { port_name: `swp${i}`, speed_gbps: 400 });
      rel('contains', spine, sp);
      spinePorts.push(sp);
      rel('connected_to', up, sp);
      for (let s = 1; s <= 3; s++) {
        const n = (i - 1) * 3 + s;
        const name = `gpu-${String(n).padStart(3, '0')}`;
        const srv = ci('server', name, {
          role: 'gpu-node', vendor: 'Supermicro', model: 'SYS-821GE', gpu_model: 'H100', gpu_count: 2,
          mgmt_ip: `10.0.${i}.${10 + s}`, serial: `SN${1000 + n}`, lifecycle: 'deployed',
        }, n === 6 ? { status: 'maintenance' } : {});
        rel('located_in', srv, rack, { position_u: 2 + s * 4 });
        const outlet = ci('pdu_outlet', `pdu-a0${i}-1-o${s}`, { number: s });
        rel('contains', pdu, outlet);
        rel('powered_by', srv, outlet);
        const port = ci('switch_port', `leaf-0${i}-swp${s}`, { port_name: `swp${s}`, speed_gbps: 200 });
        rel('contains', leaf, port);
        const nic = ci('nic', `${name}-eth0`, { kind: 'ethernet', speed_gbps: 200, mac: `02:00:00:00:0${i}:${10 + s}` });
        rel('contains', srv, nic);
        rel('connected_to', nic, port);
        for (let g = 0; g < 2; g++) rel('contains', srv, ci('gpu', `${name}-gpu${g}`, { model: 'H100 SXM', index: g, memory_mib: 81559 }));
        if (n <= 2) rel('owned_by', srv, acme);
      }
    }
    const api = ci('service', 'training-api', { criticality: 'high', owner: 'ml-platform' }, { tenant: 'acme' });
    rel('deployed_on', api, resolve('server/gpu-001'));
    rel('deployed_on', api, resolve('server/gpu-002'));
    const web = ci('service', 'model-gallery', { criticality: 'medium', owner: 'web' });
    rel('depends_on', web, api);
    const t = now();
    changes.set(nextChange, {
      id: nextChange++, title: 'Put gpu-003 into maintenance', description: 'BIOS update', state: 'pending', created_by: 'alice',
      created_at: t, updated_at: t, edits: [{ op: 'update_ci', ci: 'server/gpu-003', status: 'maintenance' }],
      impact: editsImpact([{ op: 'update_ci', ci: 'server/gpu-003' }]), reviewed_by: null, review_comment: null, applied_at: null,
    });
  }

  return { handle, seedDemo };
}
