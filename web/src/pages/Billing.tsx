// Billing: a tenant's month as it stands (draft invoice) with cost charts per project and SKU,
// daily GPU usage, budgets, and the issued invoices with their exports.
import { useEffect, useState } from 'react';
import {
  costBy,
  dailyUsage,
  listBudgets,
  listInvoices,
  listTenants,
  money,
  monthRange,
  previewInvoice,
  type Invoice,
  type Tenant,
  type UsageBucket,
  type BudgetStatus,
} from '../billing-api';
import { API_BASE } from '../api';
import { ErrorBox } from './common';

function thisMonth(): string {
  return new Date().toISOString().slice(0, 7);
}

function Bars({ title, rows, unit, testid }: { title: string; rows: [string, number][]; unit: (v: number) => string; testid: string }) {
  const max = Math.max(1, ...rows.map((r) => r[1]));
  return (
    <div className="card" data-testid={testid}>
      <h3>{title}</h3>
      {rows.length === 0 && <p className="muted">No usage.</p>}
      <svg width="100%" height={rows.length * 26 + 4} role="img" aria-label={title}>
        {rows.map(([label, v], i) => (
          <g key={label} transform={`translate(0, ${i * 26})`}>
            <text x="0" y="16" fontSize="12">{label || '(tenant)'}</text>
            <rect x="160" y="4" height="16" width={`${Math.max(0.5, (v / max) * 42)}%`} fill="#3b82f6" rx="2" />
            <text x="98%" y="16" fontSize="12" textAnchor="end">{unit(v)}</text>
          </g>
        ))}
      </svg>
    </div>
  );
}

export function BillingPage() {
  const [tenants, setTenants] = useState<Tenant[]>([]);
  const [tenant, setTenant] = useState('');
  const [month, setMonth] = useState(thisMonth());
  const [draft, setDraft] = useState<Invoice | null>(null);
  const [usage, setUsage] = useState<UsageBucket[]>([]);
  const [budgets, setBudgets] = useState<BudgetStatus[]>([]);
  const [invoices, setInvoices] = useState<Invoice[]>([]);
  const [error, setError] = useState<Error | null>(null);

  useEffect(() => {
    const ac = new AbortController();
    listTenants(ac.signal)
      .then((p) => {
        setTenants(p.items);
        if (p.items.length > 0) setTenant((t) => t || p.items[0].slug);
      })
      .catch((e: Error) => e.name !== 'AbortError' && setError(e));
    return () => ac.abort();
  }, []);

  useEffect(() => {
    if (!tenant || !/^\d{4}-\d{2}$/.test(month)) return;
    const ac = new AbortController();
    const [since, until] = monthRange(month);
    setError(null);
    Promise.all([
      previewInvoice(tenant, month, ac.signal),
      dailyUsage(tenant, since, until, ac.signal),
      listBudgets(tenant, ac.signal),
      listInvoices(tenant, ac.signal),
    ])
      .then(([d, u, b, i]) => {
        setDraft(d);
        setUsage(u.items);
        setBudgets(b.items);
        setInvoices(i.items);
      })
      .catch((e: Error) => e.name !== 'AbortError' && setError(e));
    return () => ac.abort();
  }, [tenant, month]);

  const lines = draft?.lines ?? [];
  const gpuByDay = new Map<string, number>();
  for (const u of usage) {
    if (!u.sku.startsWith('gpu-') && !u.sku.startsWith('mig-')) continue;
    const day = u.start.slice(0, 10);
    gpuByDay.set(day, (gpuByDay.get(day) ?? 0) + u.quantity / 3_600_000);
  }
  const cur = draft?.currency ?? '';
  return (
    <div className="page" data-testid="billing-page">
      <div className="page-head">
        <h1>Billing</h1>
        <span className="spacer" />
        <label className="inline">
          tenant
          <select value={tenant} onChange={(e) => setTenant(e.target.value)} data-testid="billing-tenant">
            {tenants.map((t) => (
              <option key={t.id} value={t.slug}>{t.slug}</option>
            ))}
          </select>
        </label>
        <label className="inline">
          month
          <input type="month" value={month} onChange={(e) => setMonth(e.target.value)} data-testid="billing-month" />
        </label>
      </div>
      <ErrorBox error={error} testid="billing-error" />
      {draft && (
        <p data-testid="billing-total">
          {month} so far: <strong>{draft.total} {cur}</strong> ({lines.length} line{lines.length === 1 ? '' : 's'}, not issued)
        </p>
      )}
      <div className="grid-2">
        <Bars title="Cost per project" rows={costBy(lines, (l) => l.project)} unit={(v) => `${money(v)} ${cur}`} testid="cost-by-project" />
        <Bars title="Cost per SKU" rows={costBy(lines, (l) => l.sku)} unit={(v) => `${money(v)} ${cur}`} testid="cost-by-sku" />
        <Bars title="GPU-hours per day" rows={[...gpuByDay.entries()].sort()} unit={(v) => v.toFixed(1)} testid="gpu-by-day" />
        <div className="card" data-testid="budgets">
          <h3>Budgets</h3>
          {budgets.length === 0 && <p className="muted">No budgets.</p>}
          {budgets.map((b) => (
            <div key={b.id}>
              {b.project || '(tenant)'} · {b.metric === 'cost' ? `${money(b.spent)} of ${money(b.limit)} ${cur}` : `${b.spent} of ${b.limit} GPU-hours`} · {b.percent}%
              {b.exhausted && <span className="badge badge-failed">{b.hard ? 'spent: admission stopped' : 'spent'}</span>}
            </div>
          ))}
        </div>
      </div>
      <h2>Lines</h2>
      <table className="table" data-testid="billing-lines">
        <thead>
          <tr><th>Project</th><th>SKU</th><th>Policy</th><th>Quantity</th><th>Unit price (micro)</th><th>Discount</th><th>Amount</th></tr>
        </thead>
        <tbody>
          {lines.map((l) => (
            <tr key={l.line}>
              <td>{l.project || '(tenant)'}</td><td>{l.sku}</td><td>{l.policy}</td>
              <td>{l.priced_quantity} {l.price_unit}</td><td>{l.unit_price_micros}</td>
              <td>{l.discount_bp / 100}%</td><td>{l.amount}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Issued</h2>
      <table className="table" data-testid="billing-invoices">
        <thead>
          <tr><th>Number</th><th>Kind</th><th>Period</th><th>Total</th><th>Exports</th></tr>
        </thead>
        <tbody>
          {invoices.map((i) => (
            <tr key={i.id}>
              <td>{i.number}</td><td>{i.kind}</td><td>{i.period}</td><td>{i.total} {i.currency}</td>
              <td>
                <a href={`${API_BASE}/invoices/${i.id}?format=csv`}>CSV</a> · <a href={`${API_BASE}/invoices/${i.id}?format=focus`}>FOCUS</a> ·{' '}
                <a href={`${API_BASE}/invoices/${i.id}`}>JSON</a>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
