import { describe, expect, it } from 'vitest';
import { belowUsage, formatAmount, parseAmount, splitLevels, usageSeries } from './tenancy-format';
import type { HistoryPoint, QuotaLine } from './tenancy-api';

describe('amounts', () => {
  it('formats bytes in the largest exact binary unit and counts as integers', () => {
    expect(formatAmount('memory', 512 * 2 ** 30)).toBe('512 GiB');
    expect(formatAmount('storage', 1536 * 2 ** 20)).toBe('1536 MiB');
    expect(formatAmount('memory', 1000)).toBe('1000 B');
    expect(formatAmount('gpu/h100', 8)).toBe('8');
    expect(formatAmount('cpu', null)).toBe('—');
  });
  it('parses units for bytes only', () => {
    expect(parseAmount('memory', '512GiB')).toBe(512 * 2 ** 30);
    expect(parseAmount('storage', '2 TB')).toBe(2e12);
    expect(parseAmount('memory', '1.5TiB')).toBe(1.5 * 2 ** 40);
    expect(parseAmount('gpu/h100', '4')).toBe(4);
    expect(() => parseAmount('gpu/h100', '4GiB')).toThrow(/count/);
    expect(() => parseAmount('gpu/h100', '1.5')).toThrow(/whole/);
    expect(() => parseAmount('memory', '3 parsecs')).toThrow(/unknown unit/);
    expect(() => parseAmount('cpu', '')).toThrow(/not an amount/);
  });
});

const line = (over: Partial<QuotaLine>): QuotaLine => ({
  project: null,
  resource: 'gpu/h100',
  guaranteed: 8,
  burst: null,
  reserved: 0,
  borrowed: 0,
  lent: 0,
  used: null,
  ...over,
});

describe('quota rules', () => {
  it('needs the below-usage flag when the new ceiling is under what is reserved', () => {
    expect(belowUsage(line({ reserved: 6 }), 4)).toBe(true);
    expect(belowUsage(line({ reserved: 6 }), 4, 6)).toBe(false); // burst still covers it
    expect(belowUsage(line({ reserved: 6 }), 6)).toBe(false);
    expect(belowUsage(undefined, 0)).toBe(false); // a new quota
  });
  it('splits tenant and project lines', () => {
    const { tenant, projects } = splitLevels([
      line({ project: 'b', resource: 'cpu' }),
      line({ resource: 'memory' }),
      line({ project: 'a' }),
      line({ resource: 'cpu' }),
    ]);
    expect(tenant.map((l) => l.resource)).toEqual(['cpu', 'memory']);
    expect(projects.map((l) => `${l.project}:${l.resource}`)).toEqual(['a:gpu/h100', 'b:cpu']);
  });
});

describe('usageSeries', () => {
  const at = (s: number) => new Date(Date.UTC(2026, 10, 25, 12, 0, s)).toISOString();
  const from = Date.UTC(2026, 10, 25, 12, 0, 0);
  const pts: HistoryPoint[] = [
    { time: at(10), project: null, resource: 'gpu/h100', guaranteed: 8, burst: 12, reserved: 0, borrowed: 0 },
    { time: at(25), project: null, resource: 'gpu/h100', guaranteed: 8, burst: 12, reserved: 10, borrowed: 2 },
    { time: at(26), project: 'p1', resource: 'gpu/h100', guaranteed: 4, burst: null, reserved: 4, borrowed: 0 },
    { time: at(35), project: null, resource: 'cpu', guaranteed: 64, burst: null, reserved: 9, borrowed: 0 },
  ];
  it('samples the newest change at or before each step', () => {
    const s = usageSeries(pts, 'gpu/h100', null, from, from + 40_000, 4);
    expect(s.map((p) => p.reserved)).toEqual([0, 0, 10, 10]);
    expect(s.map((p) => p.ceiling)).toEqual([12, 12, 12, 12]);
    expect(s[0].time).toBe(from + 10_000);
  });
  it('is zero before the first change and keeps levels apart', () => {
    const s = usageSeries(pts, 'gpu/h100', 'p1', from, from + 40_000, 2);
    expect(s.map((p) => p.reserved)).toEqual([0, 4]);
    expect(s.map((p) => p.ceiling)).toEqual([0, 4]);
  });
});
