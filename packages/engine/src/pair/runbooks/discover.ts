import { reverseName, type DnsRecordData, type DnsRecordType, type DnsRRset } from '../../dns/records.ts';
import { isIp, sameAddress } from './common.ts';
import { reverseZoneOf } from './dns-plan.ts';

// Discovery: which records of a zone (and its reverse zones) belong to the source, found in a
// zone transfer, each with the reason a person needs to decide whether it moves at failover.

export interface DiscoveredDnsRecord {
  zone: string;
  name: string;
  type: DnsRecordType;
  ttl: number;
  records: DnsRecordData[];
  reason: string;
}

export interface DiscoverDnsInput {
  zoneRRsets: DnsRRset[];
  reverseRRsets: DnsRRset[];
  zone: string;
  /** The source's names (its FQDN, names the operator knows it by). */
  sourceNames: string[];
  sourceAddresses: string[];
  /** The reverse zones transferred (for the zone of each PTR record); none: the /24 (IPv4) or /64 (IPv6) zone. */
  reverseZones?: string[];
}

const norm = (n: string) => n.toLowerCase().replace(/\.$/, '');

export function discoverDnsRecords(i: DiscoverDnsInput): DiscoveredDnsRecord[] {
  const zone = norm(i.zone);
  const addresses = i.sourceAddresses.filter(isIp);
  const out: DiscoveredDnsRecord[] = [];
  const seen = new Set<string>();
  const add = (z: string, rr: DnsRRset, reason: string) => {
    const k = `${norm(rr.name)}|${rr.type}`;
    if (seen.has(k)) return;
    seen.add(k);
    out.push({ zone: z, name: norm(rr.name), type: rr.type, ttl: rr.ttl, records: rr.records, reason });
  };

  // The source's names: the given ones, and every name whose A/AAAA holds one of its addresses.
  const names = new Set(i.sourceNames.map(norm));
  for (const rr of i.zoneRRsets) {
    if (rr.type !== 'A' && rr.type !== 'AAAA') continue;
    const held = rr.records.flatMap((r) =>
      (r.type === 'A' || r.type === 'AAAA') && addresses.some((a) => sameAddress(a, r.address)) ? [r.address] : [],
    );
    if (held.length > 0) {
      names.add(norm(rr.name));
      add(zone, rr, `Holds the source’s address ${held.join(', ')}`);
    } else if (names.has(norm(rr.name))) {
      add(zone, rr, `The source’s name ${norm(rr.name)}`);
    }
  }

  // Aliases, following the chain: an alias of an alias of the source leads to the source too.
  const cnames = i.zoneRRsets.filter((rr) => rr.type === 'CNAME');
  const chain = new Set(names);
  for (let grew = true; grew;) {
    grew = false;
    for (const rr of cnames) {
      const to = rr.records.find((r) => r.type === 'CNAME')?.target;
      if (!to || !chain.has(norm(to)) || chain.has(norm(rr.name))) continue;
      chain.add(norm(rr.name));
      grew = true;
      add(
        zone,
        rr,
        names.has(norm(to)) ? `Alias of the source’s name ${norm(to)}` : `Alias of ${norm(to)}, which leads to the source`,
      );
    }
  }

  for (const rr of i.zoneRRsets) {
    if (rr.type !== 'MX') continue;
    const ex = rr.records.flatMap((r) => (r.type === 'MX' && chain.has(norm(r.exchange)) ? [norm(r.exchange)] : []));
    if (ex.length > 0) add(zone, rr, `Mail for ${norm(rr.name)} is delivered to the source (${ex.join(', ')})`);
  }

  const reverse = new Map(addresses.map((a) => [norm(reverseName(a)), a]));
  for (const rr of i.reverseRRsets) {
    const a = reverse.get(norm(rr.name));
    if (rr.type !== 'PTR' || !a || rr.records.length === 0) continue;
    add(reverseZoneOf(rr.name, i.reverseZones ?? []), rr, `Reverse lookup of the source’s address ${a}`);
  }
  return out;
}
