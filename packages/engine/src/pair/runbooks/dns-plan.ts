import {
  describeRecord,
  parseDnsServer,
  reverseName,
  sameRecords,
  type DnsChange,
  type DnsRecordData,
  type DnsRecordType,
  type DnsRRset,
  type DnsServerAddress,
} from '../../dns/records.ts';
import type { PairSettings } from '../settings.ts';
import type { PlannedStep } from '../plans.ts';
import { clip, isIp, refuse, sameAddress, type RunbookServer } from './common.ts';

// DNS failover as data: which RRsets to read before planning, and the exact before → after of
// every RRset that moves. Only RRsets whose records change are planned, so a re-planned failover
// over a zone that already points at the target changes nothing.

export interface DnsQuestion {
  zone: string;
  name: string;
  type: DnsRecordType;
}

const key = (name: string, type: string) => `${name.toLowerCase().replace(/\.$/, '')}|${type}`;
const norm = (name: string) => name.toLowerCase().replace(/\.$/, '');

/** The source's own name when no record was picked: its FQDN, else its host name in the pair's zone. */
function defaultSourceName(settings: PairSettings, source: RunbookServer): string | null {
  if (source.fqdn) return norm(source.fqdn);
  if (source.hostname.includes('.')) return norm(source.hostname);
  return settings.dns.zone ? norm(`${source.hostname}.${settings.dns.zone}`) : null;
}

/** Address map entries usable in DNS (both sides IP addresses). */
const addressPairs = (settings: PairSettings) => settings.dns.addressMap.filter((m) => isIp(m.source) && isIp(m.target));

/**
 * The reverse zone that holds a PTR name: the longest zone the operator picked a PTR record in
 * that contains it; otherwise the classful default (IPv4: the /24 zone, IPv6: the /64 zone).
 */
export function reverseZoneOf(ptrName: string, pickedZones: readonly string[]): string {
  const name = norm(ptrName);
  const within = pickedZones.map(norm).filter((z) => name === z || name.endsWith(`.${z}`));
  if (within.length > 0) return within.sort((a, b) => b.length - a.length)[0]!;
  const labels = name.split('.');
  return name.endsWith('.ip6.arpa') ? labels.slice(16).join('.') : labels.slice(1).join('.');
}

function pickedRecords(settings: PairSettings, source: RunbookServer): { refs: DnsQuestion[]; defaulted: boolean } {
  if (settings.dns.records.length > 0)
    return {
      refs: settings.dns.records.map((r) => ({ zone: norm(r.zone), name: norm(r.name), type: r.type })),
      defaulted: false,
    };
  const name = defaultSourceName(settings, source);
  if (!name)
    throw refuse(`Pick the DNS records to move: ${source.hostname} has no fully qualified name and the pair has no zone`);
  const zone = norm(settings.dns.zone);
  return {
    refs: [
      { zone, name, type: 'A' },
      { zone, name, type: 'AAAA' },
    ],
    defaulted: true,
  };
}

/** The target-side PTR RRset a picked source PTR moves to (null: the PTR is not of a mapped source address). */
function ptrDestination(settings: PairSettings, ptr: DnsQuestion): DnsQuestion | null {
  const m = addressPairs(settings).find((p) => norm(reverseName(p.source)) === ptr.name);
  if (!m) return null;
  const pickedZones = settings.dns.records.filter((r) => r.type === 'PTR').map((r) => r.zone);
  const name = norm(reverseName(m.target));
  return { zone: reverseZoneOf(name, pickedZones), name, type: 'PTR' };
}

/**
 * What the worker asks (dns.query through the DNS executor's agent) before planning a DNS failover:
 * the picked records (none picked: the A/AAAA of the source's name), plus the RRsets a change
 * creates or extends (the PTR of each target address that takes over a source address's PTR).
 */
export function dnsQuestions(settings: PairSettings, source: RunbookServer, target: RunbookServer): DnsQuestion[] {
  void target;
  if (settings.failover.type !== 'dns') return [];
  const { refs } = pickedRecords(settings, source);
  const out = new Map<string, DnsQuestion>();
  for (const r of refs) out.set(key(r.name, r.type), r);
  for (const r of refs) {
    if (r.type !== 'PTR') continue;
    const dest = ptrDestination(settings, r);
    if (dest && !out.has(key(dest.name, dest.type))) out.set(key(dest.name, dest.type), dest);
  }
  return [...out.values()];
}

/** The RRsets a failback reads before planning: exactly those the failover changed. */
export function failbackDnsQuestions(dnsChanges: readonly DnsChange[]): DnsQuestion[] {
  return dnsChanges.map((c) => ({ zone: c.zone, name: c.name, type: c.type }));
}

/** The pair's DNS servers as addresses; a name is refused (updates must reach one exact server). */
export function dnsServers(settings: PairSettings): DnsServerAddress[] {
  if (settings.dns.servers.length === 0) throw refuse('DNS failover needs at least one DNS server in the pair’s DNS settings');
  return settings.dns.servers.map((s) => {
    const parsed = parseDnsServer(s);
    if (!parsed)
      throw refuse(
        `The DNS server "${s}" is not an IP address: enter the server’s IP address (optionally with :port) in the pair’s DNS settings`,
      );
    return parsed;
  });
}

const recordsText = (records: readonly DnsRecordData[]) => records.map(describeRecord).join(', ');

/** One change as an operator reads it: "Point fs01.corp.example.com (A) at 10.0.0.6 instead of 10.0.0.5". */
export function describeDnsChange(c: DnsChange): string {
  const what = `${c.name} (${c.type})`;
  const ttl =
    c.before.records.length > 0 && c.after.records.length > 0 && c.before.ttl !== c.after.ttl
      ? `, TTL ${c.before.ttl} s → ${c.after.ttl} s`
      : '';
  if (c.before.records.length === 0) return `Create ${what} pointing at ${recordsText(c.after.records)}`;
  if (c.after.records.length === 0) return `Remove ${what} (it points at ${recordsText(c.before.records)})`;
  return `Point ${what} at ${recordsText(c.after.records)} instead of ${recordsText(c.before.records)}${ttl}`;
}

/** One dns.apply step for these changes, on the pair's servers through its executor. */
export function dnsApplyStep(settings: PairSettings, changes: DnsChange[], purpose: string): PlannedStep {
  const servers = dnsServers(settings);
  const description =
    changes.length === 1
      ? `${describeDnsChange(changes[0]!)} (${purpose})`
      : `${purpose}: ${changes.length} DNS record sets — ${changes.map(describeDnsChange).join('; ')}`;
  return {
    kind: 'dns.apply',
    description: clip(description),
    params: {
      provider: settings.dns.provider,
      executorServerId: settings.dns.executorServerId,
      servers,
      credentialId: settings.dns.credentialId,
      changes,
    },
  };
}

function answerOf(answers: readonly DnsRRset[], q: DnsQuestion): DnsRRset {
  const found = answers.find((a) => key(a.name, a.type) === key(q.name, q.type));
  if (!found) throw refuse(`${q.name} (${q.type}) was not read from the DNS server before planning; try again`);
  return found;
}

const dedupe = (records: DnsRecordData[]) => records.filter((r, i) => records.findIndex((o) => sameRecords([o], [r])) === i);

interface Working {
  zone: string;
  name: string;
  type: DnsRecordType;
  before: { ttl: number; records: DnsRecordData[] };
  after: DnsRecordData[];
}

/**
 * The exact changes of a DNS failover. A/AAAA: records holding a mapped source address get the
 * mapped target address (other records stay). CNAME/MX naming the source: re-pointed at the
 * target's FQDN. PTR of a source address: its names move to the PTR of the target address.
 * TTL of a changed RRset: min(current, the pair's TTL). An RRset that already holds the after
 * state changes nothing; a picked RRset that holds nothing the map knows is refused (planning
 * around it would leave clients on the source without saying so).
 */
export function planDnsFailover(
  settings: PairSettings,
  source: RunbookServer,
  target: RunbookServer,
  answers: readonly DnsRRset[],
): DnsChange[] {
  const { refs, defaulted } = pickedRecords(settings, source);
  const pairs = addressPairs(settings);
  const work = new Map<string, Working>();
  const slot = (q: DnsQuestion): Working => {
    const k = key(q.name, q.type);
    let w = work.get(k);
    if (!w) {
      const a = answerOf(answers, q);
      w = { zone: q.zone, name: q.name, type: q.type, before: { ttl: a.ttl, records: a.records }, after: [...a.records] };
      work.set(k, w);
    }
    return w;
  };
  const targetFqdn = target.fqdn ? norm(target.fqdn) : null;
  const isSourceAddress = (a: string) => pairs.some((p) => sameAddress(p.source, a));
  const isTargetAddress = (a: string) => pairs.some((p) => sameAddress(p.target, a));

  // The source's names: its own, and every picked A/AAAA name that holds one of its addresses.
  const sourceNames = new Set<string>();
  const own = defaultSourceName(settings, source);
  if (own) sourceNames.add(own);

  const addressRefs = refs.filter((r) => r.type === 'A' || r.type === 'AAAA');
  let addressRecordsSeen = false;
  for (const r of addressRefs) {
    const w = slot(r);
    if (w.before.records.length > 0) addressRecordsSeen = true;
    if (w.before.records.length === 0 && defaulted) continue;
    const holdsSource = w.before.records.some((rec) => (rec.type === 'A' || rec.type === 'AAAA') && isSourceAddress(rec.address));
    if (holdsSource) sourceNames.add(r.name);
    if (!holdsSource) {
      if (w.before.records.some((rec) => (rec.type === 'A' || rec.type === 'AAAA') && isTargetAddress(rec.address))) continue; // already moved
      throw refuse(
        `${r.name} (${r.type}) holds ${w.before.records.length ? recordsText(w.before.records) : 'no record'}, which is no source address in the pair’s address map: map it, or stop moving this record`,
      );
    }
    w.after = dedupe(
      w.before.records.map((rec) => {
        if ((rec.type !== 'A' && rec.type !== 'AAAA') || !isSourceAddress(rec.address)) return rec;
        const to = pairs.find((p) => sameAddress(p.source, rec.address))!.target;
        if (isIp(to) && to.includes(':') !== (rec.type === 'AAAA'))
          throw refuse(`${rec.address} maps to ${to}, an address of the other family: ${r.name} (${r.type}) cannot hold it`);
        return { ...rec, address: to };
      }),
    );
  }
  if (defaulted && !addressRecordsSeen) {
    throw refuse(
      `The zone holds no A or AAAA record for ${addressRefs[0]?.name ?? source.hostname}: pick the records to move in the pair’s DNS settings`,
    );
  }

  const needTargetName = (what: string) => {
    if (!targetFqdn)
      throw refuse(
        `${what} must be re-pointed at the target, but ${target.hostname} has no fully qualified name: give it one (its agent reports it) or stop moving this record`,
      );
    return targetFqdn;
  };
  const cnameRefs = refs.filter((r) => r.type === 'CNAME');
  const chainNames = new Set(cnameRefs.map((r) => r.name));
  for (const r of cnameRefs) {
    const w = slot(r);
    const rec = w.before.records.find((x) => x.type === 'CNAME');
    if (rec && sourceNames.has(rec.target)) {
      w.after = [{ type: 'CNAME', target: needTargetName(`${r.name} (CNAME)`) }];
    } else if (rec && (rec.target === targetFqdn || chainNames.has(rec.target))) {
      // Already at the target, or an alias of another moving alias: it follows that one.
      continue;
    } else {
      throw refuse(
        `${r.name} (CNAME) points at ${rec ? rec.target : 'nothing'}, which is neither the source’s name nor a record that moves: pick the records it leads through, or stop moving it`,
      );
    }
  }

  for (const r of refs.filter((x) => x.type === 'MX')) {
    const w = slot(r);
    const mx = w.before.records.filter((x) => x.type === 'MX');
    if (mx.some((x) => sourceNames.has(x.exchange))) {
      const to = needTargetName(`${r.name} (MX)`);
      w.after = dedupe(
        w.before.records.map((x) => (x.type === 'MX' && sourceNames.has(x.exchange) ? { ...x, exchange: to } : x)),
      );
    } else if (!mx.some((x) => x.exchange === targetFqdn)) {
      throw refuse(
        `${r.name} (MX) names ${mx.length ? mx.map((x) => x.exchange).join(', ') : 'no mail exchange'}, not the source: stop moving it, or check the source’s name`,
      );
    }
  }

  for (const r of refs.filter((x) => x.type === 'PTR')) {
    const dest = ptrDestination(settings, r);
    if (!dest)
      throw refuse(
        `${r.name} (PTR) is not the reverse name of a source address in the pair’s address map: map that address, or stop moving this record`,
      );
    const w = slot(r);
    const d = slot(dest);
    if (w.before.records.length === 0) {
      if (d.before.records.some((x) => x.type === 'PTR' && sourceNames.has(x.target))) continue; // already moved
      throw refuse(`${r.name} (PTR) holds no record, so there is no reverse name to move: stop moving it`);
    }
    // The reverse lookup of the source address names the source; that name now answers from the target's address.
    d.after = dedupe([...d.after, ...w.before.records]);
    w.after = [];
  }

  const ttl = settings.dns.ttlSeconds;
  return [...work.values()]
    .filter((w) => !sameRecords(w.before.records, w.after))
    .map((w) => ({
      zone: w.zone,
      name: w.name,
      type: w.type,
      before: w.before,
      after: { ttl: w.before.records.length === 0 ? ttl : Math.min(w.before.ttl, ttl), records: w.after },
    }));
}

/**
 * The exact reversal of a failover's DNS changes: each RRset the failover changed goes from what
 * it holds now back to the failover's before-state (records and TTL). Nothing else is touched.
 */
export function planDnsRevert(dnsChanges: readonly DnsChange[], answers: readonly DnsRRset[]): DnsChange[] {
  const out: DnsChange[] = [];
  for (const c of dnsChanges) {
    const now = answerOf(answers, c);
    const same = sameRecords(now.records, c.before.records) && (now.records.length === 0 || now.ttl === c.before.ttl);
    if (same) continue;
    out.push({ zone: c.zone, name: c.name, type: c.type, before: { ttl: now.ttl, records: now.records }, after: c.before });
  }
  return out;
}
