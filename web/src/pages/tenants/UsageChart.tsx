// Reserved (line) and ceiling (dashed) of one resource at the tenant level over a time range,
// drawn as SVG from the history of changes (tenancy-format.ts usageSeries).
import type { HistoryPoint } from '../../tenancy-api';
import { formatAmount, usageSeries } from '../../tenancy-format';
import { formatTime } from '../../time';

const W = 640;
const H = 180;
const PAD = 28;
const STEPS = 120;

export function UsageChart({ points, resource, from, to }: { points: HistoryPoint[]; resource: string; from: number; to: number }) {
  const series = usageSeries(points, resource, null, from, to, STEPS);
  const max = Math.max(1, ...series.map((p) => Math.max(p.reserved, p.ceiling)));
  const x = (i: number) => PAD + ((W - 2 * PAD) * (i + 1)) / series.length;
  const y = (v: number) => H - PAD - ((H - 2 * PAD) * v) / max;
  const path = (key: 'reserved' | 'ceiling') =>
    series.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(p[key]).toFixed(1)}`).join(' ');
  const last = series[series.length - 1];
  return (
    <figure className="usage-chart" data-testid="usage-chart" data-resource={resource} data-last-reserved={last?.reserved ?? 0} data-last-ceiling={last?.ceiling ?? 0}>
      <svg viewBox={`0 0 ${W} ${H}`} width="100%" role="img" aria-label={`${resource} reserved over time`}>
        <line x1={PAD} y1={H - PAD} x2={W - PAD} y2={H - PAD} stroke="currentColor" strokeOpacity="0.3" />
        <line x1={PAD} y1={PAD} x2={PAD} y2={H - PAD} stroke="currentColor" strokeOpacity="0.3" />
        <text x={2} y={PAD} fontSize="10">{formatAmount(resource, max)}</text>
        <text x={2} y={H - PAD} fontSize="10">0</text>
        <path d={path('ceiling')} fill="none" stroke="#b45309" strokeDasharray="4 3" strokeWidth="1.5" />
        <path d={path('reserved')} fill="none" stroke="#2563eb" strokeWidth="2" />
        <text x={PAD} y={H - 8} fontSize="10">{formatTime(new Date(from).toISOString())}</text>
        <text x={W - PAD} y={H - 8} fontSize="10" textAnchor="end">{formatTime(new Date(to).toISOString())}</text>
      </svg>
      <figcaption className="muted small">
        <span style={{ color: '#2563eb' }}>━ reserved</span> <span style={{ color: '#b45309' }}>╍ ceiling (burst or guaranteed)</span> · now{' '}
        {formatAmount(resource, last?.reserved)} of {formatAmount(resource, last?.ceiling)}
      </figcaption>
    </figure>
  );
}
