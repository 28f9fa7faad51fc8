// The DNS side of a pair as the portal shows it: the records that move at failover with what the
// DNS servers answer now (pair.dnsRecords), and the records found for a source in a zone, for the
// wizard and the settings form to pick from (pair.dnsDiscover). Both ask through the DNS
// executor's agent; no transaction is held while it answers.
import { z } from 'zod';
import { CommandError } from '@tandem/agent-bus';
import { AppError, describeRecord, discoverDnsRecords, dnsQuestions, dnsNameSchema, dnsRecordDataSchema, dnsRecordTypeSchema, idSchema, notFound, reverseName, reverseZoneOf, type DnsQuestion, type DnsRecordType, type DnsRRset } from '@tandem/engine';
import { runbookServer } from '@tandem/protocol';
import { agentErrorToAppError } from '../../agent-errors';
import { agentBus } from '../../services/agents';
import { serverView, storedSettings } from '../../services/pairs';
import { agentMemberProcedure, agentOrgProcedure } from '../../trpc';
import { dnsAuthOf } from '../credential/secrets';
import { dnsCommandTimeout, dnsServers, loadExecutor, PER_SERVER_MS } from './dns-agent';

const answerOutput = z.object({
  zone: z.string(),
  name: z.string(),
  type: dnsRecordTypeSchema,
  /** ok: the server answered (records [] = the name has none of this type); unknown: no answer, see reason. */
  state: z.enum(['ok', 'unknown']),
  ttl: z.number().int().nullable(),
  records: z.array(dnsRecordDataSchema),
  /** The records as a person reads them ("10.0.0.5", "mail.example.com (10)"). */
  values: z.array(z.string()),
  reason: z.string().nullable(),
});

/** What dnsQuestions reads of a server (its name; the rest matters to planning only). */
/** The /24 reverse zone of an IPv4 address (10.0.0.5 → 0.0.10.in-addr.arpa); null for others, loopback and link-local. */
function reverseZone24(address: string): string | null {
  if (!z.ipv4().safeParse(address).success || /^(127|169\.254)\./.test(address)) return null;
  return reverseZoneOf(reverseName(address), []);
}

/** A failed agent call as the sentence shown beside each record it left unanswered. */
function reasonOf(err: unknown): string {
  if (err instanceof CommandError) return agentErrorToAppError(err).message;
  if (err instanceof AppError) return err.message;
  throw err;
}

const unknownAnswer = (q: { zone: string; name: string; type: DnsRecordType }, reason: string) => ({ ...q, state: 'unknown' as const, ttl: null, records: [], values: [], reason });

/**
 * The pair's records that move at failover (the picked ones, or by default the source name's
 * addresses), each with the live answer of its DNS servers. An offline agent or an unreachable
 * server is not an error: each record then says "unknown" and why.
 */
export const pairDnsRecords = agentMemberProcedure
  .input(z.object({ pairId: idSchema }))
  .output(
    z.object({
      configured: z.boolean(),
      picked: z.boolean(),
      executor: z.object({ serverId: z.string(), hostname: z.string(), online: z.boolean() }).nullable(),
      server: z.string().nullable(),
      records: z.array(answerOutput),
    }),
  )
  .query(async ({ ctx, input }) => {
    const prepared = await ctx.tx(async (db) => {
      const pair = await db.protectionPair.findUnique({ where: { id: input.pairId }, include: { source: { include: { agent: true } }, target: { include: { agent: true } } } });
      if (!pair) throw notFound('Protection pair');
      const settings = storedSettings(pair);
      if (!settings || settings.dns.servers.length === 0 || !settings.dns.zone) return null;
      // The executor must be the pair's customer's; a customer user may not see it (RLS): then unknown.
      const executor = await loadExecutor(db, settings.dns.executorServerId ?? pair.targetServerId, pair.customerId).catch(() => null);
      // Reading needs no key on most servers; one a customer user may not open (an organization-wide
      // credential is invisible to them) is left out and the question asked unsigned.
      const auth = await dnsAuthOf(db, settings.dns.credentialId, pair.customerId).catch(() => ({}));
      // A source with no known name and nothing picked has no records to show (the plan refuses it too).
      let questions: DnsQuestion[] = [];
      try {
        questions = dnsQuestions(settings, runbookServer(pair.source), runbookServer(pair.target));
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
      }
      return { settings, executor, auth, questions };
    });
    if (!prepared) return { configured: false, picked: false, executor: null, server: null, records: [] };
    const { settings, executor, auth, questions } = prepared;
    const base = {
      configured: true,
      picked: settings.dns.records.length > 0,
      executor: executor ? { serverId: executor.id, hostname: executor.hostname, online: executor.agentId !== null } : null,
    };
    const unknownAll = (reason: string) => ({ ...base, server: null, records: questions.map((q) => unknownAnswer(q, reason)) });
    if (!executor) return unknownAll('The DNS executor server is not available');
    if (!executor.agentId) return unknownAll(`The agent on ${executor.hostname} (the DNS executor) is not online`);
    let servers;
    try {
      servers = dnsServers(settings.dns.servers);
    } catch (err) {
      return unknownAll(reasonOf(err));
    }

    // One question per zone at a time (the windows provider looks records up per zone).
    const byZone = new Map<string, typeof questions>();
    for (const q of questions) byZone.set(q.zone, [...(byZone.get(q.zone) ?? []), q]);
    let answeredBy: string | null = null;
    const answers = new Map<string, z.infer<typeof answerOutput>>();
    const key = (q: { name: string; type: string }) => `${q.name} ${q.type}`;
    await Promise.all(
      [...byZone].map(async ([zone, qs]) => {
        try {
          const res = await agentBus().send(
            executor.agentId!,
            'dns.query',
            { provider: settings.dns.provider, servers, timeoutMs: PER_SERVER_MS, ...auth, zone, questions: qs.map((q) => ({ name: q.name, type: q.type })) },
            { timeoutMs: dnsCommandTimeout(servers.length) },
          );
          answeredBy ??= res.server;
          for (const q of qs) {
            const rr = res.rrsets.find((r) => r.name === q.name && r.type === q.type);
            const ok = rr && (rr.rcode === 'NOERROR' || rr.rcode === 'NXDOMAIN');
            answers.set(
              key(q),
              ok
                ? { ...q, state: 'ok', ttl: rr.records.length ? rr.ttl : null, records: rr.records, values: rr.records.map(describeRecord), reason: rr.records.length ? null : rr.rcode === 'NXDOMAIN' ? 'The name does not exist' : 'No record of this type' }
                : unknownAnswer(q, rr ? `The DNS server answered ${rr.rcode}` : 'The DNS server gave no answer for it'),
            );
          }
        } catch (err) {
          const reason = reasonOf(err);
          for (const q of qs) answers.set(key(q), unknownAnswer(q, reason));
        }
      }),
    );
    return { ...base, server: answeredBy, records: questions.map((q) => answers.get(key(q))!) };
  });

export const dnsDiscoverInput = z.object({
  sourceServerId: idSchema,
  targetServerId: idSchema,
  dns: z.object({
    servers: z.array(z.string().trim().min(1).max(80)).min(1, 'Give at least one DNS server').max(8),
    zone: dnsNameSchema,
    credentialId: idSchema.nullable().default(null),
    provider: z.enum(['rfc2136', 'windows']).default('rfc2136'),
    executorServerId: idSchema.nullable().default(null),
  }),
});

/**
 * The records of a zone that concern the source (its names' addresses, aliases of them, mail
 * exchanges on it, and the PTR records of its addresses in their /24 reverse zones), with their
 * current answers and why each was found, for the operator to pick which move at failover.
 */
export const pairDnsDiscover = agentOrgProcedure('operator')
  .input(dnsDiscoverInput)
  .output(
    z.object({
      server: z.string(),
      truncated: z.boolean(),
      records: z.array(z.object({ zone: z.string(), name: z.string(), type: dnsRecordTypeSchema, ttl: z.number().int(), records: z.array(dnsRecordDataSchema), values: z.array(z.string()), reason: z.string() })),
      reverseZones: z.array(z.object({ zone: z.string(), transferred: z.boolean(), reason: z.string().nullable() })),
    }),
  )
  .query(async ({ ctx, input }) => {
    const { source, executor, auth } = await ctx.tx(async (db) => {
      const [source, target] = await Promise.all(
        [input.sourceServerId, input.targetServerId].map((id) => db.server.findUnique({ where: { id }, include: { agent: { select: { status: true } } } })),
      );
      if (!source || !target) throw notFound('Server');
      if (source.customerId !== target.customerId) throw new AppError('BAD_REQUEST', 'The source and target must be servers of the same customer', { targetServerId: 'Choose a server of the source’s customer' });
      const executor = await loadExecutor(db, input.dns.executorServerId ?? target.id, source.customerId);
      const auth = await dnsAuthOf(db, input.dns.credentialId, source.customerId);
      return { source, executor, auth };
    });
    const servers = dnsServers(input.dns.servers);
    if (!executor.agentId) throw new AppError('CONFLICT', `The agent on ${executor.hostname} (the DNS executor) is not online; discovery runs through it`);
    const transfer = (zone: string) =>
      agentBus().send(executor.agentId!, 'dns.transfer', { provider: input.dns.provider, servers, timeoutMs: PER_SERVER_MS, ...auth, zone }, { timeoutMs: dnsCommandTimeout(servers.length) });

    const zone = await transfer(input.dns.zone);
    const view = serverView(source);
    const sourceAddresses = view.addresses;
    // A server's reverse zone is not known; the /24 of each IPv4 address is the usual one, and a
    // server that refuses it (or does not hold it) just means no PTR records are offered.
    const reverseZones = [...new Set(sourceAddresses.map(reverseZone24).filter((z): z is string => z !== null))];
    const reverse = await Promise.all(
      reverseZones.map(async (rz) => {
        try {
          return { zone: rz, transferred: true, reason: null, rrsets: (await transfer(rz)).rrsets };
        } catch (err) {
          return { zone: rz, transferred: false, reason: reasonOf(err), rrsets: [] as DnsRRset[] };
        }
      }),
    );
    const sourceNames = [view.fqdn, source.hostname.includes('.') ? source.hostname : `${source.hostname}.${input.dns.zone}`].filter((n): n is string => !!n).map((n) => n.replace(/\.$/, '').toLowerCase());
    const found = discoverDnsRecords({
      zoneRRsets: zone.rrsets,
      reverseRRsets: reverse.flatMap((r) => r.rrsets),
      zone: input.dns.zone,
      sourceNames: [...new Set(sourceNames)],
      sourceAddresses,
      reverseZones: reverse.filter((r) => r.transferred).map((r) => r.zone),
    });
    return {
      server: zone.server,
      truncated: zone.truncated,
      records: found.map((r) => ({ zone: r.zone, name: r.name, type: r.type, ttl: r.ttl, records: r.records, values: r.records.map(describeRecord), reason: r.reason })),
      reverseZones: reverse.map(({ zone: z, transferred, reason }) => ({ zone: z, transferred, reason })),
    };
  });
