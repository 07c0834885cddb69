import { useEffect, useRef, useState, type FormEvent } from 'react';
import { buildQuery } from '../../api';
import { CI_STATUSES, keyAttributes, listCis, type Ci, type CiFilter } from '../../cmdb-api';
import { navigate, useHashQuery } from '../../hooks';
import { ErrorBox, Time } from '../common';
import { ciHref, CmdbTabs, rememberSearch, StatusBadge, TypeDot, useCiTypes } from './shared';

const PAGE_SIZE = 50;

/** `#/cmdb?q=leaf&type=switch&status=active`: the search lives in the URL (back button, links). */
export function CmdbSearch() {
  const query = useHashQuery();
  const applied: CiFilter = { q: query.get('q') ?? '', type: query.get('type') ?? '', status: query.get('status') ?? '' };
  const key = JSON.stringify(applied);

  const types = useCiTypes();
  const [form, setForm] = useState(applied);
  const [items, setItems] = useState<Ci[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const generation = useRef(0); // answers to superseded requests are dropped

  async function load(after: string | null) {
    const gen = ++generation.current;
    setBusy(true);
    setError(null);
    try {
      const page = await listCis({ ...applied, limit: PAGE_SIZE, cursor: after });
      if (gen !== generation.current) return;
      setItems((prev) => (after && prev ? [...prev, ...page.items] : page.items));
      setCursor(page.next_cursor);
    } catch (e) {
      if (gen === generation.current) setError(e as Error);
    } finally {
      if (gen === generation.current) setBusy(false);
    }
  }

  useEffect(() => {
    rememberSearch(`#/cmdb${buildQuery({ ...applied })}`);
    setForm(applied);
    void load(null);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);

  function submit(e: FormEvent) {
    e.preventDefault();
    const q = buildQuery({ q: form.q?.trim(), type: form.type, status: form.status });
    if (`#/cmdb${q}` === window.location.hash) void load(null);
    else navigate(`cmdb${q}`);
  }

  const set = (k: keyof CiFilter) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });

  return (
    <div className="page">
      <div className="page-head">
        <h1>CMDB</h1>
        <CmdbTabs active="search" />
      </div>
      <form className="card filters filters-cmdb" onSubmit={submit} data-testid="cmdb-search-form">
        <label className="grow">
          Search names and attributes
          <input
            type="search"
            value={form.q}
            onChange={set('q')}
            placeholder="e.g. leaf, 10.0.3., H100"
            data-testid="cmdb-search"
            autoFocus
          />
        </label>
        <label>
          Type
          <select value={form.type} onChange={set('type')} data-testid="cmdb-filter-type">
            <option value="">any type</option>
            {types?.map((t) => (
              <option key={t.name} value={t.name} title={t.description}>
                {t.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select value={form.status} onChange={set('status')} data-testid="cmdb-filter-status">
            <option value="">any status</option>
            {CI_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <div className="filter-buttons">
          <button className="btn btn-primary" type="submit" disabled={busy} data-testid="cmdb-search-submit">
            Search
          </button>
        </div>
      </form>

      <ErrorBox error={error} testid="cmdb-error" />
      <table className="table" data-testid="cmdb-results">
        <thead>
          <tr>
            <th>Type</th>
            <th>Name</th>
            <th>Status</th>
            <th>Tenant</th>
            <th>Key attributes</th>
            <th>Updated</th>
          </tr>
        </thead>
        <tbody>
          {items?.map((ci) => (
            <tr
              key={ci.id}
              className="clickable"
              onClick={() => navigate(`cmdb/ci/${ci.id}`)}
              data-testid={`cmdb-row-${ci.id}`}
              data-type={ci.type}
              data-name={ci.name}
            >
              <td className="nowrap">
                <TypeDot type={ci.type} /> {ci.type}
              </td>
              <td>
                <a href={ciHref(ci.id)} onClick={(e) => e.stopPropagation()}>
                  {ci.name}
                </a>
              </td>
              <td>
                <StatusBadge ci={ci} />
              </td>
              <td>{ci.tenant ?? <span className="muted">—</span>}</td>
              <td className="attrs-cell">
                {keyAttributes(ci.attributes, 3, applied.q).map(([k, v]) => (
                  <span className="kv" key={k}>
                    <span className="muted">{k}</span> {v}
                  </span>
                ))}
              </td>
              <td className="nowrap">
                <Time value={ci.updated_at} />
              </td>
            </tr>
          ))}
          {items && items.length === 0 && (
            <tr>
              <td colSpan={6} className="empty">
                No configuration items match.
              </td>
            </tr>
          )}
          {!items && !error && (
            <tr>
              <td colSpan={6} className="empty">
                Loading…
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <div className="table-foot">
        {items && <span className="muted small">{items.length} shown</span>}
        <span className="spacer" />
        {cursor && (
          <button className="btn" onClick={() => load(cursor)} disabled={busy} data-testid="cmdb-load-more">
            {busy ? 'Loading…' : 'Load more'}
          </button>
        )}
      </div>
    </div>
  );
}
