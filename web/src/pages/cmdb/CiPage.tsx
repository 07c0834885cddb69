import { useMemo } from 'react';
import { formatValue, getCi, getHistory, getRelations, type Ci, type CiType } from '../../cmdb-api';
import { relationOf } from '../../cmdb-diff';
import { usePolling } from '../../hooks';
import { ErrorBox, Time } from '../common';
import { ContextBox } from './ContextBox';
import { NeighbourhoodGraph } from './Graph';
import { HistoryList } from './History';
import { ImpactPanel } from './Impact';
import { PathFinder } from './PathFinder';
import { RelationsTable } from './Relations';
import { lastSearch, StatusBadge, TypeDot, useCiTypes, useRelatedCis } from './shared';

const once = () => null; // usePolling without the polling

/** `#/cmdb/ci/<ref>`: one configuration item. */
export function CiPage({ ciRef }: { ciRef: string }) {
  const ci = usePolling((signal) => getCi(ciRef, signal), once, [ciRef]);
  // usePolling keeps the last answer: never show another CI under this URL.
  const c = ci.data && refersTo(ci.data, ciRef) ? ci.data : undefined;
  return (
    <div className="page" data-testid="ci-page">
      <div className="page-head">
        <a href={lastSearch()} data-testid="ci-back">
          ← CMDB search
        </a>
      </div>
      <ErrorBox error={ci.error} testid="ci-error" />
      {!c && !ci.error && <p className="muted">Loading…</p>}
      {c && <CiBody key={c.id} ci={c} />}
    </div>
  );
}

/** Whether `ref` (an id, "type/name" or a bare name) names `ci`. */
function refersTo(ci: Ci, ref: string): boolean {
  return ref === String(ci.id) || ref === `${ci.type}/${ci.name}` || ref === ci.name;
}

function CiBody({ ci }: { ci: Ci }) {
  const types = useCiTypes();
  const rels = usePolling((signal) => getRelations(ci.id, signal), once, [ci.id, ci.version]);
  const hist = usePolling((signal) => getHistory(ci.id, 100, signal), once, [ci.id, ci.version]);

  // Names for the other ends of relationships, current and past.
  const extra = useMemo(() => {
    const ids: number[] = [];
    for (const r of rels.data?.items ?? []) ids.push(r.from_id === ci.id ? r.to_id : r.from_id);
    for (const h of hist.data?.items ?? []) {
      const r = relationOf(h);
      if (r) ids.push(r.from_id === ci.id ? r.to_id : r.from_id);
    }
    return ids;
  }, [rels.data, hist.data, ci.id]);
  const related = useRelatedCis(ci.id, extra);
  const type = types?.find((t) => t.name === ci.type);

  return (
    <>
      <header className="ci-header" data-testid="ci-header" data-type={ci.type} data-name={ci.name}>
        <div className="ci-title">
          <span className="type-chip">
            <TypeDot type={ci.type} /> {ci.type}
          </span>
          <h1>{ci.name}</h1>
          <StatusBadge ci={ci} testid="ci-status" />
        </div>
        <dl className="ci-meta">
          <dt>Tenant</dt>
          <dd data-testid="ci-tenant">{ci.tenant ?? <span className="muted">none</span>}</dd>
          <dt>Version</dt>
          <dd data-testid="ci-version">{ci.version}</dd>
          <dt>ID</dt>
          <dd>{ci.id}</dd>
          <dt>Updated</dt>
          <dd>
            <Time value={ci.updated_at} />
          </dd>
          {ci.last_seen_at && (
            <>
              <dt>Last seen</dt>
              <dd>
                <Time value={ci.last_seen_at} />
              </dd>
            </>
          )}
        </dl>
      </header>

      <div className="ci-grid">
        <section>
          <h2>Attributes</h2>
          <Attributes ci={ci} type={type} />
        </section>
        <section>
          <h2>Context</h2>
          <ContextBox ci={ci} />
        </section>
      </div>

      <h2>Relationships</h2>
      <ErrorBox error={rels.error} />
      <RelationsTable ci={ci} relations={rels.data?.items} related={related} />

      <h2>Impact</h2>
      <ImpactPanel ci={ci} />

      <h2>Path</h2>
      <PathFinder ci={ci} />

      <h2>Neighbourhood</h2>
      <NeighbourhoodGraph ci={ci} />

      <h2>History</h2>
      <ErrorBox error={hist.error} />
      <HistoryList ci={ci} entries={hist.data?.items} related={related} />
    </>
  );
}

function Attributes({ ci, type }: { ci: Ci; type: CiType | undefined }) {
  const names = Object.keys(ci.attributes ?? {});
  // Defined attributes in schema order first, then any others.
  const order = type?.attributes.map((a) => a.name) ?? [];
  names.sort((a, b) => {
    const i = order.indexOf(a);
    const j = order.indexOf(b);
    return (i < 0 ? 1e9 : i) - (j < 0 ? 1e9 : j) || a.localeCompare(b);
  });
  return (
    <table className="table table-compact" data-testid="ci-attributes">
      <tbody>
        {names.map((k) => {
          const def = type?.attributes.find((a) => a.name === k);
          return (
            <tr key={k} data-testid={`ci-attr-${k}`}>
              <th scope="row" className="attr-name" title={def?.description}>
                {k}
              </th>
              <td className="mono">{formatValue(ci.attributes[k])}</td>
              <td className="muted small">{def?.type}</td>
            </tr>
          );
        })}
        {names.length === 0 && (
          <tr>
            <td colSpan={3} className="empty">
              No attributes set.
            </td>
          </tr>
        )}
      </tbody>
    </table>
  );
}
