// Monitoring: incidents (grouped from Alertmanager alerts, with CMDB context) and the peers'
// status. #/monitoring lists incidents; #/monitoring/incidents/ID shows one with its alerts and
// timeline, and lets operators acknowledge, annotate and resolve it.
import { useState } from 'react';
import type { WhoAmI } from '../api';
import { navigate, usePolling } from '../hooks';
import {
  ackIncident,
  getIncident,
  listIncidents,
  locationText,
  noteIncident,
  peerStatus,
  queryRange,
  resolveIncident,
  sparkline,
  severityKind,
  type Incident,
  type IncidentState,
} from '../monitoring-api';
import { Badge, ErrorBox, Time } from './common';

const POLL_MS = 5000;

function canOperate(me: WhoAmI): boolean {
  return me.roles.includes('admin') || me.roles.includes('operator');
}

export function MonitoringPage({ me, route }: { me: WhoAmI; route: string[] }) {
  if (route[0] === 'incidents' && route[1]) return <IncidentDetail me={me} id={route[1]} />;
  return <IncidentList />;
}

function Peers() {
  const st = usePolling((signal) => peerStatus(signal), () => 30000, []);
  if (!st.data) return null;
  const kind = (s: string) => (s === 'ok' ? 'succeeded' : s === 'not configured' ? 'muted' : 'failed');
  return (
    <p className="small" data-testid="monitoring-peers">
      Prometheus <Badge kind={kind(st.data.prometheus)}>{st.data.prometheus}</Badge> · Alertmanager{' '}
      <Badge kind={kind(st.data.alertmanager)}>{st.data.alertmanager}</Badge>
    </p>
  );
}

// Average GPU utilisation per node over the last hour, from Prometheus through Gantry's
// tenant-safe query API (a tenant user sees their own nodes only).
function GpuUtilisation() {
  const q = usePolling(
    (signal) => queryRange('avg by (Hostname) (DCGM_FI_DEV_GPU_UTIL)', 3600, 60, signal),
    () => 60000,
    [],
  );
  if (q.error) return <p className="muted small" data-testid="gpu-util-unavailable">GPU utilisation: {q.error.message}</p>;
  if (!q.data) return null;
  return (
    <div data-testid="gpu-util">
      <h2>GPU utilisation, last hour</h2>
      {q.data.length === 0 && <p className="muted small">No GPU series.</p>}
      <table className="table">
        <tbody>
          {q.data.slice(0, 50).map((s) => {
            const last = s.values.length ? Number(s.values[s.values.length - 1][1]) : 0;
            return (
              <tr key={s.metric.Hostname ?? JSON.stringify(s.metric)}>
                <td className="mono">{s.metric.Hostname ?? '—'}</td>
                <td>
                  <svg width="240" height="24" role="img" aria-label={`GPU utilisation of ${s.metric.Hostname}`}>
                    <polyline fill="none" stroke="currentColor" strokeWidth="1.5" points={sparkline(s.values, 240, 24)} />
                  </svg>
                </td>
                <td className="num">{last.toFixed(0)}%</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function IncidentList() {
  const [state, setState] = useState<IncidentState | ''>('');
  const list = usePolling((signal) => listIncidents(state, signal), () => POLL_MS, [state]);
  const items = list.data?.items;
  return (
    <div className="page">
      <div className="page-head">
        <h1>Incidents</h1>
        <span className="spacer" />
        <label className="inline">
          state
          <select value={state} onChange={(e) => setState(e.target.value as IncidentState | '')} data-testid="incident-state-filter">
            <option value="">all</option>
            <option value="open">open</option>
            <option value="acknowledged">acknowledged</option>
            <option value="resolved">resolved</option>
          </select>
        </label>
        <button className="btn" onClick={list.reload}>
          Refresh
        </button>
      </div>
      <Peers />
      <GpuUtilisation />
      <ErrorBox error={list.error} testid="incidents-error" />
      <table className="table" data-testid="incidents-table">
        <thead>
          <tr>
            <th className="num">ID</th>
            <th>State</th>
            <th>Severity</th>
            <th>Title</th>
            <th>CI</th>
            <th>Location</th>
            <th>Tenant</th>
            <th className="num">Firing</th>
            <th>Opened</th>
          </tr>
        </thead>
        <tbody>
          {items?.map((i) => (
            <tr key={i.id} className="clickable" onClick={() => navigate(`monitoring/incidents/${i.id}`)} data-testid={`incident-row-${i.id}`}>
              <td className="num">
                <a href={`#/monitoring/incidents/${i.id}`} onClick={(e) => e.stopPropagation()}>
                  {i.id}
                </a>
              </td>
              <td>
                <Badge kind={i.state === 'resolved' ? 'succeeded' : i.state === 'open' ? 'failed' : 'running'}>{i.state}</Badge>
              </td>
              <td>
                <Badge kind={severityKind(i.severity)}>{i.severity || '—'}</Badge>
              </td>
              <td className="ellipsis" title={i.title}>
                {i.title}
              </td>
              <td className="mono">{i.unmapped ? <span className="muted">unmapped</span> : i.ci}</td>
              <td>{locationText(i.context)}</td>
              <td>{i.tenant ?? '—'}</td>
              <td className="num">
                {i.firing}/{i.alerts}
              </td>
              <td className="nowrap">
                <Time value={i.opened_at} />
              </td>
            </tr>
          ))}
          {items && items.length === 0 && (
            <tr>
              <td colSpan={9} className="empty">
                No incidents.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

function IncidentDetail({ me, id }: { me: WhoAmI; id: string }) {
  const inc = usePolling((signal) => getIncident(id, signal), () => POLL_MS, [id]);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<Error | null>(null);
  const i: Incident | undefined = inc.data;

  async function act(f: () => Promise<unknown>) {
    setBusy(true);
    setActionError(null);
    try {
      await f();
      setNote('');
      inc.reload();
    } catch (e) {
      setActionError(e as Error);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="page">
      <p className="small">
        <a href="#/monitoring">← Incidents</a>
      </p>
      <ErrorBox error={inc.error} testid="incident-error" />
      {i && (
        <>
          <div className="page-head">
            <h1 data-testid="incident-title">
              #{i.id} {i.title}
            </h1>
          </div>
          <dl className="fields" data-testid="incident-fields">
            <dt>State</dt>
            <dd data-testid="incident-state">{i.state}</dd>
            <dt>Severity</dt>
            <dd>{i.severity || '—'}</dd>
            <dt>CI</dt>
            <dd className="mono">{i.unmapped ? 'unmapped (no label matched a CI)' : i.ci}</dd>
            <dt>Location</dt>
            <dd data-testid="incident-location">{locationText(i.context)}</dd>
            <dt>Tenant</dt>
            <dd>{i.tenant ?? '—'}</dd>
            <dt>Services</dt>
            <dd>{i.context.services?.map((s) => `${s.type}/${s.name}`).join(', ') || '—'}</dd>
            <dt>Dependents</dt>
            <dd>{i.context.dependents?.total ?? '—'}</dd>
            <dt>Assignee</dt>
            <dd>{i.assignee ?? '—'}</dd>
            <dt>Opened</dt>
            <dd>
              <Time value={i.opened_at} />
            </dd>
          </dl>
          {canOperate(me) && i.state !== 'resolved' && (
            <div className="inline-form">
              <input placeholder="note" value={note} onChange={(e) => setNote(e.target.value)} data-testid="incident-note" />
              {i.state === 'open' && (
                <button className="btn btn-primary" disabled={busy} onClick={() => act(() => ackIncident(i.id, note || undefined))} data-testid="incident-ack">
                  Acknowledge
                </button>
              )}
              <button className="btn" disabled={busy || !note} onClick={() => act(() => noteIncident(i.id, note))}>
                Add note
              </button>
              <button className="btn" disabled={busy} onClick={() => act(() => resolveIncident(i.id, note || undefined))} data-testid="incident-resolve">
                Resolve
              </button>
            </div>
          )}
          <ErrorBox error={actionError} />
          <h2>Alerts</h2>
          <table className="table" data-testid="incident-alerts">
            <thead>
              <tr>
                <th>Status</th>
                <th>Alert</th>
                <th>CI</th>
                <th>Matched by</th>
                <th>Summary</th>
                <th>Starts</th>
              </tr>
            </thead>
            <tbody>
              {i.alert_list?.map((a) => (
                <tr key={a.id}>
                  <td>{a.status}</td>
                  <td className="mono">{a.alertname}</td>
                  <td className="mono">{a.ci || '—'}</td>
                  <td>{a.matched_by || '—'}</td>
                  <td className="ellipsis">{a.annotations.summary ?? ''}</td>
                  <td className="nowrap">
                    <Time value={a.starts_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Timeline</h2>
          <table className="table" data-testid="incident-timeline">
            <tbody>
              {i.timeline?.map((t) => (
                <tr key={t.id}>
                  <td className="nowrap">
                    <Time value={t.at} />
                  </td>
                  <td>{t.actor}</td>
                  <td>{t.kind}</td>
                  <td>{t.text}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}
