// Automatic failover, with real agents, a real gateway, the worker (operations and detection) and
// a real BIND 9. With manual intervention on, a lost source makes the pair failover-pending and
// nothing starts. With it off, the same loss starts a failover by itself: an Operation requested
// by nobody (the system), audited as the system, run to its end, and `dig` answers the target.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerDb } from '@tandem/db/testing';
import { waitFor } from './support/agents';
import { FailoverPair, SOURCE_NAME, TARGET_ADDRESS, SOURCE_ADDRESS } from './support/failover-pair';

const prefix = `tandem-test-${process.pid}-${Date.now().toString(36)}`;
process.env.TANDEM_QUEUE_PREFIX = prefix;

const f = new FailoverPair('auto');
let pairId: string;

beforeAll(async () => {
  await f.setup();
  pairId = await f.createPair(f.settings({ manualIntervention: true }), 'unprotected');
  await f.enable(pairId);
}, 180_000);

afterAll(async () => {
  await f.teardown();
});

// A request withdrawn when the source came back leaves a cancelled operation: not a failover that ran.
const failovers = () => ownerDb().operation.findMany({ where: { pairId, kind: 'failover', status: { not: 'cancelled' } } });

describe('automatic failover', () => {
  it('with manual intervention on, a lost source waits for a decision: nothing starts', async () => {
    await f.stopSource();
    await waitFor('pair failover pending', async () => (await f.pair(pairId)).status === 'failover_pending', 30_000);
    // The failover waits for approval: created with the pending status, planned (its diff is what
    // the approval page shows), not run.
    const waiting = await failovers();
    expect(waiting.map((o) => o.status)).toEqual(['awaiting_approval']);
    const planned = await waitFor('awaiting failover planned', async () => {
      const op = await ownerDb().operation.findUnique({ where: { id: waiting[0]!.id }, include: { steps: true } });
      return op?.changes ? op : null;
    }, 30_000);
    expect(planned.status).toBe('awaiting_approval');
    expect(planned.steps.length).toBeGreaterThan(0);
    expect(planned.steps.every((s) => s.status === 'pending')).toBe(true);
    expect(await ownerDb().approval.count({ where: { operationId: planned.id, decision: 'pending' } })).toBe(1);
    const pair = await f.pair(pairId);
    expect(pair.autoFailoverMarked).toBe(false);
    expect(await f.bind.dig(SOURCE_NAME, 'A')).toEqual([SOURCE_ADDRESS]);

    // The source returns before anyone decided: back to protected, still nothing started.
    await f.restartSource();
    await waitFor('pair protected again', async () => (await f.pair(pairId)).status === 'protected', 30_000);
    expect(await failovers()).toEqual([]);
    expect((await ownerDb().approval.findFirstOrThrow({ where: { operationId: planned.id } })).decision).toBe('expired');
  });

  it('with manual intervention off, losing the source fails over by itself, audited as the system', async () => {
    const pair = await f.pair(pairId);
    await ownerDb().protectionPair.update({ where: { id: pairId }, data: { failoverSettings: { ...(pair.failoverSettings as object), manualIntervention: false } } });
    await f.stopSource();

    const op = await waitFor('automatic failover created', async () => (await failovers())[0], 30_000);
    expect(op.requestedById).toBeNull();
    expect(op.dryRun).toBe(false);
    expect(op.options).toEqual({ mode: 'immediate' });
    const done = await f.finished(op.id, 90_000);
    expect(done.error).toBeNull();
    expect(done.status).toBe('succeeded');
    expect((await f.pair(pairId)).status).toBe('failed_over');
    expect(await f.bind.dig(SOURCE_NAME, 'A')).toEqual([TARGET_ADDRESS]);

    const audit = await ownerDb().auditEvent.findMany({ where: { targetId: pairId, action: 'pair.failover.start' } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorId: null, actorLabel: 'Tandem (automatic failover)', customerId: f.h.t.customerX.id });
    expect(audit[0]!.summary).toMatch(/automatic immediate failover/);
    // Exactly one per pending episode.
    expect(await failovers()).toHaveLength(1);

    // Alerting heard it as typed events, in order: the source lost (its condition opened while
    // the pair stays failed over), the failover started and succeeded, with operation and mode.
    const since = (await ownerDb().outboxEvent.findFirst({ where: { pairId, type: 'source.back' }, orderBy: { id: 'desc' }, select: { id: true } }))?.id ?? 0n;
    const typed = await ownerDb().outboxEvent.findMany({ where: { pairId, type: { not: 'pair.event' }, id: { gt: since } }, orderBy: { id: 'asc' } });
    expect(typed.map((e) => e.type)).toEqual(['source.lost', 'failover.started', 'failover.succeeded']);
    expect(typed[0]!.payload).toMatchObject({ condition: { key: `source.lost:${pairId}`, state: 'open' }, pairName: pair.name });
    for (const e of typed.slice(1)) expect(e.payload).toMatchObject({ data: { operationId: op.id, mode: 'immediate' }, pairName: pair.name });
  });
});
