// Hardware: the BMCs with their health mark and last power state, and power control of each
// node through its BMC (admins and operators). Many-node operations are CLI/API jobs.
import { useState } from 'react';
import type { WhoAmI } from '../api';
import { checkAll, healthKind, listBmcs, nodeOf, powerAction, powerStatus, type Bmc, type PowerAction } from '../hardware-api';
import { navigate, usePolling } from '../hooks';
import { Badge, ErrorBox, Time } from './common';

const ACTIONS: { action: PowerAction; label: string; confirm?: string }[] = [
  { action: 'on', label: 'On' },
  { action: 'off', label: 'Off', confirm: 'Shut down %s gracefully?' },
  { action: 'cycle', label: 'Cycle', confirm: 'Power-cycle %s? Running work is lost.' },
  { action: 'reset', label: 'Reset', confirm: 'Hard-reset %s? Running work is lost.' },
];

function canOperate(me: WhoAmI): boolean {
  return me.roles.includes('admin') || me.roles.includes('operator');
}

export function HardwarePage({ me }: { me: WhoAmI }) {
  const bmcs = usePolling((signal) => listBmcs(signal), () => 15000, []);
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<Error | null>(null);

  async function run(b: Bmc, what: PowerAction | 'status') {
    const node = nodeOf(b);
    const confirmText = ACTIONS.find((a) => a.action === what)?.confirm;
    if (confirmText && !window.confirm(confirmText.replace('%s', node))) return;
    setBusy(`${node}:${what}`);
    setError(null);
    setMessage(null);
    try {
      if (what === 'status') {
        const r = await powerStatus(node);
        setMessage(`${node}: power ${r.power_state}`);
      } else {
        await powerAction(node, what);
        setMessage(`${node}: ${what} sent`);
      }
      bmcs.reload();
    } catch (e) {
      setError(e as Error);
      bmcs.reload();
    } finally {
      setBusy(null);
    }
  }

  async function check() {
    setError(null);
    try {
      const job = await checkAll();
      navigate(`jobs/${job.job_id}`);
    } catch (e) {
      setError(e as Error);
    }
  }

  const items = bmcs.data?.items ?? [];
  return (
    <div className="page">
      <div className="page-head">
        <h1>Hardware</h1>
        <span className="spacer" />
        <button className="btn" data-testid="hw-check-all" onClick={check} disabled={items.length === 0}>
          Check all BMCs
        </button>
      </div>
      <ErrorBox error={bmcs.error ?? error} testid="hw-error" />
      {message && (
        <div className="alert" role="status" data-testid="hw-message">
          {message}
        </div>
      )}
      {bmcs.data && items.length === 0 && (
        <p className="muted">No BMCs yet. Add one with <code>gantry bmc add</code> (docs/hardware.md).</p>
      )}
      {items.length > 0 && (
        <table className="table" data-testid="hw-table">
          <thead>
            <tr>
              <th>Node</th>
              <th>BMC</th>
              <th>Protocol</th>
              <th>Health</th>
              <th>Power</th>
              <th>Checked</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {items.map((b) => {
              const node = nodeOf(b);
              return (
                <tr key={b.id} data-testid={`hw-row-${node}`}>
                  <td>{node}</td>
                  <td title={b.address}>{b.name}</td>
                  <td>
                    {b.protocol}
                    {!b.tls_verify && <span className="muted" title="TLS verification disabled for this BMC"> (no TLS verify)</span>}
                  </td>
                  <td title={b.health_message || undefined}>
                    <Badge kind={healthKind(b.health)} testid={`hw-health-${node}`}>
                      {b.health}
                    </Badge>
                  </td>
                  <td data-testid={`hw-power-${node}`}>{b.power_state}</td>
                  <td>
                    <Time value={b.checked_at} />
                  </td>
                  <td className="actions">
                    <button className="btn btn-ghost" disabled={busy !== null} onClick={() => run(b, 'status')} data-testid={`hw-status-${node}`}>
                      Status
                    </button>
                    {canOperate(me) &&
                      ACTIONS.map((a) => (
                        <button
                          key={a.action}
                          className="btn btn-ghost"
                          disabled={busy !== null}
                          onClick={() => run(b, a.action)}
                          data-testid={`hw-${a.action}-${node}`}
                        >
                          {a.label}
                        </button>
                      ))}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}
