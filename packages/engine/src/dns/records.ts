import { z } from 'zod';

// DNS records as Tandem plans and stores them: the shapes the engine plans with, the protocol
// carries to the agent that updates the zone, and an operation keeps as its before-state (so a
// failback restores exactly what was there). Pure data; the wire format lives in the agent.

const LABEL = '[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?';
/** A DNS name without the trailing dot, compared case-insensitively (lower-cased here). */
export const dnsNameSchema = z
  .string()
  .trim()
  .max(254)
  .regex(new RegExp(`^(?:\\*\\.)?${LABEL}(?:\\.${LABEL})*\\.?$`), 'Not a valid DNS name')
  .transform((n) => n.replace(/\.$/, '').toLowerCase());

export const dnsRecordTypes = ['A', 'AAAA', 'CNAME', 'MX', 'PTR'] as const;
export const dnsRecordTypeSchema = z.enum(dnsRecordTypes);
export type DnsRecordType = z.infer<typeof dnsRecordTypeSchema>;

export const dnsTtlSchema = z.number().int().min(0).max(2_147_483_647);

/** One record's data (without its name and TTL). */
export const dnsRecordDataSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('A'), address: z.ipv4() }),
  z.strictObject({ type: z.literal('AAAA'), address: z.ipv6() }),
  z.strictObject({ type: z.literal('CNAME'), target: dnsNameSchema }),
  z.strictObject({ type: z.literal('PTR'), target: dnsNameSchema }),
  z.strictObject({ type: z.literal('MX'), preference: z.number().int().min(0).max(65_535), exchange: dnsNameSchema }),
]);
export type DnsRecordData = z.infer<typeof dnsRecordDataSchema>;

/**
 * An RRset: every record of one name and type. `records: []` means the name has no records of
 * this type (absent), which is a state like any other (a failback may have to remove a record).
 */
export const dnsRRsetSchema = z.strictObject({
  name: dnsNameSchema,
  type: dnsRecordTypeSchema,
  ttl: dnsTtlSchema,
  records: z.array(dnsRecordDataSchema).max(64),
});
export type DnsRRset = z.infer<typeof dnsRRsetSchema>;

/**
 * One planned change of one RRset, as desired state: the agent checks the zone holds `before`
 * (or already `after`: then nothing is done) and replaces it with `after`, with a prerequisite so
 * a concurrent change is detected, never overwritten.
 */
export const dnsChangeSchema = z.strictObject({
  zone: dnsNameSchema,
  name: dnsNameSchema,
  type: dnsRecordTypeSchema,
  before: z.strictObject({ ttl: dnsTtlSchema, records: z.array(dnsRecordDataSchema).max(64) }),
  after: z.strictObject({ ttl: dnsTtlSchema, records: z.array(dnsRecordDataSchema).max(64) }),
});
export type DnsChange = z.infer<typeof dnsChangeSchema>;

/** A DNS server to update or ask: an IP address and port (53 unless given). */
export const dnsServerSchema = z.strictObject({
  host: z.union([z.ipv4(), z.ipv6()]),
  port: z.number().int().min(1).max(65_535).default(53),
});
export type DnsServerAddress = z.infer<typeof dnsServerSchema>;

/**
 * Reads a DNS server as the settings store it: "10.0.0.2", "10.0.0.2:5353", "fd00::2" or
 * "[fd00::2]:5353". Null when it is not an IP address (a name cannot be updated reliably).
 */
export function parseDnsServer(text: string): DnsServerAddress | null {
  const t = text.trim();
  let host = t;
  let port = 53;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  const v4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d+)$/.exec(t);
  if (bracketed) {
    host = bracketed[1]!;
    if (bracketed[2]) port = Number(bracketed[2]);
  } else if (v4WithPort) {
    host = v4WithPort[1]!;
    port = Number(v4WithPort[2]);
  }
  const parsed = dnsServerSchema.safeParse({ host, port });
  return parsed.success ? parsed.data : null;
}

/** The reverse-lookup name of an address: 10.0.0.5 → 5.0.0.10.in-addr.arpa (IPv6: nibbles under ip6.arpa). */
export function reverseName(address: string): string {
  if (z.ipv4().safeParse(address).success) return `${address.split('.').reverse().join('.')}.in-addr.arpa`;
  if (!z.ipv6().safeParse(address).success) throw new Error(`"${address}" is not an IP address`);
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const groups = (s: string) => (s ? s.split(':') : []);
  const h = groups(head);
  const t = groups(tail);
  const full = address.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return `${full
    .map((g) => g.padStart(4, '0'))
    .join('')
    .split('')
    .reverse()
    .join('.')}.ip6.arpa`;
}

/** Two record lists hold the same records (order does not matter). */
export function sameRecords(a: readonly DnsRecordData[], b: readonly DnsRecordData[]): boolean {
  const key = (r: DnsRecordData) => JSON.stringify(Object.entries(r).sort(([x], [y]) => x.localeCompare(y)));
  const ka = a.map(key).sort();
  const kb = b.map(key).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i]);
}

/** A record's data as a person reads it: "10.0.0.5", "mail.example.com (10)". */
export function describeRecord(r: DnsRecordData): string {
  switch (r.type) {
    case 'A':
    case 'AAAA':
      return r.address;
    case 'CNAME':
    case 'PTR':
      return r.target;
    case 'MX':
      return `${r.exchange} (preference ${r.preference})`;
  }
}
