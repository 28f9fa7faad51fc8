// dns.dry-run (catalogue §1.9 step 3): checks that a failover's DNS change could be made, without
// changing any real record. The zone's primary (SOA MNAME) is asked first for up to primaryMs, then
// the configured secondaries in order, all within budgetMs; every try is recorded. Authorisation is
// proven with a TSIG-signed UPDATE holding only a prerequisite (the zone apex is in use): the server
// checks the key and the update rights after the prerequisites and changes nothing. Only when a
// server refuses such an update is a probe TXT record `_tandem-probe.<zone>` added and deleted.
// The TSIG secret never appears in a message (the client's errors name the key, not the secret).
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { ActionArgs, ActionResult } from '@tandem/protocol';
import { transfer } from './axfr.ts';
import { DnsUnreachableError, encodeQuery, label, rcodeOf, send, toAnswer, type ClientOptions, type DnsAnswer } from './client.ts';
import { TsigError } from './tsig.ts';
import { CLASS, OPCODE, TYPE, encodeHeader, encodeQuestion, encodeRecord } from './wire.ts';

type Args = ActionArgs<'dns.dry-run'>;
type Result = ActionResult<'dns.dry-run'>;
type Attempt = Result['attempts'][number];
type Server = { host: string; port: number };
type Key = NonNullable<Args['tsig']>;

const PROBE_LABEL = '_tandem-probe';
const TXT = 16;
const RESOLVER_MS = 3_000;

const lower = (n: string) => n.replace(/\.$/, '').toLowerCase();
const within = (name: string, zone: string) => lower(name) === lower(zone) || lower(name).endsWith(`.${lower(zone)}`);

/** The time the whole dry run may take; steps that find it spent are skipped and say so. */
class Budget {
  readonly deadline: number;
  ranOut = false;
  constructor(ms: number) {
    this.deadline = Date.now() + ms;
  }
  left(): number {
    return this.deadline - Date.now();
  }
  /** A step's timeout (at most `cap`), or null (and ranOut) when nothing is left. */
  slice(cap = Infinity): number | null {
    const left = this.left();
    if (left < 20) {
      this.ranOut = true;
      return null;
    }
    return Math.max(1, Math.min(cap, left));
  }
}

/** The reverse-lookup name of an address (nibbles under ip6.arpa for IPv6); null when not an address. */
export function reverseName(address: string): string | null {
  if (net.isIPv4(address)) return `${address.split('.').reverse().join('.')}.in-addr.arpa`;
  if (!net.isIPv6(address)) return null;
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const full = address.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return `${full.map((g) => g.padStart(4, '0')).join('').split('').reverse().join('.')}.ip6.arpa`;
}

/** "10.0.0.2", "10.0.0.2:5353", "fd00::2", "[fd00::2]:5353" → a server; null when not an address. */
export function parseServer(text: string): Server | null {
  const t = text.trim();
  const b = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d+))?$/.exec(t);
  const [host, port] = b ? [b[1]!, b[2]] : v4 ? [v4[1]!, v4[2]] : [t, undefined];
  if (!net.isIP(host)) return null;
  const p = port === undefined ? 53 : Number(port);
  return p >= 1 && p <= 65_535 ? { host, port: p } : null;
}

async function systemResolvers(): Promise<string[]> {
  const text = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  return [...text.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]!).slice(0, 16);
}

type Reply = { rcode: string; aa: boolean; answers: DnsAnswer[]; authorities: DnsAnswer[] };

function decode(reply: Buffer): Reply {
  const d = dnsPacket.decode(reply);
  const map = (xs: dnsPacket.Answer[] | undefined) => (xs ?? []).map(toAnswer).filter((a): a is DnsAnswer => a !== null);
  return { rcode: rcodeOf(reply), aa: ((d.flags ?? 0) & dnsPacket.AUTHORITATIVE_ANSWER) !== 0, answers: map(d.answers), authorities: map(d.authorities) };
}

async function ask(server: Server, timeoutMs: number, name: string, type: 'A' | 'AAAA' | 'SOA', recursive = false): Promise<Reply> {
  const build = (id: number) => {
    const q = encodeQuery(id, name, type);
    if (recursive) q.writeUInt16BE(q.readUInt16BE(2) | 0x0100, 2);
    return q;
  };
  return decode((await send({ servers: [server], timeoutMs }, build)).reply);
}

const describe = (e: unknown) => (e instanceof DnsUnreachableError ? e.failures.map((f) => f.reason).join('; ') : e instanceof Error ? e.message : String(e));

/** An UPDATE of `zone` whose only content is the prerequisite "the zone apex is in use". */
function prerequisiteOnly(zone: string) {
  return (id: number) =>
    Buffer.concat([encodeHeader({ id, opcode: OPCODE.UPDATE, qd: 1, an: 1, ns: 0, ar: 0 }), encodeQuestion(zone, TYPE.SOA), encodeRecord(zone, TYPE.ANY, CLASS.ANY, 0, Buffer.alloc(0))]);
}

function txtProbe(zone: string, op: 'add' | 'delete') {
  const name = `${PROBE_LABEL}.${zone}`;
  const text = Buffer.from('tandem dry run');
  return (id: number) =>
    op === 'add'
      ? Buffer.concat([
          encodeHeader({ id, opcode: OPCODE.UPDATE, qd: 1, an: 1, ns: 1, ar: 0 }),
          encodeQuestion(zone, TYPE.SOA),
          // Prerequisite: the probe name is unused, so nothing of anyone else's is touched.
          encodeRecord(name, TYPE.ANY, CLASS.NONE, 0, Buffer.alloc(0)),
          encodeRecord(name, TXT, CLASS.IN, 60, Buffer.concat([Buffer.from([text.length]), text])),
        ])
      : Buffer.concat([encodeHeader({ id, opcode: OPCODE.UPDATE, qd: 1, an: 0, ns: 1, ar: 0 }), encodeQuestion(zone, TYPE.SOA), encodeRecord(name, TXT, CLASS.ANY, 0, Buffer.alloc(0))]);
}

type Probe = { ok: true } | { ok: false; code: string; error: string; tsig: boolean };

const WHY: Record<string, string> = {
  REFUSED: 'the server does not allow this update',
  NOTAUTH: 'the server is not authoritative for the zone or did not accept the signature',
  NOTIMP: 'the server does not implement dynamic updates',
  FORMERR: 'the server could not read the update',
  SERVFAIL: 'the server failed to process the update',
  NOTZONE: 'the name is outside the zone',
};

async function sendUpdate(server: Server, timeoutMs: number, key: Key | undefined, build: (id: number) => Buffer, zone: string): Promise<Probe> {
  const opts: ClientOptions = { servers: [server], timeoutMs, ...(key ? { key } : {}) };
  try {
    const rcode = rcodeOf((await send(opts, build)).reply);
    if (rcode === 'NOERROR') return { ok: true };
    const who = key ? `key ${key.name}` : 'an unsigned update';
    return { ok: false, code: rcode, tsig: false, error: `${rcode} for ${who} on zone ${zone}: ${WHY[rcode] ?? 'refused'}` };
  } catch (e) {
    if (e instanceof TsigError) return { ok: false, code: e.code, tsig: true, error: e.message };
    return { ok: false, code: 'NOANSWER', tsig: false, error: describe(e) };
  }
}

/** The zone holding `name` on this server: the SOA in the answer or authority section; null when the server serves none. */
async function zoneOf(server: Server, budget: Budget, name: string): Promise<string | null> {
  const t = budget.slice();
  if (t === null) return null;
  try {
    const r = await ask(server, t, name, 'SOA');
    if (r.rcode !== 'NOERROR' && r.rcode !== 'NXDOMAIN') return null;
    const soa = [...r.answers, ...r.authorities].find((a) => a.type === 'SOA' && within(name, a.name));
    return soa ? lower(soa.name) : null;
  } catch {
    return null;
  }
}

interface Located {
  server: Server | null;
  attempts: Attempt[];
  soa: Extract<DnsAnswer, { type: 'SOA' }> | null;
  authoritative: boolean;
}

/** The primary (the first configured server, or the one SOA MNAME names) first, then the secondaries. */
async function locate(a: Args, budget: Budget): Promise<Located> {
  const attempts: Attempt[] = [];
  const servers: Server[] = a.servers.map((s) => ({ host: s.host, port: s.port }));
  type Answered = { server: Server; reply: Reply; attempt: Attempt };
  const attempt = async (server: Server, role: Attempt['role'], cap: number): Promise<Answered | null> => {
    const t = budget.slice(cap);
    if (t === null) return null;
    const started = Date.now();
    try {
      const reply = await ask(server, t, a.zone, 'SOA');
      const refused = reply.rcode !== 'NOERROR';
      const at: Attempt = { server: label(server), role, answered: true, ms: Date.now() - started, error: refused ? `${reply.rcode} to the SOA query for ${a.zone}` : null };
      attempts.push(at);
      return { server, reply, attempt: at };
    } catch (e) {
      attempts.push({ server: label(server), role, answered: false, ms: Date.now() - started, error: describe(e).slice(0, 2000) });
      if (budget.left() < 20) budget.ranOut = true;
      return null;
    }
  };
  const soaOf = (r: Reply) => r.answers.find((x): x is Extract<DnsAnswer, { type: 'SOA' }> => x.type === 'SOA' && lower(x.name) === lower(a.zone)) ?? null;

  let found = await attempt(servers[0]!, 'primary', a.primaryMs);
  if (found) {
    // The SOA may name another primary than the first configured server: that one is asked first.
    const mname = soaOf(found.reply)?.mname;
    const addrs: string[] = [];
    for (const type of ['A', 'AAAA'] as const) {
      const t = mname ? budget.slice(a.primaryMs) : null;
      if (t === null) continue;
      const r = await ask(found.server, t, mname!, type).catch(() => null);
      for (const x of r?.answers ?? []) if ((x.type === 'A' || x.type === 'AAAA') && lower(x.name) === lower(mname!)) addrs.push(x.address);
    }
    if (addrs.length > 0 && !addrs.includes(servers[0]!.host)) {
      const named = servers.find((s) => addrs.includes(s.host)) ?? { host: addrs[0]!, port: 53 };
      found.attempt.role = 'secondary';
      found = (await attempt(named, 'primary', a.primaryMs)) ?? found;
    }
  } else {
    for (const s of servers.slice(1)) {
      found = await attempt(s, 'secondary', Infinity);
      if (found || budget.ranOut) break;
    }
  }
  if (!found) return { server: null, attempts, soa: null, authoritative: false };
  const soa = soaOf(found.reply);
  return { server: found.server, attempts, soa, authoritative: found.reply.rcode === 'NOERROR' && found.reply.aa && soa !== null };
}

async function authorise(a: Args, server: Server, budget: Budget): Promise<{ auth: Result['auth']; dynamicUpdate: 'secure' | 'open' | 'none' | null }> {
  const t1 = budget.slice();
  const unsigned = t1 === null ? null : await sendUpdate(server, t1, undefined, prerequisiteOnly(a.zone), a.zone);
  let signed: Probe | null = null;
  if (a.tsig) {
    const t2 = budget.slice();
    signed = t2 === null ? null : await sendUpdate(server, t2, a.tsig, prerequisiteOnly(a.zone), a.zone);
    // A server that will not take a prerequisite-only update: a probe record, added and removed.
    if (signed && !signed.ok && !signed.tsig && ['FORMERR', 'NOTIMP', 'REFUSED'].includes(signed.code)) signed = await txtRoundTrip(a.zone, server, budget, a.tsig, signed);
  }
  const unsignedOk = unsigned?.ok === true;
  const dynamicUpdate = unsignedOk ? 'open' : signed?.ok ? 'secure' : signed && !signed.ok && !signed.tsig && unsigned ? 'none' : null;
  if (!a.tsig) {
    if (unsigned === null) return { auth: { ok: null, error: 'not tried: the time budget ran out' }, dynamicUpdate };
    return { auth: unsignedOk ? { ok: true, error: null } : { ok: false, error: `no TSIG key is configured and ${unsigned.ok ? '' : unsigned.error}` }, dynamicUpdate };
  }
  if (signed === null) return { auth: { ok: null, error: 'not tried: the time budget ran out' }, dynamicUpdate };
  return { auth: signed.ok ? { ok: true, error: null } : { ok: false, error: signed.error.slice(0, 2000) }, dynamicUpdate };
}

async function txtRoundTrip(zone: string, server: Server, budget: Budget, key: Key, first: Probe): Promise<Probe> {
  const t = budget.slice();
  if (t === null) return first;
  const added = await sendUpdate(server, t, key, txtProbe(zone, 'add'), zone);
  // YXDOMAIN: a probe left by an interrupted run; removing it proves the rights as well.
  if (!added.ok && added.code !== 'YXDOMAIN') return added;
  const t2 = budget.slice();
  const removed = t2 === null ? ({ ok: false, code: 'TIMEOUT', tsig: false, error: 'the time budget ran out' } as const) : await sendUpdate(server, t2, key, txtProbe(zone, 'delete'), zone);
  if (!removed.ok) return { ...removed, error: `the probe record ${PROBE_LABEL}.${zone} was added but could not be removed: ${removed.error}` };
  return { ok: true };
}

export async function dnsDryRun(a: Args, platform: NodeJS.Platform): Promise<Result> {
  if (a.provider === 'windows') {
    if (platform !== 'win32') throw new Error('the windows DNS provider needs a Windows agent (its dry run uses the DnsServer cmdlets there)');
    throw new Error('the windows DNS provider dry run is not available on this agent');
  }
  if (a.account) throw new Error('a domain account is for the windows DNS provider; rfc2136 updates are signed with a TSIG key');
  const budget = new Budget(a.budgetMs);
  const loc = await locate(a, budget);
  const result: Result = {
    provider: { kind: 'rfc2136', endpoint: loc.server ? label(loc.server) : a.servers.map((s) => label({ host: s.host, port: s.port })).join(', ') },
    attempts: loc.attempts,
    timedOut: false,
    auth: { ok: null, error: null },
    zone: null,
    records: [],
    referrers: [],
    reverseZones: [],
    fenceEntries: [],
    resolverView: [],
    planOk: false,
    planReason: null,
  };
  const server = loc.server;
  if (server === null) {
    result.timedOut = budget.ranOut;
    result.planReason = budget.ranOut ? `no DNS server answered within the ${a.budgetMs} ms budget` : 'no DNS server answered';
    return result;
  }

  const { auth, dynamicUpdate } = await authorise(a, server, budget);
  result.auth = auth;
  result.zone = { name: lower(a.zone), authoritative: loc.authoritative, primary: loc.soa ? lower(loc.soa.mname) : null, dynamicUpdate };

  // The source's A/AAAA records as the answering server holds them.
  for (const type of ['A', 'AAAA'] as const) {
    const t = budget.slice();
    if (t === null) break;
    const r = await ask(server, t, a.sourceName, type).catch(() => null);
    for (const x of r?.answers ?? [])
      if (x.type === type && lower(x.name) === lower(a.sourceName)) result.records.push({ type, name: lower(a.sourceName), value: x.address, ttl: x.ttl });
  }
  const sourceZone = within(a.sourceName, a.zone) ? await zoneOf(server, budget, a.sourceName) : null;

  // Records elsewhere in the zone that lead to the source, when the server allows a transfer.
  const tx = budget.slice();
  if (tx !== null) {
    const t = await transfer({ servers: [server], timeoutMs: tx, ...(a.tsig ? { key: a.tsig } : {}) }, a.zone).catch(() => null);
    for (const x of t?.answers ?? []) {
      const points = (x.type === 'CNAME' && lower(x.target) === lower(a.sourceName)) || (x.type === 'MX' && lower(x.exchange) === lower(a.sourceName));
      if (points) result.referrers.push({ type: x.type, name: lower(x.name), zone: lower(a.zone), managed: true });
    }
  }

  for (const address of [...new Set(a.addresses)]) {
    const rname = reverseName(address);
    const zone = rname === null ? null : await zoneOf(server, budget, rname);
    let updatable = false;
    const t = zone === null ? null : budget.slice();
    if (zone !== null && t !== null) updatable = (await sendUpdate(server, t, a.tsig, prerequisiteOnly(zone), zone)).ok;
    result.reverseZones.push({ address, zone, updatable });
  }

  const serverView = result.records.filter((r) => r.type === 'A').map((r) => r.value).sort();
  for (const text of a.resolvers.length > 0 ? a.resolvers : await systemResolvers()) {
    const resolver = parseServer(text);
    const t = budget.slice(RESOLVER_MS);
    if (t === null) break;
    const r = resolver === null ? null : await ask(resolver, t, a.sourceName, 'A', true).catch(() => null);
    const answers = (r?.answers ?? []).flatMap((x) => (x.type === 'A' ? [x.address] : [])).sort();
    result.resolverView.push({ resolver: text, answers, matchesServer: r !== null && answers.length === serverView.length && answers.every((v, i) => v === serverView[i]) });
  }

  result.timedOut = budget.ranOut;
  if (!loc.authoritative) result.planReason = `${label(server)} is not authoritative for zone ${lower(a.zone)} (a forwarder, a stale secondary, or the wrong zone)`;
  else if (!within(a.sourceName, a.zone)) result.planReason = `${lower(a.sourceName)} is not in zone ${lower(a.zone)}`;
  else if (sourceZone !== null && sourceZone !== lower(a.zone)) result.planReason = `${lower(a.sourceName)} belongs to zone ${sourceZone}, not ${lower(a.zone)}`;
  else if (budget.ranOut) result.planReason = `the dry run did not finish within the ${a.budgetMs} ms budget`;
  result.planOk = result.planReason === null;
  return result;
}
