import { Fragment, useEffect, useRef, useState, type FormEvent } from 'react';
import { listAuditEvents, verifyAudit, type AuditEvent, type AuditFilter, type AuditResult, type AuditVerify } from '../api';
import { localInputToRfc3339 } from '../time';
import { Badge, ErrorBox, Time } from './common';

const PAGE_SIZE = 50;

interface Form {
  actor: string;
  action: string;
  target: string;
  result: AuditResult | '';
  since: string; // datetime-local value
  until: string;
}

const EMPTY: Form = { actor: '', action: '', target: '', result: '', since: '', until: '' };

function toFilter(f: Form): AuditFilter {
  return {
    actor: f.actor.trim(),
    action: f.action.trim(),
    target: f.target.trim(),
    result: f.result,
    since: localInputToRfc3339(f.since),
    until: localInputToRfc3339(f.until),
  };
}

export function AuditPage() {
  const [form, setForm] = useState<Form>(EMPTY);
  const [applied, setApplied] = useState<AuditFilter>({});
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const [expanded, setExpanded] = useState<number | null>(null);
  const [verify, setVerify] = useState<AuditVerify | null>(null);
  const [verifying, setVerifying] = useState(false);
  const [verifyError, setVerifyError] = useState<Error | null>(null);

  const generation = useRef(0); // answers to superseded requests are dropped

  async function load(filter: AuditFilter, after: string | null) {
    const gen = ++generation.current;
    setBusy(true);
    setError(null);
    try {
      const page = await listAuditEvents({ ...filter, limit: PAGE_SIZE, cursor: after });
      if (gen !== generation.current) return;
      setEvents((prev) => (after && prev ? [...prev, ...page.items] : page.items));
      setCursor(page.next_cursor);
    } catch (e) {
      if (gen === generation.current) setError(e as Error);
    } finally {
      if (gen === generation.current) setBusy(false);
    }
  }

  function search(e?: FormEvent) {
    e?.preventDefault();
    let filter: AuditFilter;
    try {
      filter = toFilter(form);
    } catch (err) {
      setError(err as Error);
      return;
    }
    setApplied(filter);
    setExpanded(null);
    void load(filter, null);
  }

  useEffect(() => {
    void load({}, null);
  }, []);

  async function runVerify() {
    setVerifying(true);
    setVerifyError(null);
    setVerify(null);
    try {
      setVerify(await verifyAudit());
    } catch (e) {
      setVerifyError(e as Error);
    } finally {
      setVerifying(false);
    }
  }

  const set = (k: keyof Form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });

  return (
    <div className="page">
      <div className="page-head">
        <h1>Audit log</h1>
        <span className="spacer" />
        <button className="btn" onClick={runVerify} disabled={verifying} data-testid="audit-verify">
          {verifying ? 'Verifying…' : 'Verify chain'}
        </button>
      </div>
      {verify && (
        <div
          className={`alert ${verify.ok ? 'alert-ok' : 'alert-error'}`}
          data-testid="audit-verify-result"
          data-ok={String(verify.ok)}
        >
          {verify.ok ? (
            <>
              <strong>Hash chain OK</strong> — {verify.events} events, {verify.checkpoints} checkpoints verified.
            </>
          ) : (
            <>
              <strong>Hash chain BROKEN</strong>
              {verify.first_bad_seq != null && <> at seq {verify.first_bad_seq}</>}
              {verify.problem && <>: {verify.problem}</>} ({verify.events} events, {verify.checkpoints} checkpoints).
            </>
          )}
        </div>
      )}
      <ErrorBox error={verifyError} testid="audit-verify-error" />

      <form className="card filters" onSubmit={search} data-testid="audit-filters">
        <label>
          Actor
          <input value={form.actor} onChange={set('actor')} placeholder="username" data-testid="audit-filter-actor" />
        </label>
        <label>
          Action
          <input value={form.action} onChange={set('action')} placeholder="e.g. user.*" data-testid="audit-filter-action" />
        </label>
        <label>
          Target
          <input value={form.target} onChange={set('target')} data-testid="audit-filter-target" />
        </label>
        <label>
          Result
          <select value={form.result} onChange={set('result')} data-testid="audit-filter-result">
            <option value="">any</option>
            <option value="success">success</option>
            <option value="denied">denied</option>
            <option value="failure">failure</option>
          </select>
        </label>
        <label>
          Since
          <input type="datetime-local" step={1} value={form.since} onChange={set('since')} data-testid="audit-filter-since" />
        </label>
        <label>
          Until
          <input type="datetime-local" step={1} value={form.until} onChange={set('until')} data-testid="audit-filter-until" />
        </label>
        <div className="filter-buttons">
          <button className="btn btn-primary" type="submit" disabled={busy} data-testid="audit-search">
            Search
          </button>
          <button
            className="btn"
            type="button"
            onClick={() => setForm(EMPTY)}
            data-testid="audit-reset"
          >
            Clear
          </button>
        </div>
      </form>

      <ErrorBox error={error} testid="audit-error" />
      <table className="table" data-testid="audit-table">
        <thead>
          <tr>
            <th className="num">Seq</th>
            <th>Time</th>
            <th>Actor</th>
            <th>Source IP</th>
            <th>Action</th>
            <th>Target</th>
            <th>Result</th>
            <th>Request ID</th>
          </tr>
        </thead>
        <tbody>
          {events?.map((ev) => (
            <Fragment key={ev.seq}>
              <tr
                className="clickable"
                onClick={() => setExpanded(expanded === ev.seq ? null : ev.seq)}
                data-testid={`audit-row-${ev.seq}`}
                data-result={ev.result}
                data-action={ev.action}
              >
                <td className="num">{ev.seq}</td>
                <td className="nowrap">
                  <Time value={ev.time} />
                </td>
                <td>{ev.actor}</td>
                <td className="mono">{ev.source_ip}</td>
                <td className="mono">{ev.action}</td>
                <td>
                  {ev.target_type && <span className="muted">{ev.target_type}/</span>}
                  {ev.target}
                </td>
                <td>
                  <Badge kind={ev.result} testid={`audit-result-${ev.seq}`}>
                    {ev.result}
                  </Badge>
                </td>
                <td className="mono small ellipsis" title={ev.request_id}>
                  {ev.request_id}
                </td>
              </tr>
              {expanded === ev.seq && (
                <tr className="details-row" data-testid={`audit-details-${ev.seq}`}>
                  <td colSpan={8}>
                    <dl className="fields">
                      {ev.tenant && (
                        <>
                          <dt>Tenant</dt>
                          <dd>{ev.tenant}</dd>
                        </>
                      )}
                      <dt>User agent</dt>
                      <dd className="mono small">{ev.user_agent || '—'}</dd>
                      <dt>Hash</dt>
                      <dd className="mono small">{ev.hash}</dd>
                      <dt>Details</dt>
                      <dd>
                        <pre className="json">{JSON.stringify(ev.details ?? {}, null, 2)}</pre>
                      </dd>
                    </dl>
                  </td>
                </tr>
              )}
            </Fragment>
          ))}
          {events && events.length === 0 && (
            <tr>
              <td colSpan={8} className="empty">
                No events match.
              </td>
            </tr>
          )}
          {!events && !error && (
            <tr>
              <td colSpan={8} className="empty">
                Loading…
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <div className="table-foot">
        {events && <span className="muted small">{events.length} events shown</span>}
        <span className="spacer" />
        {cursor && (
          <button className="btn" onClick={() => load(applied, cursor)} disabled={busy} data-testid="audit-load-more">
            {busy ? 'Loading…' : 'Load more'}
          </button>
        )}
      </div>
    </div>
  );
}
