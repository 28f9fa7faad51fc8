// The planning phase of a failover, failback or test failover: gather what the engine needs (both servers'
// facts, the agents' state, the live DNS answers of the records that move, for a failback the
// failover it reverses), ask the engine for the runbook, and store its steps, the diff and the
// point of no return with the operation. A dry run ends here; a run executes the stored steps.
// Nothing is changed anywhere before the plan is stored, so a refusal leaves the pair as it was.
import type { AgentBus } from '@tandem/agent-bus';
import { emitEvent, type TenantTx } from '@tandem/db';
import { pairNames } from '../jobs/alert-conditions.ts';
import {
  describeChanges,
  dnsQuestions,
  failbackDnsQuestions,
  failbackOptionsSchema,
  failoverOptionsSchema,
  operationInFlightStatuses,
  parseDnsServer,
  planFailback,
  planFailover,
  planTestFailover,
  recordedFailoverState,
  stepFromRow,
  stepToRow,
  type PlannedStep,
  type DnsChange,
  type DnsRecordType,
  type DnsRRset,
  type DnsServerAddress,
  type PairSettings,
  type Runbook,
} from '@tandem/engine';
import { runbookServer, type ActionInput } from '@tandem/protocol';
import { dnsAuthFor, type OrgTx } from './dns-credential.ts';
import type { StepContext } from './steps.ts';

/** A reason not to fail over (or back) now; the operation fails with it and nothing was changed. */
export class PlanningRefused extends Error {}

/** Each DNS server gets this long to answer before the next is asked. */
export const DNS_SERVER_DEADLINE_MS = 30_000;

interface OperationRow {
  id: string;
  kind: string;
  pairId: string | null;
  options: unknown;
  dryRun?: boolean;
}

const serverSelect = { id: true, hostname: true, osFamily: true, facts: true, agent: { select: { id: true, status: true } } } as const;

// ---- talking to the DNS servers through the executor's agent ----

export interface DnsAccess {
  agentId: string;
  hostname: string;
  provider: 'rfc2136' | 'windows';
  servers: DnsServerAddress[];
  tsig?: ActionInput<'dns.query'>['tsig'];
  account?: ActionInput<'dns.query'>['account'];
}

/**
 * Who asks the DNS servers (the executor's agent, by default the target's), which servers, and
 * with which key (opened here, sent to that agent only). Refused when the agent is not online.
 */
export async function dnsAccess(tx: StepContext['tx'], orgTx: OrgTx, settings: PairSettings, pair: { targetServerId: string; customerId: string }): Promise<DnsAccess> {
  const targetServerId = pair.targetServerId;
  const executorId = settings.dns.executorServerId ?? targetServerId;
  const server = await tx((db: TenantTx) => db.server.findUnique({ where: { id: executorId }, select: { hostname: true, agent: { select: { id: true, status: true } } } }));
  if (!server) throw new PlanningRefused('The DNS executor server no longer exists; choose another in the pair’s DNS settings');
  if (!server.agent || server.agent.status !== 'online') {
    throw new PlanningRefused(`The DNS executor agent on ${server.hostname} is ${server.agent?.status ?? 'not enrolled'}: it must be online to read and change the DNS records`);
  }
  const servers = settings.dns.servers.map(parseDnsServer).filter((s): s is DnsServerAddress => s !== null);
  if (servers.length === 0) throw new PlanningRefused('The pair’s DNS settings name no DNS server by IP address');
  const auth = await dnsAuthFor(orgTx, settings.dns.credentialId, pair.customerId, (m) => new PlanningRefused(m));
  return { agentId: server.agent.id, hostname: server.hostname, provider: settings.dns.provider, servers, ...auth };
}

const answered = new Set(['NOERROR', 'NXDOMAIN']);

/**
 * The current RRsets of `questions` (records [] when absent), one dns.query per zone, each
 * server given 30 s. A server that cannot answer (all of them down, a refused query) is a refusal.
 */
export async function queryDns(bus: AgentBus, access: DnsAccess, questions: { zone: string; name: string; type: DnsRecordType }[]): Promise<DnsRRset[]> {
  const byZone = new Map<string, { name: string; type: DnsRecordType }[]>();
  for (const q of questions) {
    const list = byZone.get(q.zone) ?? [];
    if (!list.some((x) => x.name === q.name && x.type === q.type)) list.push({ name: q.name, type: q.type });
    byZone.set(q.zone, list);
  }
  const out: DnsRRset[] = [];
  for (const [zone, qs] of byZone) {
    const args = { provider: access.provider, servers: access.servers, timeoutMs: DNS_SERVER_DEADLINE_MS, zone, questions: qs, ...(access.tsig ? { tsig: access.tsig } : {}), ...(access.account ? { account: access.account } : {}) };
    let result;
    try {
      result = await bus.send(access.agentId, 'dns.query', args, { timeoutMs: DNS_SERVER_DEADLINE_MS * access.servers.length + 5_000 });
    } catch (err) {
      throw new PlanningRefused(`The DNS servers could not be asked through ${access.hostname}: ${err instanceof Error ? err.message : String(err)}`);
    }
    for (const r of result.rrsets) {
      if (!answered.has(r.rcode.toUpperCase())) throw new PlanningRefused(`${result.server} answered ${r.rcode} for ${r.name} (${r.type})`);
      out.push({ name: r.name, type: r.type, ttl: r.ttl, records: r.records });
    }
  }
  return out;
}

// ---- planning ----

/**
 * The failover a failback reverses: the DNS changes and addresses it actually made, from the
 * steps that ran. The latest real failover that ran steps: one that succeeded, or one that
 * stopped past its point of no return (the pair stays failed over then).
 */
async function reversedFailover(tx: StepContext['tx'], pairId: string) {
  const op = await tx((db) =>
    db.operation.findFirst({
      where: { pairId, kind: 'failover', status: { in: ['succeeded', 'failed'] }, dryRun: false, steps: { some: { status: 'succeeded' } } },
      orderBy: { createdAt: 'desc' },
      include: { steps: { where: { phase: 'run' }, orderBy: { position: 'asc' } } },
    }),
  );
  if (!op) return null;
  const ran: PlannedStep[] = [];
  for (const row of op.steps) {
    const parsed = stepFromRow(row);
    if (!parsed.ok) continue;
    // A source address step tells which interface the address came from, even when it was skipped.
    const sourceAddress = parsed.step.kind === 'address.ensure' && parsed.step.params.side === 'source';
    if (row.status === 'succeeded' || sourceAddress) ran.push(parsed.step);
  }
  return { operationId: op.id, ...recordedFailoverState(ran) };
}

/** The DNS changes of the failover the pair is in (what the DNS must hold while failed over). */
export async function failoverDnsChanges(tx: StepContext['tx'], pairId: string): Promise<DnsChange[]> {
  return (await reversedFailover(tx, pairId))?.dnsChanges ?? [];
}

/**
 * Plans the operation and stores the plan (steps, diff, point of no return) in one short
 * transaction. Throws PlanningRefused when it must not go ahead; nothing was changed then.
 */
export async function planRunbook(ctx: StepContext, op: OperationRow): Promise<Runbook> {
  if (!isPlanned(op.kind)) throw new Error(`${op.kind} operations are not planned here`);
  const pairId = ctx.pair.id;
  const row = await ctx.tx((db) =>
    db.protectionPair.findUnique({
      where: { id: pairId },
      select: { status: true, replicationMethod: true, source: { select: serverSelect }, target: { select: serverSelect } },
    }),
  );
  if (!row) throw new PlanningRefused('The pair no longer exists');
  const inFlight = await ctx.tx((db) => db.operation.count({ where: { pairId, id: { not: op.id }, status: { in: [...operationInFlightStatuses] } } }));
  if (inFlight > 0) throw new PlanningRefused('Another operation is under way on this pair; wait until it finishes');
  const source = runbookServer(row.source);
  const target = runbookServer(row.target);
  const method = row.replicationMethod;
  const settings = ctx.settings;
  const dnsFailover = settings.failover.type === 'dns';

  let runbook: Runbook;
  if (op.kind === 'test_failover') {
    // A preview may be planned while the target is away, as for a failover; a run may not start.
    runbook = engine(() =>
      planTestFailover({ method, settings, sourceHostname: source.hostname, targetHostname: target.hostname, status: row.status, targetAgentOnline: op.dryRun === true || target.agentOnline }),
    );
  } else if (op.kind === 'failover') {
    if (row.status !== 'protected' && row.status !== 'failover_pending') throw new PlanningRefused(`A failover needs a protected pair; the pair is ${row.status.replace(/_/g, ' ')}`);
    if (!settings.failover.enabled) throw new PlanningRefused('Failover is turned off in this pair’s settings');
    // A preview may be planned while the target is away; a run may not start without it.
    if (!op.dryRun && !target.agentOnline) throw new PlanningRefused(`The agent on ${target.hostname} (the target) is not online; it must be to take over`);
    // No mode stored: the pair's default.
    const options = failoverOptionsSchema.safeParse({ mode: settings.failover.mode, ...(op.options as object | null) });
    if (!options.success) throw new PlanningRefused('The failover options are not valid');
    const mode = options.data.mode;
    let dnsAnswers: DnsRRset[] | null = null;
    if (dnsFailover) {
      const access = await dnsAccess(ctx.tx, ctx.orgTx, settings, { targetServerId: target.id, customerId: ctx.pair.customerId });
      dnsAnswers = await queryDns(ctx.bus, access, dnsQuestions(settings, source, target));
    }
    runbook = engine(() => planFailover({ pairId, pairName: ctx.pair.name, method, settings, source, target, mode, dnsAnswers }));
  } else {
    if (row.status !== 'failed_over') throw new PlanningRefused(`Only a failed-over pair can fail back; the pair is ${row.status.replace(/_/g, ' ')}`);
    if (!op.dryRun && !source.agentOnline) throw new PlanningRefused(`The agent on ${source.hostname} (the source) is not online; it must be to take its role back`);
    const options = failbackOptionsSchema.safeParse(op.options ?? {});
    if (!options.success) throw new PlanningRefused('The failback options are not valid');
    const reversed = await reversedFailover(ctx.tx, pairId);
    let dnsAnswers: DnsRRset[] | null = null;
    if (reversed && reversed.dnsChanges.length > 0) {
      const access = await dnsAccess(ctx.tx, ctx.orgTx, settings, { targetServerId: target.id, customerId: ctx.pair.customerId });
      dnsAnswers = await queryDns(ctx.bus, access, failbackDnsQuestions(reversed.dnsChanges));
    }
    runbook = engine(() =>
      planFailback({
        pairId,
        pairName: ctx.pair.name,
        method,
        settings,
        source,
        target,
        restoreFirst: options.data.restoreFirst,
        reprotect: options.data.reprotect,
        failover: reversed ? { dnsChanges: reversed.dnsChanges, addresses: reversed.addresses } : null,
        dnsAnswers,
      }),
    );
  }

  const changes = describeChanges(runbook);
  await ctx.tx(async (db) => {
    // Planned once: a second worker (or a re-run after a crash) finds the steps already there.
    if ((await db.operationStep.count({ where: { operationId: op.id } })) > 0) return;
    await db.operationStep.createMany({
      data: runbook.steps.map((s, position) => ({
        organizationId: ctx.pair.organizationId,
        customerId: ctx.pair.customerId,
        operationId: op.id,
        position,
        phase: 'run',
        ...stepToRow(s),
      })),
    });
    await db.operation.update({ where: { id: op.id }, data: { changes: changes as never, pointOfNoReturn: runbook.pointOfNoReturn } });
    // A real failover starts a new failed-over episode: nothing is held or checked in it yet.
    if (op.kind === 'failover' && !op.dryRun) await db.protectionPair.update({ where: { id: pairId }, data: { sourceHeldAt: null, dnsCheckedAt: null } });
  });
  return runbook;
}

/** The engine refuses a plan by throwing (an address with no interface in its subnet, …). */
function engine(fn: () => Runbook): Runbook {
  try {
    return fn();
  } catch (err) {
    throw new PlanningRefused(err instanceof Error ? err.message : String(err));
  }
}

/** What alerting events about a failover carry: the operation and its mode (the pair's default when none was asked for). */
export function failoverAlertData(op: { id: string; options: unknown }, defaultMode: string | null): { operationId: string; mode: string | null } {
  const mode = (op.options as { mode?: unknown } | null)?.mode;
  return { operationId: op.id, mode: typeof mode === 'string' ? mode : defaultMode };
}

export const isPlanned = (kind: string) => kind === 'failover' || kind === 'failback' || kind === 'test_failover';

const refusedLabel: Record<string, string> = { failover: 'Failover', failback: 'Failback', test_failover: 'Test failover' };

/**
 * What the runner does before a failover/failback without steps: plan it. Returns the stored
 * steps to run, or the operation's final status (a dry run ends here as succeeded; a refusal
 * fails it with its reason and an event, and nothing was changed).
 */
export async function planBeforeRun<S>(ctx: StepContext, op: OperationRow & { dryRun: boolean }): Promise<{ status: 'succeeded' | 'failed' } | { steps: S[] }> {
  try {
    await planRunbook(ctx, op);
  } catch (err) {
    // Nothing ran yet, so any failure while planning ends the operation here, with its reason.
    if (!(err instanceof PlanningRefused)) console.error(`[worker] planning operation ${op.id} crashed`, err);
    const message = (err instanceof PlanningRefused ? err.message : `Planning failed: ${err instanceof Error ? err.message : String(err)}`).slice(0, 2000);
    await ctx.tx(async (db) => {
      await db.operation.update({ where: { id: op.id }, data: { status: 'failed', error: message, finishedAt: ctx.now() } });
      if (!op.dryRun) {
        // A refused failover is a failed one for alerting: nobody took over.
        const failover = op.kind === 'failover';
        await emitEvent(db, {
          organizationId: ctx.pair.organizationId,
          customerId: ctx.pair.customerId,
          pairId: ctx.pair.id,
          kind: 'operation',
          severity: 'error',
          message: `${refusedLabel[op.kind] ?? op.kind} refused before it started: ${message}`,
          ...(failover ? { type: 'failover.failed' as const, data: failoverAlertData(op, ctx.settings.failover.mode), ...(await pairNames(db, ctx.pair.id)) } : {}),
        });
      }
    });
    return { status: 'failed' };
  }
  if (op.dryRun) {
    await ctx.tx((db) => db.operation.update({ where: { id: op.id }, data: { status: 'succeeded', finishedAt: ctx.now() } }));
    return { status: 'succeeded' };
  }
  const steps = await ctx.tx((db) => db.operationStep.findMany({ where: { operationId: op.id }, orderBy: { position: 'asc' } }));
  return { steps: steps as S[] };
}
