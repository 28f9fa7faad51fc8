// Asking the agents for a validation run's facts: each node's standing facts refreshed
// (facts.collect) and its validation facts (validate.facts), in parallel, within 60 s; the DNS
// executor's dry run within 30 s. Nothing here runs inside a database transaction.
import { randomUUID } from 'node:crypto';
import { CommandError, type AgentBus } from '@tandem/agent-bus';
import type { ActionInput, ActionResult } from '@tandem/protocol';
import { parseDnsServer, type DnsDryRun, type PairSettings, type ValidationFactsArgs } from '@tandem/engine';
import type { DnsAuth } from '@tandem/security';
import type { AgentSeen, NodeInput } from './build-snapshot.ts';
import { DNS_DRY_RUN_BUDGET_MS, DNS_PRIMARY_MS, FACTS_DEADLINE_MS } from './reference.ts';

export interface ServerRead {
  id: string;
  hostname: string;
  facts: unknown;
  factsAt: Date | null;
  agent: AgentSeen | null;
}

export interface Gathered {
  input: NodeInput;
  gatherer: { ok: boolean; error: string | null; ms: number };
}

const text = (err: unknown) => (err instanceof Error ? err.message : String(err));
/** The agent was never reached or never answered (as opposed to answering with an error). */
const silent = (err: unknown) => err instanceof CommandError && (err.code === 'agent_offline' || err.code === 'no_ack' || err.code === 'timeout');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Sends a read-only command and waits for its answer until the deadline. An answer lost to a
 * reconnect is asked for again under the same command id: the agent answers from its memory of
 * that command instead of collecting twice.
 */
async function sendWithin<A extends 'facts.collect' | 'validate.facts'>(bus: AgentBus, agentId: string, action: A, args: ActionInput<A>, deadlineMs: number): Promise<ActionResult<A>> {
  const commandId = randomUUID();
  const until = Date.now() + deadlineMs;
  for (;;) {
    const left = until - Date.now();
    try {
      // Half the deadline per attempt (it is also the agent's own limit for the work, which takes
      // seconds): an answer lost to a reconnect is asked for again while time is left.
      return await bus.send(agentId, action, args, { commandId, timeoutMs: Math.max(1_000, Math.min(left, Math.ceil(deadlineMs / 2))) });
    } catch (err) {
      if (!silent(err) || Date.now() + 500 >= until) throw err;
      await sleep(250);
    }
  }
}

/**
 * One node's facts. `readServer` re-reads the server row (its own short transaction): after
 * facts.collect the fresh standing facts arrive through the gateway, a moment after the answer.
 */
export async function gatherNode(bus: AgentBus, server: ServerRead, args: ValidationFactsArgs, readServer: () => Promise<ServerRead | null>, deadlineMs = FACTS_DEADLINE_MS): Promise<Gathered> {
  const started = Date.now();
  const base = { serverId: server.id, hostname: server.hostname, agent: server.agent, storedFacts: server.facts };
  const fail = (error: string): Gathered => ({ input: { ...base, validation: { ok: false, error }, answered: false }, gatherer: { ok: false, error, ms: Date.now() - started } });
  let agent = server.agent;
  if (!agent || agent.status === 'revoked') return fail(`no agent is enrolled on ${server.hostname}`);
  // An agent reconnecting (offline for a moment) is waited for, within the deadline.
  while (agent.status !== 'online' && Date.now() - started < Math.min(deadlineMs, 20_000)) {
    await sleep(500);
    agent = (await readServer())?.agent ?? agent;
  }
  if (agent.status !== 'online') return fail(`the agent on ${server.hostname} is ${agent.status}${agent.lastSeenAt ? ` (last seen ${agent.lastSeenAt.toISOString()})` : ''}`);
  base.agent = agent;
  const left = deadlineMs - (Date.now() - started);

  const [collect, validation] = await Promise.allSettled([
    sendWithin(bus, agent.id, 'facts.collect', {}, left),
    sendWithin(bus, agent.id, 'validate.facts', args, left),
  ]);
  let storedFacts = server.facts;
  if (collect.status === 'fulfilled') {
    // The facts travel as their own message; wait (briefly) until the gateway has stored them.
    const wanted = Date.parse(collect.value.collectedAt);
    const until = Math.min(started + deadlineMs, Date.now() + 5_000);
    for (;;) {
      const row = await readServer();
      const at = (row?.facts as { collectedAt?: string } | null)?.collectedAt;
      if (row) storedFacts = row.facts;
      if ((at && Date.parse(at) >= wanted) || Date.now() >= until) break;
      await sleep(100);
    }
  }
  const answered = collect.status === 'fulfilled' || validation.status === 'fulfilled' || (validation.status === 'rejected' && !silent(validation.reason));
  const v: NodeInput['validation'] =
    validation.status === 'fulfilled' ? { ok: true, facts: validation.value } : { ok: false, error: `validate.facts: ${text(validation.reason)}` };
  const errors = [collect.status === 'rejected' ? `facts.collect: ${text(collect.reason)}` : null, v.ok ? null : v.error].filter((e): e is string => e !== null);
  return {
    input: { ...base, storedFacts, validation: v, answered },
    gatherer: { ok: answered && errors.length === 0, error: answered ? (errors.join('; ') || null) : `the agent on ${server.hostname} did not answer: ${errors.join('; ')}`, ms: Date.now() - started },
  };
}

export interface DnsExecutor {
  server: ServerRead | null;
  /** The stored credential, opened in memory for this call only (or why it cannot be). */
  auth: DnsAuth | { error: string };
}

/** The DNS executor's dry run (catalogue §1.9 step 3): null with the reason when it could not run. */
export async function dnsDryRun(bus: AgentBus, s: PairSettings, exec: DnsExecutor, sourceHostname: string): Promise<{ dns: DnsDryRun | null; gatherer: Gathered['gatherer'] }> {
  const started = Date.now();
  const fail = (error: string) => ({ dns: null, gatherer: { ok: false, error, ms: Date.now() - started } });
  const agent = exec.server?.agent;
  if (!exec.server || !agent || agent.status === 'revoked') return fail('the DNS executor has no agent');
  if (agent.status !== 'online') return fail(`the DNS executor ${exec.server.hostname} is ${agent.status}`);
  if ('error' in exec.auth) return fail(exec.auth.error);
  const sourceName = s.dns.records.find((r) => r.type === 'A' || r.type === 'AAAA')?.name ?? (s.dns.zone ? `${sourceHostname.split('.')[0]}.${s.dns.zone}` : null);
  if (!sourceName || !s.dns.zone || s.dns.servers.length === 0) return fail('the pair names no DNS zone, server or source record');
  const servers = s.dns.servers.map(parseDnsServer);
  if (servers.some((x) => x === null)) return fail(`a DNS server of the pair is not an address: ${s.dns.servers.join(', ')}`);
  const addresses = [...new Set(s.dns.addressMap.flatMap((m) => [m.source, m.target]))];
  try {
    const dns = await bus.send(
      agent.id,
      'dns.dry-run',
      {
        provider: s.dns.provider,
        zone: s.dns.zone,
        servers: servers.filter((x) => x !== null),
        ...(exec.auth.tsig ? { tsig: exec.auth.tsig } : {}),
        ...(exec.auth.account ? { account: exec.auth.account } : {}),
        sourceName,
        addresses,
        resolvers: [],
        budgetMs: DNS_DRY_RUN_BUDGET_MS,
        primaryMs: DNS_PRIMARY_MS,
      },
      // The agent keeps to the budget; the bus waits a little longer for its answer.
      { timeoutMs: DNS_DRY_RUN_BUDGET_MS + 5_000 },
    );
    return { dns, gatherer: { ok: !dns.timedOut, error: dns.timedOut ? 'the DNS dry run ran out of its 30 s budget' : null, ms: Date.now() - started } };
  } catch (err) {
    return fail(`dns.dry-run on ${exec.server.hostname}: ${text(err)}`);
  }
}
