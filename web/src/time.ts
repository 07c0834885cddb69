// Time helpers. The API speaks RFC 3339 UTC (`2026-11-25T12:00:00.123Z`); the
// browser's <input type="datetime-local"> speaks local wall-clock time without a zone.

/**
 * `"2026-11-25T13:00"` (local time, as a datetime-local input gives it, seconds
 * optional) → `"2026-11-25T12:00:00.000Z"`. Empty input → `undefined`.
 * Throws on anything that is not a datetime-local value.
 */
export function localInputToRfc3339(value: string): string | undefined {
  const v = value.trim();
  if (!v) return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/.exec(v);
  if (!m) throw new Error(`not a local date-time: ${value}`);
  const [, y, mo, d, h, mi, s = '0', ms = '0'] = m;
  const date = new Date(+y, +mo - 1, +d, +h, +mi, +s, +ms.padEnd(3, '0'));
  // Reject out-of-range fields such as 2026-02-31 or 25:00, which Date would roll over.
  // (Hours are checked on the input, not on the Date: inside a DST gap they shift.)
  if (+h > 23 || +mi > 59 || +s > 59 || date.getFullYear() !== +y || date.getMonth() !== +mo - 1 || date.getDate() !== +d) {
    throw new Error(`invalid date: ${value}`);
  }
  return date.toISOString();
}

/** RFC 3339 → `"2026-11-25 13:00:00"` in the browser's local time (raw string kept on failure). */
export function formatTime(rfc3339: string | null | undefined): string {
  if (!rfc3339) return '';
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return rfc3339;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
