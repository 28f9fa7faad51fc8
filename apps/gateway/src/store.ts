// The gateway's database work. The tenant always comes from the agent's credential (or the
// enrolment token), never from anything the agent says.
import { randomUUID } from 'node:crypto';
import { publishPairChange, publishServerChange } from '@tandem/agent-bus/live';
import { appDb, emitEvent, withTenant, type TenantScope, type TenantTx } from '@tandem/db';
import { engagedStatuses, operationInFlightStatuses, transition } from '@tandem/engine';
import type { AgentPayload, Facts } from '@tandem/protocol';
import { randomToken, sha256Hex } from '@tandem/security';

export interface AgentIdentity {
  id: string;
  organizationId: string;
  customerId: string;
  serverId: string;
  status: string;
  revokedAt: Date | null;
}

const scopeOf = (a: { organizationId: string; customerId: string }): TenantScope => ({
  organizationId: a.organizationId,
  customerId: a.customerId,
  userId: null,
});

/**
 * The agent holding this credential. A credential being rotated in (pending: the agent saved it,
 * the rotation may not have committed) is accepted too, and becomes the agent's credential from
 * then on: the agent has proven it holds it.
 */
export async function findAgentByCredential(credential: string): Promise<AgentIdentity | null> {
  const hash = sha256Hex(credential);
  const rows = await appDb().$queryRaw<(AgentIdentity & { pending: boolean })[]>`SELECT * FROM agent_by_credential(${hash})`;
  const row = rows[0];
  if (!row) return null;
  const { pending, ...agent } = row;
  if (pending) {
    await withTenant(scopeOf(agent), (db) =>
      db.agent.updateMany({ where: { id: agent.id, pendingCredentialHash: hash }, data: { credentialHash: hash, pendingCredentialHash: null } }),
    );
  }
  return agent;
}

/** How long after an agent reconnects its pairs are validated again. */
const RECONNECT_VALIDATION_DELAY_MS = 30_000;

/**
 * Marks the agent online unless it has been revoked meanwhile (a revocation committed after its
 * credential was looked up): false then, and the gateway refuses the connection.
 */
export async function markOnline(agent: AgentIdentity, hello: AgentPayload<'hello'>): Promise<boolean> {
  const { count } = await withTenant(scopeOf(agent), async (db) => {
    const marked = await db.agent.updateMany({
      where: { id: agent.id, status: { not: 'revoked' }, revokedAt: null },
      data: {
        status: 'online',
        lastSeenAt: new Date(),
        version: hello.agentVersion,
        protocolVersion: hello.protocolVersion,
        capabilities: hello.capabilities,
      },
    });
    // Its validated pairs are validated again shortly (the worker's validate-due-pairs); only an
    // unset due time is set, so an agent reconnecting again and again asks once.
    if (marked.count > 0) {
      await db.protectionPair.updateMany({
        where: { OR: [{ sourceServerId: agent.serverId }, { targetServerId: agent.serverId }], lastValidationRunId: { not: null }, status: { in: ['unprotected', 'validated', 'protected'] }, validationDueAt: null },
        data: { validationDueAt: new Date(Date.now() + RECONNECT_VALIDATION_DELAY_MS) },
      });
    }
    return marked;
  });
  if (count === 0) return false;
  void publishServerChange(agent, agent.serverId, 'agent');
  return true;
}

/** Whether the agent has been revoked (or removed) since its credential was looked up. */
export async function isRevoked(agent: AgentIdentity): Promise<boolean> {
  const row = await withTenant(scopeOf(agent), (db) => db.agent.findUnique({ where: { id: agent.id }, select: { status: true, revokedAt: true } }));
  return !row || row.status === 'revoked' || row.revokedAt !== null;
}

export async function markOffline(agent: AgentIdentity, lastSeenAt: Date) {
  await withTenant(scopeOf(agent), async (db) => {
    // Only an online agent goes offline: a revocation that raced the disconnect stays revoked.
    await db.agent.updateMany({ where: { id: agent.id, status: 'online' }, data: { status: 'offline', lastSeenAt } });
  });
  void publishServerChange(agent, agent.serverId, 'agent');
}

/** Last-seen times are written in batches, not on every heartbeat. */
export async function touchLastSeen(agents: { agent: AgentIdentity; at: Date }[]) {
  const byTenant = new Map<string, { agent: AgentIdentity; at: Date }[]>();
  for (const a of agents) {
    const key = `${a.agent.organizationId}/${a.agent.customerId}`;
    const group = byTenant.get(key);
    if (group) group.push(a);
    else byTenant.set(key, [a]);
  }
  for (const group of byTenant.values()) {
    const ids = group.map((g) => g.agent.id);
    const ms = group.map((g) => g.at.getTime());
    // One statement per tenant, however many agents: thousands of agents flush in milliseconds.
    await withTenant(scopeOf(group[0]!.agent), (db) =>
      db.$executeRaw`
        UPDATE "Agent" a
        SET "lastSeenAt" = to_timestamp(v.ms / 1000.0) AT TIME ZONE 'UTC', "updatedAt" = now() AT TIME ZONE 'UTC'
        FROM unnest(${ids}::text[], ${ms}::float8[]) AS v(id, ms)
        WHERE a.id = v.id AND a.status = 'online'`,
    );
  }
}

export async function storeFacts(agent: AgentIdentity, facts: Facts) {
  const addresses =
    facts.network.status === 'ok'
      ? facts.network.data.interfaces.flatMap((i) => i.addresses.map((a) => a.address)).filter((a) => a !== '127.0.0.1' && a !== '::1')
      : undefined;
  const osVersion = facts.host.status === 'ok' ? facts.host.data.osName : undefined;
  await withTenant(scopeOf(agent), async (db) => {
    await db.server.update({
      where: { id: agent.serverId },
      data: { facts: facts as never, factsAt: new Date(), ...(addresses ? { addresses } : {}), ...(osVersion ? { osVersion } : {}) },
    });
  });
  void publishServerChange(agent, agent.serverId, 'facts');
}

/**
 * Stores a replication sample from a pair's source agent. Only the source server's own agent may
 * report for a pair: the pair is looked up inside the agent's tenant, so another tenant's pair id
 * is simply not found.
 */
/** Whether an operation (enable, disable, …) is under way: until it ends, the pair's state is in flux. */
async function operationInFlight(db: TenantTx, pairId: string) {
  return (await db.operation.count({ where: { pairId, status: { in: [...operationInFlightStatuses] } } })) > 0;
}

/**
 * `source_replaced`: the pair is failed over, so this old source must stand down (fencing).
 * `not_enabled`: protection of the pair is disabled (the agent was offline when it was disabled,
 * or the pair was deleted and recreated); the gateway tells the agent to stop.
 */
export async function storeReplicationSample(agent: AgentIdentity, s: AgentPayload<'replication.stats'>): Promise<'stored' | 'not_your_pair' | 'not_enabled' | 'source_replaced'> {
  let becameProtected = false;
  const outcome = await withTenant(scopeOf(agent), async (db) => {
    const pair = await db.protectionPair.findUnique({ where: { id: s.pairId }, select: { sourceServerId: true, customerId: true, status: true } });
    if (!pair || pair.sourceServerId !== agent.serverId) return 'not_your_pair';
    // The target serves in the source's place: an old source still replicating is fenced, its sample dropped.
    if (pair.status === 'failed_over') return 'source_replaced';
    if (!engagedStatuses.includes(pair.status) && !(await operationInFlight(db, s.pairId))) return 'not_enabled';
    await db.replicationSample.create({
      data: {
        organizationId: agent.organizationId,
        customerId: pair.customerId,
        pairId: s.pairId,
        at: new Date(s.at),
        lagSeconds: s.lagSeconds,
        mirrorBytesLeft: BigInt(s.mirrorBytesLeft),
        mirrorFilesLeft: s.mirrorFilesLeft,
        queueBytes: BigInt(s.queueBytes),
        throughputBps: s.throughputBps,
      },
    });
    // The first sample with nothing left to mirror and a lag (the source reports lag only once
    // its initial mirror is complete) turns a mirroring pair into a protected one.
    // The write is conditional on the status the lifecycle answered from, so a disable (or any
    // other process) that moved the pair meanwhile wins.
    const next = transition(pair.status, 'mirror.completed');
    if (s.lagSeconds !== null && s.mirrorBytesLeft === 0 && s.mirrorFilesLeft === 0 && 'status' in next) {
      const { count } = await db.protectionPair.updateMany({ where: { id: s.pairId, status: pair.status }, data: { status: next.status } });
      if (count > 0) {
        becameProtected = true;
        await emitEvent(db, { organizationId: agent.organizationId, customerId: pair.customerId, pairId: s.pairId, kind: 'status', message: 'Initial mirror finished: the pair is protected' });
      }
    }
    return 'stored';
  });
  // The pair is in the agent's tenant (it was found there), so the agent's tenant names its channel.
  if (outcome === 'stored') void publishPairChange(agent, s.pairId, becameProtected ? 'status' : 'lag');
  return outcome;
}

export type RelayAccess = 'ok' | 'not_your_pair' | 'not_enabled' | 'not_relay';

/**
 * Whether this agent may open a relay for `pairId` as `role`: the pair is looked up inside the
 * agent's own tenant (another tenant's pair is simply not found), the agent's server must be
 * that side of it, the pair must be set to the relay route, and its protection enabled (or an
 * operation on it under way: enabling starts replication before the pair is marked mirroring).
 */
export async function relayAccess(agent: AgentIdentity, pairId: string, role: 'source' | 'target'): Promise<RelayAccess> {
  return withTenant(scopeOf(agent), async (db) => {
    const pair = await db.protectionPair.findUnique({ where: { id: pairId }, select: { sourceServerId: true, targetServerId: true, status: true, connectionSettings: true } });
    if (!pair) return 'not_your_pair';
    if ((role === 'source' ? pair.sourceServerId : pair.targetServerId) !== agent.serverId) return 'not_your_pair';
    const settings = pair.connectionSettings as Record<string, unknown> | null;
    if (settings?.routeMode !== 'relay') return 'not_relay';
    if (!engagedStatuses.includes(pair.status) && !(await operationInFlight(db, pairId))) return 'not_enabled';
    return 'ok';
  });
}

/**
 * Stores a pair's target view (monitor.report). Only the TARGET server's own agent may report for
 * a pair (looked up inside the agent's tenant, so another tenant's pair id is simply not found).
 * Times are the control plane's: targetReportAt is now, and the agent's lostSince / lastOkAt are
 * moved onto this clock by their age at the report's `at` (the two clocks may disagree; the age
 * is what the agent really knows).
 */
/** `not_monitored`: monitoring of the pair is off; the gateway tells the agent to stop probing. */
export async function storeMonitorReport(agent: AgentIdentity, r: AgentPayload<'monitor.report'>): Promise<'stored' | 'not_your_pair' | 'not_monitored'> {
  const now = Date.now();
  const onOurClock = (t: number | null) => (t === null ? null : new Date(now - Math.max(0, r.at - t)));
  const evidence = r.addresses.map((a) => ({ ...a, lastOkAt: onOurClock(a.lastOkAt)?.getTime() ?? null }));
  const lostSince = r.state === 'lost' ? (onOurClock(r.lostSince) ?? new Date(now)) : null;
  const attempt = () =>
    withTenant(scopeOf(agent), async (db) => {
      const pair = await db.protectionPair.findUnique({ where: { id: r.pairId }, select: { targetServerId: true, organizationId: true, customerId: true, monitoringStatus: true } });
      if (!pair || pair.targetServerId !== agent.serverId) return 'not_your_pair' as const;
      if (pair.monitoringStatus === 'off' && !(await operationInFlight(db, r.pairId))) return 'not_monitored' as const;
      const fields = { targetState: r.state, targetReportAt: new Date(now), targetLostSince: lostSince, targetEvidence: evidence };
      await db.pairMonitor.upsert({
        where: { pairId: r.pairId },
        create: { pairId: r.pairId, organizationId: pair.organizationId, customerId: pair.customerId, ...fields },
        update: fields,
      });
      return 'stored' as const;
    });
  let outcome: Awaited<ReturnType<typeof attempt>>;
  try {
    outcome = await attempt();
  } catch (err) {
    // The worker may create the row (its verdict) between our look-up and insert: then update it.
    if ((err as { code?: string }).code !== 'P2002') throw err;
    outcome = await attempt();
  }
  if (outcome === 'stored') void publishPairChange(agent, r.pairId, 'monitor');
  return outcome;
}

export class EnrollmentError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface EnrollRequest {
  token: string;
  hostname: string;
  osFamily: 'linux' | 'windows';
  osVersion?: string;
}

/**
 * Trades a one-time enrolment token for an agent credential. The token names the customer; a
 * server of that customer with the same hostname and no live agent is taken over, otherwise a
 * new server is created.
 */
export async function enroll(req: EnrollRequest) {
  const tokenHash = sha256Hex(req.token);
  const rows = await appDb().$queryRaw<
    { id: string; organizationId: string; customerId: string; expiresAt: Date; usedAt: Date | null }[]
  >`SELECT * FROM enrollment_token_by_hash(${tokenHash})`;
  const token = rows[0];
  if (!token) throw new EnrollmentError(401, 'Unknown enrolment token');
  if (token.usedAt) throw new EnrollmentError(401, 'This enrolment token was already used; create a new one with "Add server"');
  if (token.expiresAt.getTime() < Date.now()) throw new EnrollmentError(401, 'This enrolment token has expired; create a new one with "Add server"');

  const credential = randomToken();
  const enrolled = await withTenant(scopeOf(token), async (db) => {
    // Single use even under a race: only one request can flip usedAt.
    const claimed = await db.enrollmentToken.updateMany({ where: { id: token.id, usedAt: null }, data: { usedAt: new Date() } });
    if (claimed.count !== 1) throw new EnrollmentError(401, 'This enrolment token was already used');

    let server = await db.server.findFirst({ where: { customerId: token.customerId, hostname: req.hostname }, include: { agent: true } });
    if (server?.agent && server.agent.status !== 'revoked') {
      throw new EnrollmentError(409, `A server named ${req.hostname} already has an agent; revoke it in the portal first`);
    }
    if (!server) {
      server = await db.server.create({
        data: {
          id: randomUUID(),
          organizationId: token.organizationId,
          customerId: token.customerId,
          hostname: req.hostname,
          osFamily: req.osFamily,
          osVersion: req.osVersion ?? null,
          addresses: [],
        },
        include: { agent: true },
      });
    }
    if (server.agent) await db.agent.delete({ where: { id: server.agent.id } });
    const agent = await db.agent.create({
      data: {
        organizationId: token.organizationId,
        customerId: token.customerId,
        serverId: server.id,
        credentialHash: sha256Hex(credential),
        status: 'pending',
      },
    });
    await db.auditEvent.create({
      data: {
        organizationId: token.organizationId,
        customerId: token.customerId,
        actorLabel: `agent on ${req.hostname}`,
        action: 'agent.enroll',
        targetType: 'Server',
        targetId: server.id,
        summary: `Agent enrolled on ${req.hostname}`,
      },
    });
    return { agentId: agent.id, serverId: server.id, credential };
  });
  void publishServerChange(token, enrolled.serverId, 'agent');
  return enrolled;
}

/** A pair this agent is the old source of, while the target serves in its place (fencing). */
export interface PairToFence {
  pairId: string;
  name: string;
  customerId: string;
  sourceHostname: string;
  services: string[];
  serviceTimeoutSeconds: number;
  /** PostgreSQL pairs: the old primary's data directory (it is stopped even when no service is listed). */
  databaseDataDir: string | null;
}

function sourceDataDir(method: string, raw: unknown): string | null {
  if (method !== 'postgresql_streaming') return null;
  const db = ((raw ?? {}) as { database?: { sourceDataDir?: unknown } | null }).database;
  return typeof db?.sourceDataDir === 'string' && db.sourceDataDir.startsWith('/') ? db.sourceDataDir : null;
}

function fenceServices(raw: unknown): { services: string[]; serviceTimeoutSeconds: number } {
  const f = (raw ?? {}) as { services?: unknown; extraServices?: unknown; serviceTimeoutSeconds?: unknown };
  const names = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  const timeout = typeof f.serviceTimeoutSeconds === 'number' && f.serviceTimeoutSeconds > 0 ? f.serviceTimeoutSeconds : 120;
  return { services: [...new Set([...names(f.services), ...names(f.extraServices)])], serviceTimeoutSeconds: timeout };
}

/**
 * Pairs whose source is this agent's server and whose target serves (or is taking over): the
 * agent must not run their replication or services. While a failover still drains the source's
 * replication queue (graceful), the source is left alone: that drain needs it.
 * `onlyPairId` narrows the look-up to one pair (a report naming it).
 */
export async function pairsToFence(agent: AgentIdentity, onlyPairId?: string): Promise<PairToFence[]> {
  return withTenant(scopeOf(agent), async (db) => {
    const pairs = await db.protectionPair.findMany({
      where: { sourceServerId: agent.serverId, status: { in: ['failing_over', 'failed_over'] }, ...(onlyPairId ? { id: onlyPairId } : {}) },
      select: { id: true, name: true, customerId: true, status: true, replicationMethod: true, failoverSettings: true, connectionSettings: true, source: { select: { hostname: true } } },
    });
    const out: PairToFence[] = [];
    for (const p of pairs) {
      if (p.status === 'failing_over') {
        const draining = await db.operationStep.count({
          where: { kind: 'replication.drain', status: { in: ['pending', 'running'] }, operation: { pairId: p.id, kind: 'failover', status: { in: [...operationInFlightStatuses] } } },
        });
        if (draining > 0) continue;
      }
      out.push({ pairId: p.id, name: p.name, customerId: p.customerId, sourceHostname: p.source.hostname, ...fenceServices(p.failoverSettings), databaseDataDir: sourceDataDir(p.replicationMethod, p.connectionSettings) });
    }
    return out;
  });
}

/**
 * Records that the old source was told to stand down: sourceHeldAt and an event, only while the
 * pair is still failing over or failed over (a failback that began meanwhile wins).
 */
export async function markSourceHeld(agent: AgentIdentity, pair: PairToFence, severity: 'info' | 'warning', message: string): Promise<boolean> {
  const held = await withTenant(scopeOf(agent), async (db) => {
    const { count } = await db.protectionPair.updateMany({ where: { id: pair.pairId, status: { in: ['failing_over', 'failed_over'] } }, data: { sourceHeldAt: new Date() } });
    if (count === 0) return false;
    await emitEvent(db, { organizationId: agent.organizationId, customerId: pair.customerId, pairId: pair.pairId, pairName: pair.name, kind: 'status', severity, message });
    return true;
  });
  if (held) void publishPairChange(agent, pair.pairId, 'event');
  return held;
}
