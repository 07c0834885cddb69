import { useEffect, useMemo, useRef, useState } from 'react';
import { getCi, listCis, listTypes, type Ci, type CiType } from '../../cmdb-api';
import { typeColour } from '../../graph/colours';
import { Badge } from '../common';

/** `#/cmdb/ci/<ref>` where ref is an id or "type/name". */
export const ciHref = (ref: number | string) => `#/cmdb/ci/${encodeURIComponent(String(ref))}`;

let lastSearchHash = '#/cmdb';
/** The search page remembers its URL, so a CI page can link back to the same results. */
export const rememberSearch = (hash: string) => void (lastSearchHash = hash);
export const lastSearch = () => lastSearchHash;

export function TypeDot({ type }: { type: string }) {
  return (
    <svg className="type-dot" width="10" height="10" viewBox="0 0 10 10" aria-hidden="true">
      <circle cx="5" cy="5" r="5" fill={typeColour(type)} />
    </svg>
  );
}

/** A link to a CI page, shown as "type/name" with the type's colour. */
export function CiLink({ ci, testid }: { ci: Pick<Ci, 'id' | 'type' | 'name'>; testid?: string }) {
  return (
    <a href={ciHref(ci.id)} className="ci-link" data-testid={testid} title={`${ci.type}/${ci.name} (#${ci.id})`}>
      <TypeDot type={ci.type} />
      <span className="muted">{ci.type}/</span>
      {ci.name}
    </a>
  );
}

/** A "type/name" reference (as in explanation paths) as a link; `short`: the type only as colour and tooltip. */
export function RefLink({ label, id, short = false }: { label: string; id?: number; short?: boolean }) {
  const i = label.indexOf('/');
  const type = i > 0 ? label.slice(0, i) : '';
  return (
    <a href={ciHref(id ?? label)} className="ci-link" title={label}>
      {type && <TypeDot type={type} />}
      {type && !short && <span className="muted">{type}/</span>}
      {i > 0 ? label.slice(i + 1) : label}
    </a>
  );
}

export function StatusBadge({ ci, testid }: { ci: Pick<Ci, 'status' | 'stale'>; testid?: string }) {
  const kind = ci.status === 'active' ? 'success' : ci.status === 'maintenance' ? 'denied' : 'muted';
  return (
    <>
      <Badge kind={kind} testid={testid}>
        {ci.status}
      </Badge>
      {ci.stale && (
        <>
          {' '}
          <Badge kind="failure">stale</Badge>
        </>
      )}
    </>
  );
}

export function CmdbTabs({ active }: { active: 'search' | 'changes' }) {
  return (
    <nav className="tabs" aria-label="CMDB">
      <a href="#/cmdb" className={active === 'search' ? 'active' : undefined} data-testid="cmdb-tab-search">
        Configuration items
      </a>
      <a href="#/cmdb/changes" className={active === 'changes' ? 'active' : undefined} data-testid="cmdb-tab-changes">
        Change requests
      </a>
    </nav>
  );
}

// The CI types change rarely: fetch them once per page load.
let typesPromise: Promise<CiType[]> | null = null;

export function useCiTypes(): CiType[] | null {
  const [types, setTypes] = useState<CiType[] | null>(null);
  useEffect(() => {
    let live = true;
    typesPromise ??= listTypes().then((p) => p.items);
    typesPromise.then(
      (t) => live && setTypes(t),
      () => {
        typesPromise = null; // try again next time
        if (live) setTypes([]);
      },
    );
    return () => {
      live = false;
    };
  }, []);
  return types;
}

/**
 * The CIs related to `ciId` (one `?related_to=` list), plus any `extra` ids not among
 * them (fetched one by one: e.g. the other ends of deleted relationships in the history).
 * Ids that cannot be fetched (deleted CIs) stay missing from the map.
 */
export function useRelatedCis(ciId: number | undefined, extra: number[]): Map<number, Ci> {
  const [related, setRelated] = useState<Map<number, Ci> | null>(null);
  const [others, setOthers] = useState<Map<number, Ci>>(new Map());
  const tried = useRef(new Set<number>());

  useEffect(() => {
    if (ciId === undefined) return;
    const ctrl = new AbortController();
    listCis({ related_to: ciId, limit: 5000 }, ctrl.signal).then(
      (page) => setRelated(new Map(page.items.map((c) => [c.id, c]))),
      () => !ctrl.signal.aborted && setRelated(new Map()), // fall back to one by one
    );
    return () => ctrl.abort();
  }, [ciId]);

  const extraKey = [...new Set(extra)].sort((a, b) => a - b).join(',');
  useEffect(() => {
    if (!related || !extraKey) return;
    const missing = extraKey
      .split(',')
      .map(Number)
      .filter((id) => id !== ciId && !related.has(id) && !tried.current.has(id));
    if (missing.length === 0) return;
    // Not cancelled on re-render: each id is fetched once per hook instance (a CI page).
    missing.forEach((id) => tried.current.add(id));
    void (async () => {
      for (let i = 0; i < missing.length; i += 16) {
        const got = await Promise.all(missing.slice(i, i + 16).map((id) => getCi(id).catch(() => null)));
        setOthers((m) => new Map([...m, ...got.filter((c): c is Ci => c !== null).map((c) => [c.id, c] as const)]));
      }
    })();
  }, [related, extraKey, ciId]);

  return useMemo(() => new Map([...others, ...(related ?? [])]), [related, others]);
}
