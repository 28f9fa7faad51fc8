// dns.query, dns.transfer and dns.apply: the DNS executor's side of DNS failover.
// - rfc2136 (default): this agent talks DNS to the servers in order (dns/client.ts, dns/axfr.ts),
//   signed with the TSIG key when one is given.
// - windows: PowerShell's DnsServer cmdlets on this Windows agent (dns/windows.ts), for Active
//   Directory-integrated zones that accept only secure updates.
// dns.apply is desired state (dns/desired.ts): RRsets already at `after` are left alone, RRsets at
// `before` are changed, anything else is a conflict that changes nothing. With rfc2136 each zone's
// changes go in one UPDATE whose prerequisites hold the exact `before`, so a change made between
// our read and our update is refused by the server itself (all or nothing per zone).
import type { ActionArgs } from '@tandem/protocol';
import { DnsConflictError, DnsRcodeError, label, query, update, type ClientOptions, type DnsAnswer } from '../dns/client.ts';
import { transfer } from '../dns/axfr.ts';
import {
  canonicalRecord,
  changedBehind,
  classify,
  describeRRset,
  groupByZone,
  groupRRsets,
  sameName,
  type Current,
  type DnsChange,
  type DnsRecord,
  type DnsType,
} from '../dns/desired.ts';
import { TsigError } from '../dns/tsig.ts';
import { windowsDnsApply, windowsDnsQuery, windowsDnsTransfer } from '../dns/windows.ts';
import type { CommandRunner } from '../exec.ts';
import { runCommand } from '../exec.ts';

export type DnsActionName = 'dns.query' | 'dns.transfer' | 'dns.apply';

export interface DnsActionContext {
  platform: NodeJS.Platform;
  run?: CommandRunner;
}

type Target = ActionArgs<'dns.query'> | ActionArgs<'dns.transfer'> | ActionArgs<'dns.apply'>;

export async function dnsAction(action: DnsActionName, args: unknown, ctx: DnsActionContext): Promise<unknown> {
  const target = args as Target;
  if (target.provider === 'windows') {
    if (ctx.platform !== 'win32')
      throw new Error('the windows DNS provider needs a Windows agent (it runs the DnsServer PowerShell cmdlets)');
    if (target.tsig) throw new Error('the windows DNS provider does not use a TSIG key (it updates as a Windows account)');
    const run = ctx.run ?? runCommand;
    if (action === 'dns.query') return windowsDnsQuery(run, args as ActionArgs<'dns.query'>);
    if (action === 'dns.transfer') return windowsDnsTransfer(run, args as ActionArgs<'dns.transfer'>);
    return windowsDnsApply(run, args as ActionArgs<'dns.apply'>);
  }
  if (target.account)
    throw new Error('a domain account is for the windows DNS provider; rfc2136 updates are signed with a TSIG key');
  if (action === 'dns.query') return rfcQuery(args as ActionArgs<'dns.query'>);
  if (action === 'dns.transfer') return rfcTransfer(args as ActionArgs<'dns.transfer'>);
  return rfcApply(args as ActionArgs<'dns.apply'>);
}

// ---------------------------------------------------------------------------------------------
// rfc2136

function clientOptions(a: Target): ClientOptions {
  return { servers: a.servers, timeoutMs: a.timeoutMs, key: a.tsig };
}

/** A refused key is said plainly: it is the usual cause, and the operator fixes it in the credential. */
async function keyErrors<T>(a: Target, fn: () => Promise<T>, tail = ''): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (
      a.tsig &&
      ((err instanceof TsigError && err.side === 'server') || (err instanceof DnsRcodeError && err.rcode === 'NOTAUTH'))
    ) {
      throw new Error(`The DNS server refused the TSIG key ${a.tsig.name}: ${err.message}.${tail}`, { cause: err });
    }
    throw err;
  }
}

function toRecord(a: DnsAnswer): DnsRecord | null {
  switch (a.type) {
    case 'A':
    case 'AAAA':
      return canonicalRecord({ type: a.type, address: a.address });
    case 'CNAME':
    case 'PTR':
      return canonicalRecord({ type: a.type, target: a.target });
    case 'MX':
      return canonicalRecord({ type: 'MX', preference: a.preference, exchange: a.exchange });
    default:
      return null;
  }
}

type Read = Current & { server: string; rcode: string };

/** The RRset name/type holds now. Answers for other names (a CNAME's target) are not part of it. */
/**
 * Within one action a server that did not answer is not waited for again (each wait can be the
 * whole per-server deadline): the server that answered moves to the front, the others keep their order.
 */
function stick(options: ClientOptions, answered: string): void {
  const i = options.servers.findIndex((s) => label({ host: s.host, port: s.port ?? 53 }) === answered);
  if (i > 0) options.servers = [...options.servers.slice(i), ...options.servers.slice(0, i)];
}

async function readRRset(options: ClientOptions, name: string, type: DnsType): Promise<Read> {
  const r = await query(options, name, type);
  stick(options, r.server);
  const own = r.answers.filter((a) => a.type === type && sameName(a.name, name));
  const records = own.map(toRecord).filter((x): x is DnsRecord => x !== null);
  return { server: r.server, rcode: r.rcode, ttl: own[0]?.ttl ?? 0, records };
}

async function rfcQuery(a: ActionArgs<'dns.query'>) {
  const options = clientOptions(a);
  let server = '';
  const rrsets = [];
  for (const q of a.questions) {
    const r = await keyErrors(a, () => readRRset(options, q.name, q.type));
    server = r.server;
    rrsets.push({ name: q.name, type: q.type, ttl: r.ttl, records: r.records, rcode: r.rcode });
  }
  return { server, rrsets };
}

async function rfcTransfer(a: ActionArgs<'dns.transfer'>) {
  const t = await keyErrors(a, () => transfer(clientOptions(a), a.zone));
  const answers = t.answers.flatMap((x) => {
    const record = toRecord(x);
    return record ? [{ name: x.name, type: record.type, ttl: x.ttl, record }] : [];
  });
  return { server: t.server, ...groupRRsets(answers) };
}

async function rfcApply(a: ActionArgs<'dns.apply'>) {
  const zones = groupByZone(a.changes);
  const options = clientOptions(a);
  const nothing = ' Nothing was changed.';
  let server = '';
  // Everything is read first: a conflict in any zone changes nothing in any zone.
  const current = new Map<DnsChange, Current>();
  for (const c of a.changes) {
    const r = await keyErrors(a, () => readRRset(options, c.name, c.type), nothing);
    server = r.server;
    current.set(c, r);
  }
  const conflicts = a.changes.filter((c) => classify(c, current.get(c)!) === 'conflict');
  if (conflicts.length > 0) throw changedBehind(conflicts.map((c) => ({ change: c, current: current.get(c)! })));

  const outcome = new Map<DnsChange, 'changed' | 'already'>();
  const updated: string[] = [];
  for (const [zone, changes] of zones) {
    const pending = changes.filter((c) => classify(c, current.get(c)!) === 'before');
    for (const c of changes) if (!pending.includes(c)) outcome.set(c, 'already');
    if (pending.length === 0) continue;
    const tail =
      updated.length === 0
        ? nothing
        : ` Zone ${zone} was not changed; zone(s) ${updated.join(', ')} already were (running the same changes again finishes the rest).`;
    try {
      const u = await keyErrors(
        a,
        () =>
          update(options, {
            zone,
            prerequisites: pending.map((c) =>
              c.before.records.length > 0
                ? { kind: 'rrsetEquals' as const, name: c.name, records: c.before.records }
                : { kind: 'rrsetAbsent' as const, name: c.name, type: c.type },
            ),
            updates: pending.flatMap((c) => [
              { op: 'deleteRRset' as const, name: c.name, type: c.type },
              ...c.after.records.map((record) => ({ op: 'add' as const, name: c.name, ttl: c.after.ttl, record })),
            ]),
          }),
        tail,
      );
      server = u.server;
      stick(options, u.server);
    } catch (err) {
      if (!(err instanceof DnsConflictError)) throw err;
      // Someone changed a record between our read and our update: say which and what it holds now.
      const now = [];
      for (const c of pending) now.push({ change: c, current: await readRRset(options, c.name, c.type) });
      const moved = now.filter((x) => classify(x.change, x.current) !== 'before');
      throw changedBehind(moved.length > 0 ? moved : now, `The server refused the update of zone ${zone} (${err.rcode}).${tail}`);
    }
    updated.push(zone);
    // Confirm: a server may accept an update and still not hold the records (a CNAME beside other data is ignored).
    for (const c of pending) {
      const r = await readRRset(options, c.name, c.type);
      if (classify(c, r) !== 'already') {
        throw new Error(
          `The DNS server accepted the update of zone ${zone} but ${c.name} ${c.type} holds ${describeRRset(r)} instead of ${describeRRset(c.after)}`,
        );
      }
      outcome.set(c, 'changed');
    }
  }
  return { server, changes: a.changes.map((c) => ({ zone: c.zone, name: c.name, type: c.type, outcome: outcome.get(c)! })) };
}
