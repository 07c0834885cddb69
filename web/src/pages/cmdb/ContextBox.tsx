import { Fragment } from 'react';
import { getContext, type Ci, type LocationStep } from '../../cmdb-api';
import { usePolling } from '../../hooks';
import { ErrorBox } from '../common';
import { ciHref, CiLink, TypeDot } from './shared';

const RANK: Record<string, number> = { site: 0, room: 1, row: 2, rack: 3 };

/** Site › room › row › rack, whichever order the server lists them in. */
export function sortLocation(steps: LocationStep[]): LocationStep[] {
  return steps
    .map((s, i) => ({ s, i }))
    .sort((a, b) => (RANK[a.s.type] ?? 9) - (RANK[b.s.type] ?? 9) || a.i - b.i)
    .map((x) => x.s);
}

/** Where the CI is, who owns it, what runs on it and how much depends on it. */
export function ContextBox({ ci }: { ci: Ci }) {
  const ctx = usePolling((signal) => getContext(ci.id, signal), () => null, [ci.id, ci.version]);
  const c = ctx.data;
  return (
    <div className="card context" data-testid="ci-context">
      <ErrorBox error={ctx.error} />
      {!c && !ctx.error && <span className="muted">Loading…</span>}
      {c && (
        <dl className="fields">
          <dt>Location</dt>
          <dd data-testid="ci-location">
            {c.location.length === 0 && <span className="muted">unknown</span>}
            {sortLocation(c.location).map((s, i) => (
              <Fragment key={`${s.type}/${s.name}`}>
                {i > 0 && <span className="crumb-sep"> › </span>}
                <a href={ciHref(s.id ?? `${s.type}/${s.name}`)} title={s.type} className="ci-link">
                  <TypeDot type={s.type} />
                  {s.name}
                </a>
                {s.position_u != null && <span className="mono"> U{s.position_u}</span>}
              </Fragment>
            ))}
          </dd>
          {c.container && (
            <>
              <dt>Inside</dt>
              <dd data-testid="ci-container">
                <CiLink ci={c.container} />
              </dd>
            </>
          )}
          <dt>Tenant</dt>
          <dd data-testid="ci-context-tenant">{c.tenant ?? <span className="muted">none</span>}</dd>
          <dt>Services</dt>
          <dd data-testid="ci-context-services">
            {c.services.length === 0 && <span className="muted">none</span>}
            {c.services.map((s, i) => (
              <Fragment key={s.id}>
                {i > 0 && ', '}
                <CiLink ci={s} />
              </Fragment>
            ))}
          </dd>
          <dt>Dependents</dt>
          <dd data-testid="ci-context-dependents">
            {c.dependents.total}
            {c.dependents.truncated && '+'}
            {Object.keys(c.dependents.by_type).length > 0 && (
              <span className="muted">
                {' '}
                ({Object.entries(c.dependents.by_type)
                  .map(([t, n]) => `${n} ${t}`)
                  .join(', ')})
              </span>
            )}
          </dd>
        </dl>
      )}
    </div>
  );
}
