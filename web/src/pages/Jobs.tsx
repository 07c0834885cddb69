import { useEffect, useRef, useState } from 'react';
import { cancelJob, createJob, getJob, isActive, listJobs, type Job, type WhoAmI } from '../api';
import { navigate, usePolling } from '../hooks';
import { formatTime } from '../time';
import { Badge, ErrorBox, Progress, Time } from './common';

const ACTIVE_POLL_MS = 1000;
const IDLE_POLL_MS = 10000;

function canOperate(me: WhoAmI): boolean {
  return me.roles.includes('admin') || me.roles.includes('operator');
}

export function JobsPage({ me, jobId }: { me: WhoAmI; jobId?: string }) {
  return jobId ? <JobDetail me={me} id={jobId} /> : <JobList me={me} />;
}

function JobList({ me }: { me: WhoAmI }) {
  const jobs = usePolling(
    (signal) => listJobs({ limit: 100 }, signal),
    (page) => (page.items.some((j) => isActive(j.state)) ? ACTIVE_POLL_MS : IDLE_POLL_MS),
    [],
  );
  const [seconds, setSeconds] = useState(5);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<Job | null>(null);
  const [actionError, setActionError] = useState<Error | null>(null);

  async function runDemo() {
    setBusy(true);
    setActionError(null);
    try {
      const job = await createJob('demo.sleep', { seconds });
      setCreated(job);
      jobs.reload();
    } catch (e) {
      setActionError(e as Error);
    } finally {
      setBusy(false);
    }
  }

  const items = jobs.data?.items;
  return (
    <div className="page">
      <div className="page-head">
        <h1>Jobs</h1>
        <span className="spacer" />
        {canOperate(me) && (
          <div className="inline-form">
            <label className="inline">
              seconds
              <input
                type="number"
                min={1}
                max={3600}
                value={seconds}
                onChange={(e) => setSeconds(Math.max(1, Number(e.target.value) || 1))}
                data-testid="demo-seconds"
                className="narrow"
              />
            </label>
            <button className="btn btn-primary" onClick={runDemo} disabled={busy} data-testid="run-demo-job">
              Run demo job
            </button>
          </div>
        )}
        <button className="btn" onClick={jobs.reload} data-testid="jobs-refresh">
          Refresh
        </button>
      </div>
      {created && (
        <div className="alert alert-info" data-testid="job-created" data-job-id={created.id}>
          Enqueued job <a href={`#/jobs/${created.id}`}>#{created.id}</a> ({created.type}).
        </div>
      )}
      <ErrorBox error={actionError} testid="jobs-action-error" />
      <ErrorBox error={jobs.error} testid="jobs-error" />
      <table className="table" data-testid="jobs-table">
        <thead>
          <tr>
            <th className="num">ID</th>
            <th>Type</th>
            <th>State</th>
            <th className="col-progress">Progress</th>
            <th>Message</th>
            <th>Created</th>
          </tr>
        </thead>
        <tbody>
          {items?.map((j) => (
            <tr
              key={j.id}
              className="clickable"
              onClick={() => navigate(`jobs/${j.id}`)}
              data-testid={`job-row-${j.id}`}
              data-state={j.state}
            >
              <td className="num">
                <a href={`#/jobs/${j.id}`} onClick={(e) => e.stopPropagation()}>
                  {j.id}
                </a>
              </td>
              <td className="mono">{j.type}</td>
              <td>
                <Badge kind={j.state} testid={`job-state-${j.id}`}>
                  {j.state}
                </Badge>
                {j.cancel_requested && isActive(j.state) && <span className="muted small"> cancelling…</span>}
              </td>
              <td className="col-progress">
                <Progress value={j.progress} testid={`job-progress-${j.id}`} />
              </td>
              <td className="ellipsis" title={j.error ?? j.message}>
                {j.error ? <span className="text-error">{j.error}</span> : j.message}
              </td>
              <td className="nowrap">
                <Time value={j.created_at} />
              </td>
            </tr>
          ))}
          {items && items.length === 0 && (
            <tr>
              <td colSpan={6} className="empty">
                No jobs yet.
              </td>
            </tr>
          )}
          {!items && !jobs.error && (
            <tr>
              <td colSpan={6} className="empty">
                Loading…
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {jobs.data?.next_cursor && <p className="muted small">Showing the newest {items?.length} jobs.</p>}
    </div>
  );
}

function JobDetail({ me, id }: { me: WhoAmI; id: string }) {
  const job = usePolling(
    (signal) => getJob(id, signal),
    (j) => (isActive(j.state) ? ACTIVE_POLL_MS : null),
    [id],
  );
  const [actionError, setActionError] = useState<Error | null>(null);
  const [cancelling, setCancelling] = useState(false);
  const logRef = useRef<HTMLDivElement>(null);
  const j = job.data;

  // Keep the log scrolled to the end while new lines arrive, unless the user scrolled up.
  const lines = j?.log?.length ?? 0;
  useEffect(() => {
    const el = logRef.current;
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 80) el.scrollTop = el.scrollHeight;
  }, [lines]);

  async function cancel() {
    setCancelling(true);
    setActionError(null);
    try {
      await cancelJob(id);
      job.reload();
    } catch (e) {
      setActionError(e as Error);
    } finally {
      setCancelling(false);
    }
  }

  return (
    <div className="page" data-testid="job-detail">
      <div className="page-head">
        <a href="#/jobs" data-testid="job-back">
          ← All jobs
        </a>
      </div>
      <div className="page-head">
        <h1>Job #{id}</h1>
        {j && (
          <Badge kind={j.state} testid="job-detail-state">
            {j.state}
          </Badge>
        )}
        <span className="spacer" />
        {j && isActive(j.state) && canOperate(me) && (
          <button
            className="btn btn-danger"
            onClick={cancel}
            disabled={cancelling || j.cancel_requested}
            data-testid="job-cancel"
          >
            {j.cancel_requested ? 'Cancellation requested' : 'Cancel job'}
          </button>
        )}
      </div>
      <ErrorBox error={actionError} testid="job-action-error" />
      <ErrorBox error={job.error} testid="job-error" />
      {j && (
        <>
          <div className="card">
            <dl className="fields">
              <dt>Type</dt>
              <dd className="mono">{j.type}</dd>
              <dt>Progress</dt>
              <dd>
                <Progress value={j.progress} testid="job-detail-progress" />
              </dd>
              <dt>Message</dt>
              <dd>{j.message || <span className="muted">—</span>}</dd>
              {j.error && (
                <>
                  <dt>Error</dt>
                  <dd className="text-error">{j.error}</dd>
                </>
              )}
              <dt>Attempts</dt>
              <dd>
                {j.attempts} / {j.max_attempts}
              </dd>
              <dt>Created</dt>
              <dd>
                <Time value={j.created_at} />
              </dd>
              <dt>Started</dt>
              <dd>
                <Time value={j.started_at} />
              </dd>
              <dt>Finished</dt>
              <dd>
                <Time value={j.finished_at} />
              </dd>
              <dt>Params</dt>
              <dd>
                <pre className="json">{JSON.stringify(j.params ?? {}, null, 2)}</pre>
              </dd>
              {j.result != null && (
                <>
                  <dt>Result</dt>
                  <dd>
                    <pre className="json">{JSON.stringify(j.result, null, 2)}</pre>
                  </dd>
                </>
              )}
            </dl>
          </div>
          <h2>Log</h2>
          <div className="log" ref={logRef} data-testid="job-log">
            {(j.log ?? []).map((l, i) => (
              <div className="log-line" key={i} data-testid="job-log-line">
                <span className="log-time" title={l.time}>
                  {formatTime(l.time).slice(11)}
                </span>
                <span className="log-text">{l.line}</span>
              </div>
            ))}
            {(j.log ?? []).length === 0 && <div className="muted">No log lines yet.</div>}
          </div>
        </>
      )}
    </div>
  );
}
