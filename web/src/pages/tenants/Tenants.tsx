// Tenants: the list (with the engines' sync status for operators), and one tenant's page with
// its projects, members, quotas (guaranteed, burst, reserved, used, borrowed, lent), usage over
// time and — for admins — the quota editor with the explicit "below current usage" flag.
import type { WhoAmI } from '../../api';
import { navigate, usePolling } from '../../hooks';
import { listTenants, syncStatus } from '../../tenancy-api';
import { Badge, ErrorBox, Time } from '../common';
import { TenantDetail } from './TenantDetail';

export function isAdmin(me: WhoAmI): boolean {
  return me.roles.includes('admin');
}

function seesAll(me: WhoAmI): boolean {
  return ['admin', 'operator', 'auditor', 'viewer'].some((r) => me.roles.includes(r));
}

export function TenantsPage({ me, route }: { me: WhoAmI; route: string[] }) {
  return route[0] ? <TenantDetail me={me} slug={route[0]} /> : <TenantList me={me} />;
}

function TenantList({ me }: { me: WhoAmI }) {
  const tenants = usePolling((signal) => listTenants(signal), () => 30000, []);
  const items = tenants.data?.items;
  return (
    <div className="page">
      <div className="page-head">
        <h1>Tenants</h1>
        <span className="spacer" />
        <button className="btn" onClick={tenants.reload} data-testid="tenants-refresh">
          Refresh
        </button>
      </div>
      <ErrorBox error={tenants.error} testid="tenants-error" />
      <table className="table" data-testid="tenants-table">
        <thead>
          <tr>
            <th>Tenant</th>
            <th>Name</th>
            <th>Cohort</th>
            <th>State</th>
            <th>Created</th>
          </tr>
        </thead>
        <tbody>
          {items?.map((t) => (
            <tr key={t.id} className="clickable" onClick={() => navigate(`tenants/${encodeURIComponent(t.slug)}`)} data-testid={`tenant-row-${t.slug}`}>
              <td className="mono">
                <a href={`#/tenants/${encodeURIComponent(t.slug)}`} onClick={(e) => e.stopPropagation()}>
                  {t.slug}
                </a>
              </td>
              <td>{t.name}</td>
              <td>{t.cohort ?? <span className="muted">—</span>}</td>
              <td>{t.disabled ? <Badge kind="failed">disabled</Badge> : <Badge kind="succeeded">active</Badge>}</td>
              <td className="nowrap">
                <Time value={t.created_at} />
              </td>
            </tr>
          ))}
          {items && items.length === 0 && (
            <tr>
              <td colSpan={5} className="empty">
                No tenants you may see.
              </td>
            </tr>
          )}
          {!items && !tenants.error && (
            <tr>
              <td colSpan={5} className="empty">
                Loading…
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {seesAll(me) && <SyncPanel />}
    </div>
  );
}

const SYNC_KIND: Record<string, string> = { in_sync: 'succeeded', failing: 'failed', drift: 'cancelled', pending: 'running', never: 'queued' };

function SyncPanel() {
  const sync = usePolling((signal) => syncStatus(signal), () => 15000, []);
  return (
    <section className="card" data-testid="sync-panel">
      <h2>Enforcement in the engines</h2>
      <ErrorBox error={sync.error} testid="sync-error" />
      <table className="table">
        <thead>
          <tr>
            <th>Engine</th>
            <th>Configured</th>
            <th>State</th>
            <th>Last sync</th>
            <th>Reason</th>
          </tr>
        </thead>
        <tbody>
          {sync.data?.items.map((e) => (
            <tr key={e.engine} data-testid={`sync-${e.engine}`} data-state={e.state}>
              <td>{e.engine}</td>
              <td>{e.enabled ? 'yes' : 'no'}</td>
              <td>
                <Badge kind={SYNC_KIND[e.state] ?? 'queued'}>{e.state}</Badge>
              </td>
              <td className="nowrap">
                {e.last ? (
                  <a href={`#/jobs/${e.last.id}`}>
                    job {e.last.id} <Time value={e.last.finished_at} />
                  </a>
                ) : (
                  <span className="muted">—</span>
                )}
              </td>
              <td className="ellipsis" title={e.reason ?? ''}>
                {e.reason ? <span className="text-error">{e.reason}</span> : ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
