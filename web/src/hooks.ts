import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from './api';

function useHash(): string {
  const [hash, setHash] = useState(() => window.location.hash);
  useEffect(() => {
    const on = () => setHash(window.location.hash);
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return hash;
}

/**
 * The hash route split into segments: `#/jobs/12` → `['jobs', '12']`. A query part
 * (`#/cmdb?q=leaf`) is not a segment: see `useHashQuery`. A segment may hold an encoded
 * slash (`#/cmdb/ci/switch%2Fleaf-01` → `['cmdb', 'ci', 'switch/leaf-01']`).
 */
export function useHashRoute(): string[] {
  const path = useHash().replace(/^#\/?/, '').split('?')[0];
  return path.split('/').filter(Boolean).map(safeDecode);
}

/** The query part of the hash route: `#/cmdb?q=leaf&type=switch` → `q=leaf&type=switch`. */
export function useHashQuery(): URLSearchParams {
  const hash = useHash();
  const i = hash.indexOf('?');
  return new URLSearchParams(i < 0 ? '' : hash.slice(i + 1));
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function navigate(path: string): void {
  window.location.hash = '#/' + path.replace(/^\//, '');
}

export interface Polled<T> {
  data: T | undefined;
  error: Error | null;
  loading: boolean;
  reload: () => void;
}

/**
 * Fetches now and then again after `delayMs(data)` milliseconds (null: stop), until
 * unmounted or `deps` change. Requests never overlap; errors keep the last data and
 * retry after 5 s
 * (except client errors such as 403/404, which stop the polling).
 */
export function usePolling<T>(
  fetcher: (signal: AbortSignal) => Promise<T>,
  delayMs: (data: T) => number | null,
  deps: readonly unknown[],
): Polled<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<Error | null>(null);
  const [loading, setLoading] = useState(true);
  const [nonce, setNonce] = useState(0);
  const fetcherRef = useRef(fetcher);
  const delayRef = useRef(delayMs);
  fetcherRef.current = fetcher;
  delayRef.current = delayMs;

  useEffect(() => {
    const ctrl = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      let next: number | null = 5000;
      setLoading(true);
      try {
        const d = await fetcherRef.current(ctrl.signal);
        if (ctrl.signal.aborted) return;
        setData(d);
        setError(null);
        next = delayRef.current(d);
      } catch (e) {
        if (ctrl.signal.aborted) return;
        setError(e as Error);
        // A client error (403, 404…) will not fix itself: stop polling.
        const st = e instanceof ApiError ? e.status : 0;
        if (st >= 400 && st < 500 && st !== 408 && st !== 429) next = null;
      }
      setLoading(false);
      if (next !== null) timer = setTimeout(run, next);
    };
    void run();
    return () => {
      ctrl.abort();
      clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, nonce]);

  const reload = useCallback(() => setNonce((n) => n + 1), []);
  return { data, error, loading, reload };
}
