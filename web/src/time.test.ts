import { describe, expect, it } from 'vitest';
import { formatTime, localInputToRfc3339 } from './time';

describe('localInputToRfc3339', () => {
  it('converts a datetime-local value (local time) to RFC 3339 UTC', () => {
    // Built from local fields, so the test holds in any time zone.
    expect(localInputToRfc3339('2026-11-25T13:05')).toBe(new Date(2026, 10, 25, 13, 5, 0).toISOString());
    expect(localInputToRfc3339('2026-11-25T13:05:09')).toBe(new Date(2026, 10, 25, 13, 5, 9).toISOString());
    expect(localInputToRfc3339('2026-11-25T13:05:09.5')).toBe(new Date(2026, 10, 25, 13, 5, 9, 500).toISOString());
  });

  it('produces the API format: UTC with a Z suffix and milliseconds', () => {
    expect(localInputToRfc3339('2026-01-02T03:04')).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('is undefined for an empty input', () => {
    expect(localInputToRfc3339('')).toBeUndefined();
    expect(localInputToRfc3339('   ')).toBeUndefined();
  });

  it('rejects malformed or out-of-range values', () => {
    expect(() => localInputToRfc3339('yesterday')).toThrow();
    expect(() => localInputToRfc3339('2026-02-31T10:00')).toThrow();
    expect(() => localInputToRfc3339('2026-11-25T25:00')).toThrow();
  });

  it('round-trips with formatTime', () => {
    const iso = localInputToRfc3339('2026-11-25T13:05:09')!;
    expect(formatTime(iso)).toBe('2026-11-25 13:05:09');
    expect(formatTime('garbage')).toBe('garbage');
    expect(formatTime(null)).toBe('');
  });
});
