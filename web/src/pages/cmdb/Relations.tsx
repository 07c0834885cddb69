import type { Ci, Relation } from '../../cmdb-api';
import { formatValue } from '../../cmdb-api';
import { CiLink, StatusBadge } from './shared';

/** The relationships of `ci`, each with its direction and the CI at the other end. */
export function RelationsTable({
  ci,
  relations,
  related,
}: {
  ci: Ci;
  relations: Relation[] | undefined;
  related: Map<number, Ci>;
}) {
  // Outgoing first, then by relation type and the other end's name.
  const rows = (relations ?? []).map((r) => {
    const out = r.from_id === ci.id;
    const otherId = out ? r.to_id : r.from_id;
    return { r, out, otherId, other: related.get(otherId) };
  });
  rows.sort(
    (a, b) =>
      Number(b.out) - Number(a.out) ||
      a.r.type.localeCompare(b.r.type) ||
      (a.other?.name ?? '').localeCompare(b.other?.name ?? '', undefined, { numeric: true }),
  );
  return (
    <table className="table" data-testid="ci-relations">
      <thead>
        <tr>
          <th>Direction</th>
          <th>Relation</th>
          <th>Other CI</th>
          <th>Status</th>
          <th>Attributes</th>
          <th>Source</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(({ r, out, otherId, other }) => (
          <tr key={r.id} data-testid={`ci-rel-${r.id}`} data-relation={r.type} data-other={otherId}>
            <td className="nowrap" title={out ? 'this CI is the relationship’s from end' : 'this CI is the relationship’s to end'}>
              {out ? <span className="dir dir-out">→ outgoing</span> : <span className="dir dir-in">← incoming</span>}
            </td>
            <td className="mono">{r.type}</td>
            <td>{other ? <CiLink ci={other} /> : <a href={`#/cmdb/ci/${otherId}`}>#{otherId}</a>}</td>
            <td>{other && <StatusBadge ci={other} />}</td>
            <td className="attrs-cell">
              {Object.entries(r.attributes ?? {}).map(([k, v]) => (
                <span className="kv" key={k}>
                  <span className="muted">{k}</span> {formatValue(v)}
                </span>
              ))}
            </td>
            <td className="muted small">{r.source}</td>
          </tr>
        ))}
        {relations && relations.length === 0 && (
          <tr>
            <td colSpan={6} className="empty">
              No relationships.
            </td>
          </tr>
        )}
        {!relations && (
          <tr>
            <td colSpan={6} className="empty">
              Loading…
            </td>
          </tr>
        )}
      </tbody>
    </table>
  );
}
