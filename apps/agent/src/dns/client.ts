// A small DNS client for DNS failover: queries (A, AAAA, CNAME, MX, PTR, SOA) and RFC 2136
// dynamic updates with prerequisites, optionally signed with TSIG (tsig.ts).
// - UDP first; a truncated answer is asked again over TCP.
// - Servers are tried in order: the next one only when a server does not answer within its
//   deadline (or refuses the connection). An answer, even a refusal, is final: asking a second
//   server after the first said "no" could apply a change the operator did not expect.
// - A prerequisite that no longer holds (someone changed the records since we read them) is a
//   DnsConflictError and the server changes nothing.
// dns-packet decodes replies; requests are written here because dns-packet cannot express
// UPDATE's class ANY/NONE records with empty rdata or the TSIG record.
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { z } from 'zod';
import { signRequest, tsigKeySchema, verifyReply } from './tsig.ts';
import {
  CLASS,
  OPCODE,
  RCODE_NAMES,
  TYPE,
  encodeHeader,
  encodeIPv4,
  encodeIPv6,
  encodeName,
  encodeQuestion,
  encodeRecord,
  trimDot,
  u16,
} from './wire.ts';

// ---------------------------------------------------------------------------------------------
// Shapes callers pass (validated with zod)

const LABEL = '[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?';
export const dnsNameSchema = z
  .string()
  .max(254)
  .regex(new RegExp(`^(?:\\*\\.)?${LABEL}(?:\\.${LABEL})*\\.?$`), 'not a valid DNS name')
  .transform((n) => trimDot(n));

export const ttlSchema = z.number().int().min(0).max(2_147_483_647);
export const queryTypeSchema = z.enum(['A', 'AAAA', 'CNAME', 'MX', 'PTR', 'SOA']);
export type QueryType = z.infer<typeof queryTypeSchema>;
export const recordTypeSchema = z.enum(['A', 'AAAA', 'CNAME', 'MX', 'PTR']);
export type RecordType = z.infer<typeof recordTypeSchema>;

export const recordDataSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('A'), address: z.ipv4() }),
  z.object({ type: z.literal('AAAA'), address: z.ipv6() }),
  z.object({ type: z.literal('CNAME'), target: dnsNameSchema }),
  z.object({ type: z.literal('PTR'), target: dnsNameSchema }),
  z.object({ type: z.literal('MX'), preference: z.number().int().min(0).max(65535), exchange: dnsNameSchema }),
]);
export type RecordData = z.input<typeof recordDataSchema>;

export const prerequisiteSchema = z.discriminatedUnion('kind', [
  /** RRset exists (value independent). */
  z.object({ kind: z.literal('rrsetExists'), name: dnsNameSchema, type: recordTypeSchema }),
  /** RRset exists and holds exactly these records (value dependent): "nobody changed it since we read it". */
  z.object({ kind: z.literal('rrsetEquals'), name: dnsNameSchema, records: z.array(recordDataSchema).min(1) }),
  /** RRset does not exist. */
  z.object({ kind: z.literal('rrsetAbsent'), name: dnsNameSchema, type: recordTypeSchema }),
  /** Name is in use (has some RRset). */
  z.object({ kind: z.literal('nameInUse'), name: dnsNameSchema }),
  /** Name is not in use. */
  z.object({ kind: z.literal('nameAbsent'), name: dnsNameSchema }),
]);
export type Prerequisite = z.input<typeof prerequisiteSchema>;

export const updateOpSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('add'), name: dnsNameSchema, ttl: ttlSchema, record: recordDataSchema }),
  z.object({ op: z.literal('deleteRRset'), name: dnsNameSchema, type: recordTypeSchema }),
  z.object({ op: z.literal('deleteRecord'), name: dnsNameSchema, record: recordDataSchema }),
]);
export type UpdateOp = z.input<typeof updateOpSchema>;

const inZone = (name: string, zone: string) => {
  const n = name.toLowerCase();
  const z0 = zone.toLowerCase();
  return z0 === '' || n === z0 || n.endsWith(`.${z0}`);
};

export const updateRequestSchema = z
  .object({
    zone: dnsNameSchema,
    prerequisites: z.array(prerequisiteSchema).default([]),
    updates: z.array(updateOpSchema).min(1),
  })
  .superRefine((req, ctx) => {
    for (const [i, p] of req.prerequisites.entries()) {
      if (!inZone(p.name, req.zone))
        ctx.addIssue({ code: 'custom', path: ['prerequisites', i, 'name'], message: `"${p.name}" is not in zone "${req.zone}"` });
      if (p.kind === 'rrsetEquals' && new Set(p.records.map((r) => r.type)).size !== 1) {
        ctx.addIssue({
          code: 'custom',
          path: ['prerequisites', i, 'records'],
          message: 'the records of one RRset have one type',
        });
      }
    }
    for (const [i, u] of req.updates.entries()) {
      if (!inZone(u.name, req.zone))
        ctx.addIssue({ code: 'custom', path: ['updates', i, 'name'], message: `"${u.name}" is not in zone "${req.zone}"` });
    }
  });
export type UpdateRequest = z.input<typeof updateRequestSchema>;

export const dnsServerSchema = z.object({
  host: z.union([z.ipv4(), z.ipv6()]),
  port: z.number().int().min(1).max(65535).default(53),
});
export type DnsServer = z.input<typeof dnsServerSchema>;

export const DEFAULT_SERVER_TIMEOUT_MS = 30_000;

export const clientOptionsSchema = z.object({
  servers: z.array(dnsServerSchema).min(1, 'at least one DNS server'),
  /** Deadline per server (UDP and any TCP retry together). */
  timeoutMs: z.number().int().min(1).max(600_000).default(DEFAULT_SERVER_TIMEOUT_MS),
  key: tsigKeySchema.optional(),
});
export type ClientOptions = z.input<typeof clientOptionsSchema> & {
  /** Clock for TSIG, in milliseconds (tests pin it). */
  now?: () => number;
};

/** zod parse with an error a person can read ("updates.0.name: ... is not in zone ..."). */
export function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`Invalid ${what}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

// ---------------------------------------------------------------------------------------------
// Errors

/** The server answered with an error code. */
export class DnsRcodeError extends Error {
  constructor(
    readonly rcode: string,
    readonly server: string,
    message: string,
  ) {
    super(message);
    this.name = 'DnsRcodeError';
  }
}

/** An update's prerequisite did not hold: the records changed since they were read. Nothing was changed. */
export class DnsConflictError extends DnsRcodeError {
  constructor(rcode: string, server: string) {
    super(
      rcode,
      server,
      `the DNS records changed since they were read (${rcode} from ${server}): the update's prerequisites no longer hold, so the server changed nothing`,
    );
    this.name = 'DnsConflictError';
  }
}

/** No server answered within its deadline. */
export class DnsUnreachableError extends Error {
  constructor(readonly failures: { server: string; reason: string }[]) {
    super(`no DNS server answered: ${failures.map((f) => `${f.server}: ${f.reason}`).join('; ')}`);
    this.name = 'DnsUnreachableError';
  }
}

// ---------------------------------------------------------------------------------------------
// Results

export type DnsAnswer =
  | { name: string; ttl: number; type: 'A' | 'AAAA'; address: string }
  | { name: string; ttl: number; type: 'CNAME' | 'PTR'; target: string }
  | { name: string; ttl: number; type: 'MX'; preference: number; exchange: string }
  | {
      name: string;
      ttl: number;
      type: 'SOA';
      mname: string;
      rname: string;
      serial: number;
      refresh: number;
      retry: number;
      expire: number;
      minimum: number;
    };

export type QueryResult = { server: string; rcode: string; authoritative: boolean; answers: DnsAnswer[] };
export type UpdateResult = { server: string; skipped: { server: string; reason: string }[] };

// ---------------------------------------------------------------------------------------------
// Encoding

function rdata(r: z.output<typeof recordDataSchema>): Buffer {
  switch (r.type) {
    case 'A':
      return encodeIPv4(r.address);
    case 'AAAA':
      return encodeIPv6(r.address);
    case 'CNAME':
    case 'PTR':
      return encodeName(r.target);
    case 'MX':
      return Buffer.concat([u16(r.preference), encodeName(r.exchange)]);
  }
}

export function encodeUpdate(id: number, request: UpdateRequest): Buffer {
  const req = parse(updateRequestSchema, request, 'DNS update');
  const empty = Buffer.alloc(0);
  const pre: Buffer[] = [];
  for (const p of req.prerequisites) {
    switch (p.kind) {
      case 'rrsetExists':
        pre.push(encodeRecord(p.name, TYPE[p.type], CLASS.ANY, 0, empty));
        break;
      case 'rrsetEquals':
        for (const r of p.records) pre.push(encodeRecord(p.name, TYPE[r.type], CLASS.IN, 0, rdata(r)));
        break;
      case 'rrsetAbsent':
        pre.push(encodeRecord(p.name, TYPE[p.type], CLASS.NONE, 0, empty));
        break;
      case 'nameInUse':
        pre.push(encodeRecord(p.name, TYPE.ANY, CLASS.ANY, 0, empty));
        break;
      case 'nameAbsent':
        pre.push(encodeRecord(p.name, TYPE.ANY, CLASS.NONE, 0, empty));
        break;
    }
  }
  const upd = req.updates.map((u) => {
    switch (u.op) {
      case 'add':
        return encodeRecord(u.name, TYPE[u.record.type], CLASS.IN, u.ttl, rdata(u.record));
      case 'deleteRRset':
        return encodeRecord(u.name, TYPE[u.type], CLASS.ANY, 0, empty);
      case 'deleteRecord':
        return encodeRecord(u.name, TYPE[u.record.type], CLASS.NONE, 0, rdata(u.record));
    }
  });
  const header = encodeHeader({ id, opcode: OPCODE.UPDATE, qd: 1, an: pre.length, ns: upd.length, ar: 0 });
  return Buffer.concat([header, encodeQuestion(req.zone, TYPE.SOA), ...pre, ...upd]);
}

export function encodeQuery(id: number, name: string, type: QueryType): Buffer {
  const n = parse(dnsNameSchema, name, 'DNS name');
  const t = parse(queryTypeSchema, type, 'DNS query type');
  return Buffer.concat([encodeHeader({ id, opcode: OPCODE.QUERY, qd: 1, an: 0, ns: 0, ar: 0 }), encodeQuestion(n, TYPE[t])]);
}

// ---------------------------------------------------------------------------------------------
// Transport

class NoAnswer extends Error {}

/** How a server is named in results and errors: "192.0.2.1:53", "[2001:db8::1]:53". */
export function label(s: z.output<typeof dnsServerSchema>): string {
  return net.isIPv6(s.host) ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`;
}

function udpExchange(server: z.output<typeof dnsServerSchema>, message: Buffer, deadline: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(server.host) ? 'udp6' : 'udp4');
    const id = message.readUInt16BE(0);
    let settled = false;
    const done = (err: Error | null, reply?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolve(reply!);
    };
    const timer = setTimeout(() => done(new NoAnswer('did not answer within the deadline')), Math.max(0, deadline - Date.now()));
    // A connected socket reports "port unreachable" at once instead of waiting out the deadline.
    socket.on('error', (err) => done(new NoAnswer(err.message)));
    socket.on('message', (reply) => {
      if (reply.length >= 12 && reply.readUInt16BE(0) === id) done(null, reply);
    });
    socket.connect(server.port, server.host, () => socket.send(message));
  });
}

function tcpExchange(server: z.output<typeof dnsServerSchema>, message: Buffer, deadline: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: server.host, port: server.port });
    let data = Buffer.alloc(0);
    let settled = false;
    const done = (err: Error | null, reply?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(reply!);
    };
    const timer = setTimeout(
      () => done(new NoAnswer('did not answer over TCP within the deadline')),
      Math.max(0, deadline - Date.now()),
    );
    socket.on('error', (err) => done(new NoAnswer(err.message)));
    socket.on('connect', () => socket.write(Buffer.concat([u16(message.length), message])));
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      if (data.length >= 2 && data.length >= 2 + data.readUInt16BE(0)) done(null, data.subarray(2, 2 + data.readUInt16BE(0)));
    });
    socket.on('end', () => done(new NoAnswer('the server closed the TCP connection without an answer')));
  });
}

/** UDP, then TCP when the answer is truncated; within one deadline. */
async function exchange(server: z.output<typeof dnsServerSchema>, message: Buffer, deadline: number): Promise<Buffer> {
  const reply = await udpExchange(server, message, deadline);
  const truncated = (reply.readUInt16BE(2) & 0x0200) !== 0;
  return truncated ? tcpExchange(server, message, deadline) : reply;
}

type Sent = { server: string; reply: Buffer; skipped: { server: string; reason: string }[] };

/** Sends one request (signed when a key is given) to the first server that answers; the raw reply. */
export async function send(options: ClientOptions, build: (id: number) => Buffer): Promise<Sent> {
  const opts = parse(clientOptionsSchema, options, 'DNS client options');
  const now = options.now ?? Date.now;
  const skipped: { server: string; reason: string }[] = [];
  for (const server of opts.servers) {
    const id = crypto.randomInt(0, 65536);
    const unsigned = build(id);
    const signed = opts.key ? signRequest(unsigned, opts.key, now() / 1000) : null;
    let reply: Buffer;
    try {
      reply = await exchange(server, signed ? signed.message : unsigned, Date.now() + opts.timeoutMs);
    } catch (err) {
      if (err instanceof NoAnswer) {
        skipped.push({ server: label(server), reason: err.message });
        continue;
      }
      throw err;
    }
    // A server that does not know the key answers NOTAUTH with a TSIG error: verifyReply names it.
    if (signed && opts.key) verifyReply(reply, opts.key, signed.mac, now() / 1000);
    return { server: label(server), reply, skipped };
  }
  throw new DnsUnreachableError(skipped);
}

export function rcodeOf(reply: Buffer): string {
  const code = reply.readUInt16BE(2) & 0x000f;
  return RCODE_NAMES[code] ?? `RCODE${code}`;
}

// ---------------------------------------------------------------------------------------------
// Public operations

export function toAnswer(a: dnsPacket.Answer): DnsAnswer | null {
  const base = { name: a.name, ttl: 'ttl' in a ? (a.ttl ?? 0) : 0 };
  switch (a.type) {
    case 'A':
    case 'AAAA':
      return { ...base, type: a.type, address: a.data };
    case 'CNAME':
    case 'PTR':
      return { ...base, type: a.type, target: a.data };
    case 'MX':
      return { ...base, type: 'MX', preference: a.data.preference ?? 0, exchange: a.data.exchange };
    case 'SOA':
      return {
        ...base,
        type: 'SOA',
        mname: a.data.mname,
        rname: a.data.rname,
        serial: a.data.serial ?? 0,
        refresh: a.data.refresh ?? 0,
        retry: a.data.retry ?? 0,
        expire: a.data.expire ?? 0,
        minimum: a.data.minimum ?? 0,
      };
    default:
      return null;
  }
}

/**
 * Asks the servers (in order) for name/type. NXDOMAIN is an answer (rcode "NXDOMAIN", no records);
 * other error codes throw DnsRcodeError. CNAMEs on the way are part of `answers`.
 */
export async function query(options: ClientOptions, name: string, type: QueryType): Promise<QueryResult> {
  const sent = await send(options, (id) => encodeQuery(id, name, type));
  const rcode = rcodeOf(sent.reply);
  if (rcode !== 'NOERROR' && rcode !== 'NXDOMAIN') {
    throw new DnsRcodeError(
      rcode,
      sent.server,
      `the DNS server ${sent.server} answered ${rcode} to the query for ${name} ${type}`,
    );
  }
  const decoded = dnsPacket.decode(sent.reply);
  const answers = (decoded.answers ?? []).map(toAnswer).filter((a): a is DnsAnswer => a !== null);
  return { server: sent.server, rcode, authoritative: ((decoded.flags ?? 0) & dnsPacket.AUTHORITATIVE_ANSWER) !== 0, answers };
}

const CONFLICT_RCODES = new Set(['YXDOMAIN', 'YXRRSET', 'NXDOMAIN', 'NXRRSET']);

/**
 * Sends an RFC 2136 update. Throws DnsConflictError when a prerequisite fails (nothing changed),
 * TsigError when the signature is refused or the reply's does not verify, DnsRcodeError for any
 * other refusal, DnsUnreachableError when no server answered.
 */
export async function update(options: ClientOptions, request: UpdateRequest): Promise<UpdateResult> {
  const req = parse(updateRequestSchema, request, 'DNS update');
  const sent = await send(options, (id) => encodeUpdate(id, req));
  const rcode = rcodeOf(sent.reply);
  if (rcode === 'NOERROR') return { server: sent.server, skipped: sent.skipped };
  if (CONFLICT_RCODES.has(rcode)) throw new DnsConflictError(rcode, sent.server);
  const why: Record<string, string> = {
    REFUSED: options.key
      ? 'the server does not allow this key to update the zone'
      : 'the server does not allow unsigned updates (a TSIG key is needed)',
    NOTAUTH: `the server is not authoritative for zone "${req.zone}" or did not accept the signature`,
    NOTZONE: `a name is outside zone "${req.zone}"`,
    SERVFAIL: 'the server failed to apply the update',
  };
  throw new DnsRcodeError(
    rcode,
    sent.server,
    `the DNS server ${sent.server} refused the update of zone "${req.zone}" (${rcode}${why[rcode] ? `: ${why[rcode]}` : ''})`,
  );
}
