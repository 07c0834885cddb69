// One tenant: projects, members, quotas, usage over time, and the quota editor (admins).
import { useMemo, useState } from 'react';
import type { WhoAmI } from '../../api';
import { usePolling } from '../../hooks';
import {
  getTenant,
  listMembers,
  listProjects,
  listQuotas,
  setQuota,
  usageHistory,
  type QuotaLine,
} from '../../tenancy-api';
import { belowUsage, formatAmount, parseAmount, splitLevels } from '../../tenancy-format';
import { Badge, ErrorBox, Time } from '../common';
import { UsageChart } from './UsageChart';
import { isAdmin } from './Tenants';

const RANGES: [string, number][] = [
  ['1 hour', 3600_000],
  ['24 hours', 86400_000],
  ['7 days', 7 * 86400_000],
];

export function TenantDetail({ me, slug }: { me: WhoAmI; slug: string }) {
  const tenant = usePolling((s) => getTenant(slug, s), () => null, [slug]);
  const projects = usePolling((s) => listProjects(slug, s), () => null, [slug]);
  const members = usePolling((s) => listMembers(slug, s), () => null, [slug]);
  const quotas = usePolling((s) => listQuotas(slug, s), () => 10000, [slug]);
  const [range, setRange] = useState(RANGES[0][1]);
  const [now, setNow] = useState(() => Date.now());
  const since = useMemo(() => new Date(now - range).toISOString(), [now, range]);
  const history = usePolling((s) => usageHistory(slug, new Date(0).toISOString(), s), () => 10000, [slug, now]);
  const levels = splitLevels(quotas.data?.items ?? []);
  const resources = [...new Set((quotas.data?.items ?? []).map((q) => q.resource))].sort();
  const [chartResource, setChartResource] = useState('');
  const shown = chartResource || resources[0] || '';

  if (tenant.error) return <div className="page"><ErrorBox error={tenant.error} testid="tenant-error" /></div>;
  const t = tenant.data;
  return (
    <div className="page" data-testid="tenant-page">
      <div className="page-head">
        <h1>
          <a href="#/tenants">Tenants</a> / <span className="mono">{slug}</span>
        </h1>
        <span className="spacer" />
        <button
          className="btn"
          data-testid="tenant-refresh"
          onClick={() => {
            quotas.reload();
            setNow(Date.now());
          }}
        >
          Refresh
        </button>
      </div>
      {t && (
        <p data-testid="tenant-summary">
          <span className="kv">{t.name}</span>
          <span className="kv">
            <span className="muted">cohort</span> {t.cohort ?? '—'}
          </span>
          {t.disabled && <Badge kind="failed">disabled</Badge>}
        </p>
      )}

      <h2>Quotas</h2>
      <ErrorBox error={quotas.error} testid="quotas-error" />
      <QuotaTable lines={levels.tenant} testid="quota-table" />
      {levels.projects.length > 0 && (
        <>
          <h3>Projects' quotas</h3>
          <QuotaTable lines={levels.projects} withProject testid="project-quota-table" />
        </>
      )}
      {isAdmin(me) && (
        <QuotaEditor
          slug={slug}
          lines={quotas.data?.items ?? []}
          projects={(projects.data?.items ?? []).map((p) => p.slug)}
          onSaved={() => {
            quotas.reload();
            setNow(Date.now());
          }}
        />
      )}

      <h2>Usage over time</h2>
      <div className="inline-form">
        <label className="inline">
          resource{' '}
          <select value={shown} onChange={(e) => setChartResource(e.target.value)} data-testid="chart-resource">
            {resources.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <label className="inline">
          last{' '}
          <select value={range} onChange={(e) => { setRange(Number(e.target.value)); setNow(Date.now()); }} data-testid="chart-range">
            {RANGES.map(([label, ms]) => (
              <option key={ms} value={ms}>
                {label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorBox error={history.error} testid="history-error" />
      {shown && history.data && (
        <UsageChart points={history.data.items} resource={shown} from={Date.parse(since)} to={now} />
      )}

      <div className="two-col">
        <section>
          <h2>Projects</h2>
          <table className="table" data-testid="projects-table">
            <thead>
              <tr>
                <th>Project</th>
                <th>Name</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {projects.data?.items.map((p) => (
                <tr key={p.slug} data-testid={`project-row-${p.slug}`}>
                  <td className="mono">{p.slug}</td>
                  <td>{p.name}</td>
                  <td className="nowrap">
                    <Time value={p.created_at} />
                  </td>
                </tr>
              ))}
              {projects.data?.items.length === 0 && (
                <tr>
                  <td colSpan={3} className="empty">
                    No projects.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </section>
        <section>
          <h2>Members</h2>
          <ErrorBox error={members.error} testid="members-error" />
          <table className="table" data-testid="members-table">
            <thead>
              <tr>
                <th>User</th>
                <th>Role</th>
                <th>Since</th>
              </tr>
            </thead>
            <tbody>
              {members.data?.items.map((m) => (
                <tr key={m.username} data-testid={`member-row-${m.username}`}>
                  <td>{m.username}</td>
                  <td>{m.role}</td>
                  <td className="nowrap">
                    <Time value={m.created_at} />
                  </td>
                </tr>
              ))}
              {members.data?.items.length === 0 && (
                <tr>
                  <td colSpan={3} className="empty">
                    No members.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </section>
      </div>
    </div>
  );
}

function QuotaTable({ lines, withProject, testid }: { lines: QuotaLine[]; withProject?: boolean; testid: string }) {
  const cols = withProject ? 7 : 8;
  return (
    <table className="table" data-testid={testid}>
      <thead>
        <tr>
          {withProject && <th>Project</th>}
          <th>Resource</th>
          <th className="num">Guaranteed</th>
          <th className="num">Burst</th>
          <th className="num">Reserved</th>
          <th className="num">Used</th>
          <th className="num">Borrowed</th>
          {!withProject && <th className="num">Lent</th>}
        </tr>
      </thead>
      <tbody>
        {lines.map((q) => {
          const key = `${q.project ?? ''}:${q.resource}`;
          const over = q.guaranteed !== null && q.reserved > (q.burst ?? q.guaranteed);
          return (
            <tr key={key} data-testid={`quota-${q.project ?? 'tenant'}-${q.resource}`} className={over ? 'row-warn' : undefined}>
              {withProject && <td className="mono">{q.project}</td>}
              <td className="mono">{q.resource}</td>
              <td className="num" data-testid="q-guaranteed">{formatAmount(q.resource, q.guaranteed)}</td>
              <td className="num" data-testid="q-burst">{formatAmount(q.resource, q.burst)}</td>
              <td className="num" data-testid="q-reserved">
                {formatAmount(q.resource, q.reserved)}
                {over && <span className="text-error" title="above the quota: new admissions are blocked"> ▲</span>}
              </td>
              <td className="num">{formatAmount(q.resource, q.used)}</td>
              <td className="num" data-testid="q-borrowed">{formatAmount(q.resource, q.borrowed)}</td>
              {!withProject && <td className="num" data-testid="q-lent">{formatAmount(q.resource, q.lent)}</td>}
            </tr>
          );
        })}
        {lines.length === 0 && (
          <tr>
            <td colSpan={cols} className="empty">
              No quotas.
            </td>
          </tr>
        )}
      </tbody>
    </table>
  );
}

function QuotaEditor({
  slug,
  lines,
  projects,
  onSaved,
}: {
  slug: string;
  lines: QuotaLine[];
  projects: string[];
  onSaved: () => void;
}) {
  const [resource, setResource] = useState('gpu/h100');
  const [project, setProject] = useState('');
  const [guaranteed, setGuaranteed] = useState('');
  const [burst, setBurst] = useState('');
  const [force, setForce] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const [saved, setSaved] = useState<string | null>(null);

  let parsed: { g: number; b?: number } | null = null;
  let parseError: string | null = null;
  if (guaranteed.trim()) {
    try {
      parsed = { g: parseAmount(resource, guaranteed), b: burst.trim() ? parseAmount(resource, burst) : undefined };
    } catch (e) {
      parseError = (e as Error).message;
    }
  }
  const current = lines.find((l) => l.resource === resource && (l.project ?? '') === project);
  const below = parsed ? belowUsage(current, parsed.g, parsed.b) : false;

  async function save() {
    if (!parsed) return;
    setBusy(true);
    setError(null);
    setSaved(null);
    try {
      await setQuota(slug, {
        resource,
        guaranteed: parsed.g,
        ...(parsed.b !== undefined ? { burst: parsed.b } : {}),
        ...(project ? { project } : {}),
        ...(force ? { force: true } : {}),
      });
      setSaved(`${project ? project + ' ' : ''}${resource} set to ${formatAmount(resource, parsed.g)}`);
      setForce(false);
      onSaved();
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form
      className="card quota-editor"
      data-testid="quota-editor"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <h3>Set a quota</h3>
      <div className="inline-form wrap">
        <label className="inline">
          level{' '}
          <select value={project} onChange={(e) => setProject(e.target.value)} data-testid="qe-project">
            <option value="">tenant</option>
            {projects.map((p) => (
              <option key={p} value={p}>
                project {p}
              </option>
            ))}
          </select>
        </label>
        <label className="inline">
          resource <input value={resource} onChange={(e) => setResource(e.target.value.trim())} data-testid="qe-resource" list="qe-resources" />
        </label>
        <datalist id="qe-resources">
          {['gpu/h100', 'gpu/a100', 'gpu/l40s', 'mig/1g.10gb', 'cpu', 'memory', 'storage', 'nodes', 'instances'].map((r) => (
            <option key={r} value={r} />
          ))}
        </datalist>
        <label className="inline">
          guaranteed <input className="narrow" value={guaranteed} onChange={(e) => setGuaranteed(e.target.value)} data-testid="qe-guaranteed" placeholder={resource === 'memory' || resource === 'storage' ? '512GiB' : '8'} />
        </label>
        <label className="inline">
          burst <input className="narrow" value={burst} onChange={(e) => setBurst(e.target.value)} data-testid="qe-burst" placeholder="none" />
        </label>
        <button className="btn btn-primary" type="submit" disabled={busy || !parsed || (below && !force)} data-testid="qe-save">
          Save
        </button>
      </div>
      {parseError && <p className="text-error small" data-testid="qe-parse-error">{parseError}</p>}
      {below && (
        <label className="alert alert-error" data-testid="qe-below">
          <input type="checkbox" checked={force} onChange={(e) => setForce(e.target.checked)} data-testid="qe-force" /> {resource} has{' '}
          {formatAmount(resource, current?.reserved)} reserved, more than the new quota. Accept it anyway: new
          admissions are blocked until usage falls below it; running work is not touched.
        </label>
      )}
      {saved && <div className="alert alert-info" data-testid="qe-saved">{saved}</div>}
      <ErrorBox error={error} testid="qe-error" />
    </form>
  );
}
