import { useState } from 'react';
import type { WhoAmI } from '../../api';
import { CHANGE_STATES, getChange, listChanges, reviewChange, type ChangeImpact, type ChangeRequest } from '../../cmdb-api';
import { navigate, usePolling } from '../../hooks';
import { Badge, ErrorBox, Time } from '../common';
import { CmdbTabs, RefLink } from './shared';

const STATE_KIND: Record<string, string> = { pending: 'running', applied: 'success', rejected: 'denied', failed: 'failure' };

const canReview = (me: WhoAmI) => me.roles.includes('admin') || me.roles.includes('operator');

export function ChangesPage({ me, id }: { me: WhoAmI; id?: string }) {
  return id ? <ChangeDetail me={me} id={id} /> : <ChangeList />;
}

function ImpactSummary({ impact }: { impact: ChangeImpact | null }) {
  if (!impact) return <span className="muted">—</span>;
  const tenants = impact.tenants ?? [];
  const services = impact.services ?? [];
  return (
    <span className="impact-summary-cell">
      <strong>{impact.affected_total ?? 0}</strong> affected
      {tenants.length > 0 && <span className="muted"> · tenants: {tenants.join(', ')}</span>}
      {services.length > 0 && <span className="muted"> · services: {services.join(', ')}</span>}
    </span>
  );
}

function ChangeList() {
  const [state, setState] = useState('');
  const list = usePolling((signal) => listChanges(state, signal), () => 15000, [state]);
  const items = list.data?.items;
  return (
    <div className="page">
      <div className="page-head">
        <h1>CMDB</h1>
        <CmdbTabs active="changes" />
        <span className="spacer" />
        <label className="inline">
          State
          <select value={state} onChange={(e) => setState(e.target.value)} data-testid="changes-filter-state">
            <option value="">any</option>
            {CHANGE_STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <button className="btn" onClick={list.reload} data-testid="changes-refresh">
          Refresh
        </button>
      </div>
      <ErrorBox error={list.error} testid="changes-error" />
      <table className="table" data-testid="cmdb-changes">
        <thead>
          <tr>
            <th className="num">ID</th>
            <th>State</th>
            <th>Title</th>
            <th>Author</th>
            <th>Impact</th>
            <th>Created</th>
          </tr>
        </thead>
        <tbody>
          {items?.map((c) => (
            <tr
              key={c.id}
              className="clickable"
              onClick={() => navigate(`cmdb/changes/${c.id}`)}
              data-testid={`change-row-${c.id}`}
              data-state={c.state}
            >
              <td className="num">
                <a href={`#/cmdb/changes/${c.id}`} onClick={(e) => e.stopPropagation()}>
                  {c.id}
                </a>
              </td>
              <td>
                <Badge kind={STATE_KIND[c.state] ?? 'muted'}>{c.state}</Badge>
              </td>
              <td>{c.title}</td>
              <td>{c.created_by}</td>
              <td>
                <ImpactSummary impact={c.impact} />
              </td>
              <td className="nowrap">
                <Time value={c.created_at} />
              </td>
            </tr>
          ))}
          {items && items.length === 0 && (
            <tr>
              <td colSpan={6} className="empty">
                No change requests{state ? ` in state ${state}` : ''}.
              </td>
            </tr>
          )}
          {!items && !list.error && (
            <tr>
              <td colSpan={6} className="empty">
                Loading…
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

function ChangeDetail({ me, id }: { me: WhoAmI; id: string }) {
  const cr = usePolling((signal) => getChange(id, signal), () => null, [id]);
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const c = cr.data && String(cr.data.id) === id ? cr.data : undefined;

  async function review(verdict: 'approve' | 'reject') {
    setBusy(true);
    setError(null);
    try {
      await reviewChange(id, verdict, comment);
      setComment('');
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
      cr.reload(); // a failed apply changes the state too
    }
  }

  return (
    <div className="page" data-testid="change-detail">
      <div className="page-head">
        <a href="#/cmdb/changes" data-testid="change-back">
          ← All change requests
        </a>
      </div>
      <div className="page-head">
        <h1>
          Change request #{id}
          {c && <>: {c.title}</>}
        </h1>
        {c && (
          <Badge kind={STATE_KIND[c.state] ?? 'muted'} testid="change-state">
            {c.state}
          </Badge>
        )}
      </div>
      <ErrorBox error={cr.error} />
      {c && (
        <>
          <div className="card">
            <ChangeFields c={c} />
          </div>
          {c.state === 'pending' && canReview(me) && (
            <div className="card review">
              <label>
                Review comment
                <textarea
                  value={comment}
                  onChange={(e) => setComment(e.target.value)}
                  rows={2}
                  data-testid="change-comment"
                  placeholder="optional"
                />
              </label>
              <div className="inline-form">
                <button className="btn btn-primary" onClick={() => review('approve')} disabled={busy} data-testid="change-approve">
                  Approve and apply
                </button>
                <button className="btn btn-danger" onClick={() => review('reject')} disabled={busy} data-testid="change-reject">
                  Reject
                </button>
                {c.created_by === me.username && (
                  <span className="muted small">You proposed this change: someone else has to approve it.</span>
                )}
              </div>
            </div>
          )}
          <ErrorBox error={error} testid="change-error" />
        </>
      )}
    </div>
  );
}

function ChangeFields({ c }: { c: ChangeRequest }) {
  const impact = c.impact;
  return (
    <dl className="fields">
      <dt>Author</dt>
      <dd data-testid="change-author">{c.created_by}</dd>
      <dt>Created</dt>
      <dd>
        <Time value={c.created_at} />
      </dd>
      {c.description && (
        <>
          <dt>Description</dt>
          <dd className="prewrap">{c.description}</dd>
        </>
      )}
      {c.reviewed_by && (
        <>
          <dt>Reviewed by</dt>
          <dd data-testid="change-reviewer">
            {c.reviewed_by}
            {c.review_comment && <span className="muted"> — “{c.review_comment}”</span>}
          </dd>
        </>
      )}
      {c.applied_at && (
        <>
          <dt>Applied</dt>
          <dd>
            <Time value={c.applied_at} />
          </dd>
        </>
      )}
      <dt>Impact</dt>
      <dd data-testid="change-impact">
        <ImpactSummary impact={impact} />
        {impact?.affected_by_type && Object.keys(impact.affected_by_type).length > 0 && (
          <div className="muted small">
            {Object.entries(impact.affected_by_type)
              .map(([t, n]) => `${n} ${t}`)
              .join(', ')}
          </div>
        )}
        {(impact?.touched ?? []).length > 0 && (
          <ul className="touched">
            {impact!.touched!.map((t, i) => (
              <li key={i}>
                <span className="mono">{t.op}</span> <RefLink label={t.ci} />{' '}
                <span className="muted">→ {t.affected} affected</span>
              </li>
            ))}
          </ul>
        )}
      </dd>
      <dt>Edits</dt>
      <dd>
        <pre className="json" data-testid="change-edits">
          {JSON.stringify(c.edits, null, 2)}
        </pre>
      </dd>
    </dl>
  );
}
