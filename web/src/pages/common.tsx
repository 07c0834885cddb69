import type { ReactNode } from 'react';
import { formatTime } from '../time';

export function Badge({ kind, children, testid }: { kind: string; children: ReactNode; testid?: string }) {
  return (
    <span className={`badge badge-${kind}`} data-testid={testid}>
      {children}
    </span>
  );
}

export function Progress({ value, testid }: { value: number; testid?: string }) {
  const v = Math.max(0, Math.min(100, Math.round(value || 0)));
  return (
    <div
      className="progress"
      role="progressbar"
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={v}
      data-testid={testid}
      data-value={v}
    >
      <div className="progress-bar" style={{ width: `${v}%` }} />
      <span className="progress-label">{v}%</span>
    </div>
  );
}

export function Time({ value }: { value: string | null | undefined }) {
  if (!value) return <span className="muted">—</span>;
  return (
    <time dateTime={value} title={value}>
      {formatTime(value)}
    </time>
  );
}

export function ErrorBox({ error, testid }: { error: Error | null | undefined; testid?: string }) {
  if (!error) return null;
  return (
    <div className="alert alert-error" role="alert" data-testid={testid}>
      {error.message}
    </div>
  );
}
