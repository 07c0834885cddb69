import type { Ci, HistoryEntry } from '../../cmdb-api';
import { diffCi, relationOf, showValue } from '../../cmdb-diff';
import { Badge, Time } from '../common';
import { CiLink, RefLink } from './shared';

const OP_KIND: Record<string, string> = {
  'ci.create': 'success',
  'ci.update': 'running',
  'ci.delete': 'failure',
  'relation.create': 'muted',
  'relation.delete': 'denied',
};

/** The CI's history, newest first: who, when, what. */
export function HistoryList({
  ci,
  entries,
  related,
}: {
  ci: Ci;
  entries: HistoryEntry[] | undefined;
  related: Map<number, Ci>;
}) {
  if (!entries) return <p className="muted">Loading…</p>;
  return (
    <ol className="history" data-testid="ci-history">
      {entries.map((e) => (
        <li key={e.id} data-testid={`ci-history-${e.id}`} data-op={e.op}>
          <div className="history-head">
            <Time value={e.time} />
            <span className="history-actor">{e.actor}</span>
            <Badge kind={OP_KIND[e.op] ?? 'muted'}>{e.op}</Badge>
            {e.version != null && <span className="muted small">v{e.version}</span>}
            {e.change_request_id != null && (
              <a className="small" href={`#/cmdb/changes/${e.change_request_id}`}>
                change request #{e.change_request_id}
              </a>
            )}
          </div>
          <HistoryWhat ci={ci} e={e} related={related} />
        </li>
      ))}
      {entries.length === 0 && <li className="muted">No history.</li>}
    </ol>
  );
}

function HistoryWhat({ ci, e, related }: { ci: Ci; e: HistoryEntry; related: Map<number, Ci> }) {
  if (e.op.startsWith('relation.')) {
    const r = relationOf(e);
    if (!r) return null;
    const out = r.from_id === ci.id;
    const otherId = out ? r.to_id : r.from_id;
    const other = related.get(otherId);
    return (
      <div className="history-what">
        {e.op === 'relation.delete' ? 'removed ' : 'added '}
        <span className="mono">{out ? `${r.type} →` : `← ${r.type}`}</span>{' '}
        {other ? (
          <CiLink ci={other} />
        ) : (out ? r.to : r.from) ? (
          <RefLink label={(out ? r.to : r.from)!} />
        ) : (
          <span className="muted">#{otherId}</span>
        )}
      </div>
    );
  }
  if (e.op === 'ci.delete') return <div className="history-what">deleted</div>;
  const changes = diffCi(e.before, e.after);
  if (changes.length === 0) return null;
  return (
    <ul className="history-fields">
      {changes.map((c) => (
        <li key={c.field}>
          <span className="mono">{c.field}</span>:{' '}
          {c.from !== undefined && (
            <>
              <del>{showValue(c.from)}</del> →{' '}
            </>
          )}
          <ins>{showValue(c.to)}</ins>
        </li>
      ))}
    </ul>
  );
}
