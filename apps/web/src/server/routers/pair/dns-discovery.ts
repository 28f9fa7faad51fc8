// Which DNS records of a zone concern a source. The engine's discoverDnsRecords
// (packages/engine/src/pair/runbooks/discover.ts) is the real one; this stand-in of the same shape
// keeps the API working until it lands, and is replaced by it then.
import { z } from 'zod';
import { reverseName, type DnsRecordData, type DnsRecordType, type DnsRRset } from '@tandem/engine';

/** The /24 reverse zone of an IPv4 address (10.0.0.5 → 0.0.10.in-addr.arpa); null for IPv6 and non-addresses. */
export function reverseZone24(address: string): string | null {
  if (!z.ipv4().safeParse(address).success) return null;
  return `${address.split('.').slice(0, 3).reverse().join('.')}.in-addr.arpa`;
}

export interface DiscoveredDnsRecord {
  zone: string;
  name: string;
  type: DnsRecordType;
  ttl: number;
  records: DnsRecordData[];
  reason: string;
}

/** The zone's records that would have to move for the source: its addresses, aliases (whole chain), mail exchanges, PTRs. */
export function discoverDnsRecords(i: { zoneRRsets: DnsRRset[]; reverseRRsets: DnsRRset[]; zone: string; sourceNames: string[]; sourceAddresses: string[]; reverseZones?: string[] }): DiscoveredDnsRecord[] {
  const zone = i.zone.replace(/\.$/, '').toLowerCase();
  const names = new Set(i.sourceNames);
  const addresses = new Set(i.sourceAddresses);
  const found: DiscoveredDnsRecord[] = [];
  const hosts = new Set<string>();
  for (const rr of i.zoneRRsets) {
    if (rr.type !== 'A' && rr.type !== 'AAAA') continue;
    const at = rr.records.find((r) => (r.type === 'A' || r.type === 'AAAA') && addresses.has(r.address));
    if (names.has(rr.name) || at) {
      hosts.add(rr.name);
      found.push({ zone, name: rr.name, type: rr.type, ttl: rr.ttl, records: rr.records, reason: names.has(rr.name) ? 'The source’s own name' : `Points at the source’s address ${at && 'address' in at ? at.address : ''}` });
    }
  }
  for (const n of names) hosts.add(n);
  // Aliases of aliases: repeat until no new alias is found.
  for (let grew = true; grew; ) {
    grew = false;
    for (const rr of i.zoneRRsets) {
      if (rr.type !== 'CNAME' || hosts.has(rr.name)) continue;
      const to = rr.records.find((r) => r.type === 'CNAME' && hosts.has(r.target));
      if (to && to.type === 'CNAME') {
        hosts.add(rr.name);
        grew = true;
        found.push({ zone, name: rr.name, type: 'CNAME', ttl: rr.ttl, records: rr.records, reason: `Alias of ${to.target}` });
      }
    }
  }
  for (const rr of i.zoneRRsets) {
    const mx = rr.type === 'MX' ? rr.records.find((r) => r.type === 'MX' && hosts.has(r.exchange)) : undefined;
    if (mx && mx.type === 'MX') found.push({ zone, name: rr.name, type: 'MX', ttl: rr.ttl, records: rr.records, reason: `Mail for ${rr.name} goes to ${mx.exchange}` });
  }
  const reverseOf = new Map([...addresses].flatMap((a) => (z.ipv4().safeParse(a).success || z.ipv6().safeParse(a).success ? [[reverseName(a), a] as const] : [])));
  for (const rr of i.reverseRRsets) {
    if (rr.type !== 'PTR') continue;
    const address = reverseOf.get(rr.name);
    const named = rr.records.some((r) => r.type === 'PTR' && names.has(r.target));
    if (!address && !named) continue;
    const ptrZone = rr.name.endsWith('.in-addr.arpa') ? rr.name.split('.').slice(1).join('.') : rr.name.split('.').slice(16).join('.');
    found.push({ zone: ptrZone, name: rr.name, type: 'PTR', ttl: rr.ttl, records: rr.records, reason: address ? `Reverse lookup of the source’s address ${address}` : 'Reverse lookup naming the source' });
  }
  return found;
}
