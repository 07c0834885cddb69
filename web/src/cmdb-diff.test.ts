import { describe, expect, it } from 'vitest';
import { diffCi, relationOf, showValue } from './cmdb-diff';
import { keyAttributes } from './cmdb-api';
import type { HistoryEntry } from './cmdb-api';

const ci = (over: Record<string, unknown> = {}) => ({
  id: 1,
  type: 'server',
  name: 'srv-01',
  status: 'active',
  tenant: null,
  version: 1,
  attributes: { role: 'gpu-node', mgmt_ip: '10.0.0.1' },
  ...over,
});

const entry = (over: Partial<HistoryEntry>): HistoryEntry => ({
  id: 1,
  time: '2026-11-25T12:00:00Z',
  actor: 'admin',
  op: 'ci.update',
  ci_id: 1,
  relation_id: null,
  version: 2,
  change_request_id: null,
  before: null,
  after: null,
  ...over,
});

describe('diffCi', () => {
  it('lists changed, added and removed fields of an update', () => {
    const before = ci();
    const after = ci({ status: 'maintenance', attributes: { role: 'gpu-node', serial: 'X1' } });
    expect(diffCi(before, after)).toEqual([
      { field: 'status', from: 'active', to: 'maintenance' },
      { field: 'attributes.mgmt_ip', from: '10.0.0.1', to: undefined },
      { field: 'attributes.serial', from: undefined, to: 'X1' },
    ]);
  });

  it('treats a create as every field added, without a null tenant', () => {
    expect(diffCi(null, ci()).map((c) => c.field)).toEqual([
      'name',
      'status',
      'attributes.role',
      'attributes.mgmt_ip',
    ]);
  });

  it('compares values structurally and ignores non-objects', () => {
    expect(diffCi(ci({ attributes: { a: [1, 2] } }), ci({ attributes: { a: [1, 2] } }))).toEqual([]);
    expect(diffCi('garbage', 42)).toEqual([]);
  });
});

describe('relationOf', () => {
  it('reads the relationship from after, else before', () => {
    const rel = { id: 9, type: 'contains', from_id: 1, to_id: 2 };
    expect(relationOf(entry({ op: 'relation.create', after: rel }))).toEqual({ type: 'contains', from_id: 1, to_id: 2 });
    expect(relationOf(entry({ op: 'relation.delete', before: rel }))).toEqual({ type: 'contains', from_id: 1, to_id: 2 });
    expect(relationOf(entry({ op: 'ci.update', after: ci() }))).toBeNull();
    // The real server adds the ends' labels.
    expect(relationOf(entry({ op: 'relation.create', after: { ...rel, from: 'server/a', to: 'gpu/b' } }))).toEqual({
      type: 'contains', from_id: 1, to_id: 2, from: 'server/a', to: 'gpu/b',
    });
  });
});

describe('showValue / keyAttributes', () => {
  it('formats values', () => {
    expect(showValue(undefined)).toBe('∅');
    expect(showValue('x')).toBe('x');
    expect(showValue(12)).toBe('12');
    expect(showValue(null)).toBe('null');
  });

  it('picks the telling attributes first and skips empty ones', () => {
    expect(keyAttributes({ zeta: 1, mgmt_ip: '10.0.0.1', role: 'leaf', serial: '', model: null }, 2)).toEqual([
      ['role', 'leaf'],
      ['mgmt_ip', '10.0.0.1'],
    ]);
    expect(keyAttributes(undefined)).toEqual([]);
    // What the search matched comes first.
    expect(keyAttributes({ role: 'gpu-node', model: 'X', mgmt_ip: '10.0.2.11' }, 2, '10.0.2.')).toEqual([
      ['mgmt_ip', '10.0.2.11'],
      ['role', 'gpu-node'],
    ]);
  });
});
