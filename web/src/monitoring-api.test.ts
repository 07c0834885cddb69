import { describe, expect, it } from 'vitest';
import { locationText, severityKind } from './monitoring-api';

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
});
