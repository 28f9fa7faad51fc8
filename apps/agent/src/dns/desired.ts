// The desired-state rules of dns.apply, shared by the RFC 2136 and the Windows provider: how a
// change compares with what the zone holds now, and the errors a person reads when it does not fit.
import { dnsTransferResultSchema, MAX_TRANSFER_RRSETS, type ActionArgs } from '@tandem/protocol';

export type DnsChange = ActionArgs<'dns.apply'>['changes'][number];
export type DnsRecord = DnsChange['after']['records'][number];
export type DnsType = DnsChange['type'];
/** What one name/type holds now (records: [] when absent; ttl 0 then). */
export type Current = { ttl: number; records: DnsRecord[] };

export const sameName = (a: string, b: string) => a.replace(/\.$/, '').toLowerCase() === b.replace(/\.$/, '').toLowerCase();
const lowerName = (n: string) => n.replace(/\.$/, '').toLowerCase();

/** An IPv6 address in its one short form (RFC 5952), so "2001:DB8:0::10" equals "2001:db8::10". */
export function canonicalIPv6(address: string): string {
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

/** A record with names lower-cased and addresses in one form. */
export function canonicalRecord(r: DnsRecord): DnsRecord {
  switch (r.type) {
    case 'A':
      return r;
    case 'AAAA':
      return { type: 'AAAA', address: canonicalIPv6(r.address) };
    case 'CNAME':
    case 'PTR':
      return { type: r.type, target: lowerName(r.target) };
    case 'MX':
      return { type: 'MX', preference: r.preference, exchange: lowerName(r.exchange) };
  }
}

export function recordText(r: DnsRecord): string {
  switch (r.type) {
    case 'A':
      return r.address;
    case 'AAAA':
      return canonicalIPv6(r.address);
    case 'CNAME':
    case 'PTR':
      return lowerName(r.target);
    case 'MX':
      return `${r.preference} ${lowerName(r.exchange)}`;
  }
}

/** The same records, in any order. */
export function sameRecords(a: readonly DnsRecord[], b: readonly DnsRecord[]): boolean {
  const ka = a.map(recordText).sort();
  const kb = b.map(recordText).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i]);
}

/** "192.0.2.10, 192.0.2.11 (TTL 300)" or "nothing". */
export function describeRRset(s: Current): string {
  return s.records.length === 0 ? 'nothing' : `${s.records.map(recordText).join(', ')} (TTL ${s.ttl})`;
}

/**
 * already: the RRset is `after` (same records; same TTL unless after is "absent").
 * before: it holds `before`'s records (the TTL is not compared: an update's prerequisite cannot
 * check it either, and the new records get after.ttl anyway). conflict: anything else.
 */
export function classify(change: DnsChange, current: Current): 'already' | 'before' | 'conflict' {
  if (
    sameRecords(current.records, change.after.records) &&
    (change.after.records.length === 0 || current.ttl === change.after.ttl)
  ) {
    return 'already';
  }
  if (sameRecords(current.records, change.before.records)) return 'before';
  return 'conflict';
}

export class DnsChangedBehindError extends Error {
  override name = 'DnsChangedBehindError';
}

/** The error for RRsets that hold neither `before` nor `after`. */
export function changedBehind(
  found: { change: DnsChange; current: Current }[],
  detail = 'Nothing was changed.',
): DnsChangedBehindError {
  const lines = found.map(
    ({ change, current }) =>
      `${change.name} ${change.type} holds ${describeRRset(current)}; Tandem expected ${describeRRset(change.before)} (before) or ${describeRRset(change.after)} (after)`,
  );
  return new DnsChangedBehindError(`DNS records changed behind Tandem's back: ${lines.join('; ')}. ${detail}`);
}

/** Changes grouped by zone, in the order their zones first appear; two changes of one RRset are refused. */
export function groupByZone(changes: readonly DnsChange[]): Map<string, DnsChange[]> {
  const seen = new Set<string>();
  const zones = new Map<string, DnsChange[]>();
  for (const c of changes) {
    const key = `${lowerName(c.name)} ${c.type}`;
    if (seen.has(key)) throw new Error(`Invalid arguments for dns.apply: ${c.name} ${c.type} is changed twice`);
    seen.add(key);
    const zone = lowerName(c.zone);
    const name = lowerName(c.name);
    if (name !== zone && !name.endsWith(`.${zone}`))
      throw new Error(`Invalid arguments for dns.apply: ${c.name} is not in zone ${c.zone}`);
    zones.set(zone, [...(zones.get(zone) ?? []), c]);
  }
  return zones;
}

const rrsetSchema = dnsTransferResultSchema.shape.rrsets.element;
const MAX_RECORDS_PER_RRSET = 64;

/** A zone's A/AAAA/CNAME/MX/PTR records as RRsets (name + type), in the order they came. */
/** Over MAX_TRANSFER_RRSETS RRsets, or over 64 records in one, the result says `truncated`. */
export function groupRRsets(answers: { name: string; type: DnsType; ttl: number; record: DnsRecord }[]) {
  const groups = new Map<string, { name: string; type: DnsType; ttl: number; records: DnsRecord[] }>();
  let truncated = false;
  for (const a of answers) {
    const name = a.name.replace(/\.$/, '').toLowerCase();
    const key = `${name} ${a.type}`;
    let g = groups.get(key);
    if (!g) {
      if (groups.size >= MAX_TRANSFER_RRSETS) {
        truncated = true;
        continue;
      }
      g = { name, type: a.type, ttl: a.ttl, records: [] };
      groups.set(key, g);
    }
    if (g.records.length >= MAX_RECORDS_PER_RRSET) truncated = true;
    else g.records.push(a.record);
  }
  // Names Tandem cannot change (RFC 2317 "0/25" labels and the like) are left out of discovery.
  const rrsets = [...groups.values()].filter((g) => rrsetSchema.safeParse(g).success);
  return { rrsets, truncated };
}
