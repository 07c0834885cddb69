// Pure helpers of the tenancy pages: amounts in a resource's unit, the quota edit rules the
// server applies (so the form can ask for the explicit "below usage" flag first), and the
// usage-over-time series built from the history of changes.

import type { HistoryPoint, QuotaLine } from './tenancy-api';

const BYTE_UNITS: [string, number][] = [
  ['PiB', 2 ** 50],
  ['TiB', 2 ** 40],
  ['GiB', 2 ** 30],
  ['MiB', 2 ** 20],
  ['KiB', 2 ** 10],
];
const DECIMAL_UNITS: Record<string, number> = { KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, PB: 1e15 };

export function isBytes(resource: string): boolean {
  return resource === 'memory' || resource === 'storage';
}

/** 549755813888 bytes → "512 GiB" (largest exact binary unit); counts as plain integers. */
export function formatAmount(resource: string, n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  if (!isBytes(resource) || n === 0) return String(n);
  for (const [unit, size] of BYTE_UNITS) {
    if (n % size === 0) return `${n / size} ${unit}`;
  }
  return `${n} B`;
}

/**
 * "512GiB", "2 TB", "1.5TiB", "8" → an integer in the resource's base unit. Throws an Error
 * naming the problem (not a number, a unit on a count, a fraction of a byte or of a GPU).
 */
export function parseAmount(resource: string, text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(text);
  if (!m) throw new Error(`'${text}' is not an amount`);
  const [, num, unitRaw] = m;
  let mult = 1;
  if (unitRaw) {
    if (!isBytes(resource)) throw new Error(`${resource} is a count: no unit`);
    const unit = unitRaw.length === 1 ? unitRaw.toUpperCase() : unitRaw;
    const bin = BYTE_UNITS.find(([u]) => u.toLowerCase() === unit.toLowerCase());
    if (bin) mult = bin[1];
    else if (DECIMAL_UNITS[unit.toUpperCase()]) mult = DECIMAL_UNITS[unit.toUpperCase()];
    else if (unit.toUpperCase() === 'B') mult = 1;
    else throw new Error(`unknown unit '${unitRaw}' (use KiB, MiB, GiB, TiB, PiB or KB…PB)`);
  }
  const value = Number(num) * mult;
  if (!Number.isSafeInteger(value)) throw new Error(`'${text}' is not a whole number of ${isBytes(resource) ? 'bytes' : resource}`);
  return value;
}

/** The most a holder may reserve: burst when set, else guaranteed. */
export function ceiling(guaranteed: number | null, burst: number | null): number {
  return burst ?? guaranteed ?? 0;
}

/**
 * Whether a new quota would be below what the line already reserves: the server then refuses
 * it unless the request carries `force: true` (it blocks new admissions, running work stays).
 */
export function belowUsage(line: Pick<QuotaLine, 'reserved'> | undefined, guaranteed: number, burst?: number): boolean {
  if (!line) return false;
  return line.reserved > (burst ?? guaranteed);
}

/** Tenant-level lines first, then each project's, both sorted by resource. */
export function splitLevels(lines: QuotaLine[]): { tenant: QuotaLine[]; projects: QuotaLine[] } {
  const by = (a: QuotaLine, b: QuotaLine) =>
    (a.project ?? '').localeCompare(b.project ?? '') || a.resource.localeCompare(b.resource);
  return {
    tenant: lines.filter((l) => !l.project).sort(by),
    projects: lines.filter((l) => l.project).sort(by),
  };
}

export interface SeriesPoint {
  time: number; // ms since the epoch: the end of the step
  reserved: number;
  ceiling: number;
  guaranteed: number;
}

/**
 * The history of one resource at one level (project null: the tenant) as `steps` evenly spaced
 * samples between `from` and `to` (ms). The history holds one point per change, so each sample
 * is the newest point at or before its time (nothing before the first point: zeros).
 */
export function usageSeries(
  points: HistoryPoint[],
  resource: string,
  project: string | null,
  from: number,
  to: number,
  steps: number,
): SeriesPoint[] {
  const mine = points
    .filter((p) => p.resource === resource && (p.project ?? null) === project)
    .map((p) => ({ ...p, t: Date.parse(p.time) }))
    .filter((p) => !Number.isNaN(p.t))
    .sort((a, b) => a.t - b.t);
  const n = Math.max(1, Math.floor(steps));
  const out: SeriesPoint[] = [];
  let i = -1;
  for (let s = 1; s <= n; s++) {
    const time = from + ((to - from) * s) / n;
    while (i + 1 < mine.length && mine[i + 1].t <= time) i++;
    const p = i >= 0 ? mine[i] : undefined;
    out.push({
      time,
      reserved: p?.reserved ?? 0,
      guaranteed: p?.guaranteed ?? 0,
      ceiling: p ? ceiling(p.guaranteed, p.burst) : 0,
    });
  }
  return out;
}
