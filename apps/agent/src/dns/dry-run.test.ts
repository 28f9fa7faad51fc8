import { describe, expect, it } from 'vitest';
import { parseServer, reverseName } from './dry-run.ts';

describe('dry-run helpers', () => {
  it('names the reverse zone entry of IPv4 and IPv6 addresses', () => {
    expect(reverseName('10.1.0.5')).toBe('5.0.1.10.in-addr.arpa');
    expect(reverseName('2001:db8::7')).toBe(`7.${'0.'.repeat(23)}8.b.d.0.1.0.0.2.ip6.arpa`);
    expect(reverseName('not-an-address')).toBeNull();
  });
  it('reads resolvers as address and port', () => {
    expect(parseServer('10.0.0.2')).toEqual({ host: '10.0.0.2', port: 53 });
    expect(parseServer('10.0.0.2:5353')).toEqual({ host: '10.0.0.2', port: 5353 });
    expect(parseServer('fd00::2')).toEqual({ host: 'fd00::2', port: 53 });
    expect(parseServer('[fd00::2]:5353')).toEqual({ host: 'fd00::2', port: 5353 });
    expect(parseServer('dns.example')).toBeNull();
    expect(parseServer('10.0.0.2:70000')).toBeNull();
  });
});
