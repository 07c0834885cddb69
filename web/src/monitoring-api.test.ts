import { describe, expect, it } from 'vitest';
import { locationText, severityKind, sparkline } from './monitoring-api';

describe('monitoring helpers', () => {
  it('maps severities to badge kinds, critical first', () => {
    expect(severityKind('critical')).toBe('failed');
    expect(severityKind('warning')).toBe('cancelled');
    expect(severityKind('')).toBe('muted');
  });
  it('shows the CMDB location path', () => {
    expect(locationText({ location_path: 'dc1/hall-1/A01' })).toBe('dc1 / hall-1 / A01');
    expect(locationText({})).toBe('—');
    expect(locationText(undefined)).toBe('—');
  });
  it('scales a utilisation series into a sparkline', () => {
    expect(sparkline([[0, '0'], [30, '50'], [60, '100']], 60, 10)).toBe('0.0,10.0 30.0,5.0 60.0,0.0');
    expect(sparkline([], 60, 10)).toBe('');
    expect(sparkline([[0, '250']], 60, 10)).toBe('0.0,0.0');
  });
});
