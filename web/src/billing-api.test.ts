import { describe, expect, it } from 'vitest';
import { costBy, money, monthRange, type InvoiceLine } from './billing-api';

const line = (project: string, sku: string, amount_micros: number) => ({ project, sku, amount_micros }) as InvoiceLine;

describe('billing helpers', () => {
  it('sums cost by project, largest first', () => {
    const lines = [line('a', 'gpu-h100-hour', 2_500_000), line('b', 'gpu-h100-hour', 1), line('a', 'cpu-core-hour', 500_000)];
    expect(costBy(lines, (l) => l.project)).toEqual([
      ['a', 3_000_000],
      ['b', 1],
    ]);
    expect(costBy(lines, (l) => l.sku)[0]).toEqual(['gpu-h100-hour', 2_500_001]);
  });
  it('formats micro-units and months', () => {
    expect(money(8_500_001)).toBe('8.50');
    expect(monthRange('2026-12')).toEqual(['2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z']);
  });
});
