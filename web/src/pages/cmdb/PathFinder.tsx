import { useState, type FormEvent } from 'react';
import { getPath, type Ci, type PathAnswer } from '../../cmdb-api';
import { ErrorBox } from '../common';
import { PathCrumbs } from './Impact';

/** Shortest path from this CI to another one, over relationships of any type. */
export function PathFinder({ ci }: { ci: Ci }) {
  const [to, setTo] = useState('');
  const [answer, setAnswer] = useState<PathAnswer | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);

  async function find(e: FormEvent) {
    e.preventDefault();
    if (!to.trim()) return;
    setBusy(true);
    setError(null);
    setAnswer(null);
    try {
      setAnswer(await getPath(String(ci.id), to.trim()));
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="card path-finder" data-testid="ci-path">
      <form className="inline-form" onSubmit={find}>
        <label className="inline">
          Path from <strong>{ci.name}</strong> to
          <input
            value={to}
            onChange={(e) => setTo(e.target.value)}
            placeholder="type/name, name or id"
            data-testid="ci-path-to"
          />
        </label>
        <button className="btn" type="submit" disabled={busy || !to.trim()} data-testid="ci-path-run">
          {busy ? 'Searching…' : 'Find path'}
        </button>
      </form>
      <ErrorBox error={error} testid="ci-path-error" />
      {answer && (
        <div className="path-result" data-testid="ci-path-result" data-found={String(answer.found)}>
          {answer.found ? (
            answer.hops.length === 0 ? (
              <span className="muted">That is this CI.</span>
            ) : (
              <>
                <span className="muted small">
                  {answer.hops.length} hop{answer.hops.length === 1 ? '' : 's'}
                </span>
                <PathCrumbs path={answer.hops} />
              </>
            )
          ) : (
            <span className="muted">No path{answer.truncated ? ' found within the search limit' : ''}.</span>
          )}
        </div>
      )}
    </div>
  );
}
