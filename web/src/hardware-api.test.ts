import { describe, expect, it } from 'vitest';
import { healthKind, nodeOf, type Bmc } from './hardware-api';

const bmc = (over: Partial<Bmc>): Bmc => ({
  id: 1,
  name: 'bmc-1',
  address: '10.0.0.1',
  protocol: 'redfish',
  server: null,
  health: 'unknown',
  health_message: '',
  power_state: 'unknown',
  checked_at: null,
  tls_verify: true,
  ...over,
});

describe('hardware api helpers', () => {
  it('a node is the server a BMC controls, else the BMC', () => {
    expect(nodeOf(bmc({ server: 'node-07' }))).toBe('node-07');
    expect(nodeOf(bmc({}))).toBe('bmc-1');
  });
  it('health marks map to badge kinds', () => {
    expect(healthKind('ok')).toBe('succeeded');
    expect(healthKind('unknown')).toBe('queued');
    expect(healthKind('timeout')).toBe('failed');
    expect(healthKind('auth_failed')).toBe('cancelled');
  });
});
