import { describe, expect, it } from 'vitest';
import { isPrivateAddress, literalAddressRefusal, publicOnlyLookup } from './address-policy.ts';

describe('isPrivateAddress', () => {
  it('refuses loopback, private, link-local (metadata), shared, multicast and reserved ranges, IPv4 and IPv6', () => {
    for (const a of ['127.0.0.1', '127.8.9.10', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '198.18.0.1']) {
      expect([a, isPrivateAddress(a)]).toEqual([a, true]);
    }
    for (const a of ['::1', '::', 'fd00::1', 'fc12:3456::1', 'fe80::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '64:ff9b::a00:1']) {
      expect([a, isPrivateAddress(a)]).toEqual([a, true]);
    }
  });

  it('lets public addresses through, including the neighbours of private ranges', () => {
    for (const a of ['93.184.216.34', '8.8.8.8', '172.15.255.255', '172.32.0.1', '192.169.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8']) {
      expect([a, isPrivateAddress(a)]).toEqual([a, false]);
    }
  });

  it('is false for anything that is not an address (host names are checked when resolved)', () => {
    expect(isPrivateAddress('localhost')).toBe(false);
    expect(isPrivateAddress('')).toBe(false);
  });
});

describe('literalAddressRefusal', () => {
  it('refuses a private literal under "deny", in brackets too, and says why; "allow" lets all through', () => {
    expect(literalAddressRefusal(new URL('http://127.0.0.1:8080/in'), 'deny')).toMatch(/127\.0\.0\.1 is on a private or reserved network/);
    expect(literalAddressRefusal(new URL('http://[::1]/in'), 'deny')).toMatch(/::1 is on a private/);
    expect(literalAddressRefusal(new URL('https://8.8.8.8/in'), 'deny')).toBeNull();
    expect(literalAddressRefusal(new URL('https://hooks.example.test/in'), 'deny')).toBeNull();
    expect(literalAddressRefusal(new URL('http://127.0.0.1/in'), 'allow')).toBeNull();
  });
});

describe('publicOnlyLookup', () => {
  const lookup = (host: string, all: boolean) =>
    new Promise<{ err: (Error & { code?: string }) | null; address: unknown }>((resolve) => publicOnlyLookup(host, { all }, (err, address) => resolve({ err, address })));

  it('refuses a name that resolves to loopback, one address or all of them', async () => {
    for (const all of [false, true]) {
      const { err } = await lookup('localhost', all);
      expect(err?.code).toBe('EPRIVATEADDRESS');
      expect(err?.message).toMatch(/on a private or reserved network/);
    }
  });

  it('passes the resolver’s own error on (an unknown name)', async () => {
    const { err } = await lookup('no-such-host.invalid', false);
    expect(err?.code).toMatch(/ENOTFOUND|EAI_AGAIN/);
  });
});
