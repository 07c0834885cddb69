import { Fragment, useState } from 'react';
import { getImpact, type Ci, type Hop, type ImpactAnswer, type ImpactItem, type ImpactKind } from '../../cmdb-api';
import { ErrorBox } from '../common';
import { CiLink, RefLink, TypeDot } from './shared';

const FIRST = ['service', 'tenant', 'instance', 'server', 'switch', 'k8s_cluster', 'slurm_partition'];

const TITLES: Record<ImpactKind, string> = {
  impact: 'affected if this CI fails',
  'root-cause': 'this CI depends on',
};

/** "What breaks if this fails?" (impact) and "what does this need?" (root cause). */
export function ImpactPanel({ ci }: { ci: Ci }) {
  const [kind, setKind] = useState<ImpactKind | null>(null);
  const [answer, setAnswer] = useState<ImpactAnswer | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);

  async function ask(k: ImpactKind) {
    setKind(k);
    setBusy(true);
    setError(null);
    setAnswer(null);
    try {
      setAnswer(await getImpact(ci.id, k));
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="card impact" data-testid="ci-impact" data-kind={kind ?? ''}>
      <div className="inline-form">
        <button className="btn btn-primary" onClick={() => ask('impact')} disabled={busy} data-testid="ci-impact-run">
          {busy && kind === 'impact' ? 'Analysing…' : 'Impact'}
        </button>
        <button className="btn" onClick={() => ask('root-cause')} disabled={busy} data-testid="ci-rootcause-run">
          {busy && kind === 'root-cause' ? 'Analysing…' : 'Root cause'}
        </button>
        <span className="muted small">
          Impact: everything affected if <strong>{ci.name}</strong> fails or goes into maintenance. Root cause: all the
          infrastructure it depends on.
        </span>
      </div>
      <ErrorBox error={error} testid="ci-impact-error" />
      {answer && kind && <ImpactResult answer={answer} kind={kind} />}
    </div>
  );
}

function ImpactResult({ answer, kind }: { answer: ImpactAnswer; kind: ImpactKind }) {
  const groups = new Map<string, ImpactItem[]>();
  for (const it of answer.items) {
    const g = groups.get(it.ci.type) ?? [];
    g.push(it);
    groups.set(it.ci.type, g);
  }
  // What users care about first (services, tenants, machines), then the largest groups;
  // within a group, nearest first.
  const rank = (t: string) => (FIRST.includes(t) ? FIRST.indexOf(t) : FIRST.length);
  const ordered = [...groups.entries()].sort(
    (a, b) => rank(a[0]) - rank(b[0]) || b[1].length - a[1].length || a[0].localeCompare(b[0]),
  );
  for (const [, items] of ordered) items.sort((a, b) => a.depth - b.depth || a.ci.name.localeCompare(b.ci.name, undefined, { numeric: true }));

  return (
    <div className="impact-result" data-testid="ci-impact-result" data-total={answer.total}>
      <p className="impact-summary">
        <strong data-testid="ci-impact-total">{answer.total}</strong> configuration item{answer.total === 1 ? '' : 's'}{' '}
        {TITLES[kind]}
        {Object.keys(answer.by_type).length > 0 && (
          <span className="muted">
            {': '}
            {Object.entries(answer.by_type)
              .sort((a, b) => b[1] - a[1])
              .map(([t, n]) => `${n} ${t}`)
              .join(', ')}
          </span>
        )}
        {answer.truncated && (
          <span className="badge badge-denied" title="the server stopped at its limit">
            truncated
          </span>
        )}
      </p>
      <dl className="fields">
        <dt>Tenants</dt>
        <dd data-testid="ci-impact-tenants">{answer.tenants.length ? answer.tenants.join(', ') : <span className="muted">none</span>}</dd>
        <dt>Services</dt>
        <dd data-testid="ci-impact-services">{answer.services.length ? answer.services.join(', ') : <span className="muted">none</span>}</dd>
      </dl>
      {ordered.map(([type, items]) => (
        <details key={type} open={items.length <= 50} className="impact-group" data-testid={`impact-group-${type}`}>
          <summary>
            <TypeDot type={type} /> <strong>{type}</strong> <span className="muted">({answer.by_type[type] ?? items.length})</span>
          </summary>
          <ul>
            {items.map((it) => (
              <li key={it.ci.id} data-testid={`impact-item-${it.ci.id}`} data-name={it.ci.name} data-type={it.ci.type}>
                <CiLink ci={it.ci} /> <span className="muted small">depth {it.depth}</span>
                <PathCrumbs path={it.path} />
              </li>
            ))}
          </ul>
        </details>
      ))}
    </div>
  );
}

/** An explanation path as a breadcrumb: leaf-01 › contains → › leaf-01-p1 › ← connected_to › srv-01-eth0 … */
export function PathCrumbs({ path }: { path: Hop[] }) {
  if (path.length === 0) return null;
  return (
    <div className="crumbs" data-testid="impact-path">
      <RefLink label={path[0].from} id={path[0].from_id} short />
      {path.map((h, i) => (
        <Fragment key={i}>
          <span
            className={`hop hop-${h.direction}`}
            title={h.direction === 'forward' ? `${h.from} ${h.relation} ${h.to}` : `${h.to} ${h.relation} ${h.from}`}
          >
            {h.direction === 'forward' ? `${h.relation} →` : `← ${h.relation}`}
          </span>
          <RefLink label={h.to} id={h.to_id} short />
        </Fragment>
      ))}
    </div>
  );
}
