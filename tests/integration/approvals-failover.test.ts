// An approved failover runs, end to end with real parts: two real agents, a real gateway, the
// worker (operations and detection) and a real BIND 9. The source is lost with manual
// intervention on; the awaiting failover is planned and the approval page shows its diff; the
// customer's approver answers through the API as the portal does; the same stored plan runs and
// `dig` answers the target.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerDb } from '@tandem/db/testing';
import { callerFor } from './helpers';
import { waitFor } from './support/agents';
import { FailoverPair, SOURCE_ADDRESS, SOURCE_NAME, TARGET_ADDRESS } from './support/failover-pair';

const prefix = `tandem-test-${process.pid}-${Date.now().toString(36)}`;
process.env.TANDEM_QUEUE_PREFIX = prefix;

const f = new FailoverPair('approve');
let pairId: string;

beforeAll(async () => {
  await f.setup();
  pairId = await f.createPair(f.settings({ manualIntervention: true, mode: 'immediate' }), 'unprotected');
  await f.enable(pairId);
}, 180_000);

afterAll(async () => {
  await f.teardown();
});

describe('approving a pending failover', () => {
  it('the approver sees the planned diff, approves, and that plan runs', async () => {
    await f.stopSource();
    const approval = await waitFor('approval requested', () => ownerDb().approval.findFirst({ where: { pairId, decision: 'pending' } }), 30_000);
    // The approval page shows what will change once the worker has planned the awaiting failover.
    const approver = callerFor(f.h.t.customerUser.id);
    const detail = await waitFor('diff on the approval page', async () => {
      const d = await approver.approval.get({ approvalId: approval.id });
      return d.operation.changes ? d : null;
    }, 60_000);
    expect(detail).toMatchObject({ decision: 'pending', canVote: true, pair: { id: pairId }, operation: { status: 'awaiting_approval', mode: 'immediate' } });
    expect(detail.operation.changes!.some((c) => c.kind === 'dns')).toBe(true);
    expect(detail.happened?.message).toMatch(/Source lost/);
    expect(await f.bind.dig(SOURCE_NAME, 'A')).toEqual([SOURCE_ADDRESS]);
    const plannedSteps = await ownerDb().operationStep.findMany({ where: { operationId: approval.operationId }, orderBy: { position: 'asc' }, select: { id: true } });
    expect(plannedSteps.length).toBeGreaterThan(0);

    const answer = await approver.approval.decide({ approvalId: approval.id, decision: 'approved', comment: 'Go ahead' });
    expect(answer).toMatchObject({ decision: 'approved', operationId: approval.operationId });
    const done = await f.finished(approval.operationId, 90_000);
    expect(done.error).toBeNull();
    expect(done.status).toBe('succeeded');
    expect((await f.pair(pairId)).status).toBe('failed_over');
    expect(await f.bind.dig(SOURCE_NAME, 'A')).toEqual([TARGET_ADDRESS]);
    // The run executed the steps the approver was shown (the run phase was not planned again).
    const ran = await ownerDb().operationStep.findMany({ where: { operationId: approval.operationId, phase: 'run' }, orderBy: { position: 'asc' }, select: { id: true } });
    expect(ran.map((s) => s.id)).toEqual(plannedSteps.map((s) => s.id));
    // Exactly one failover for the episode, requested by the approver.
    const failovers = await ownerDb().operation.findMany({ where: { pairId, kind: 'failover' } });
    expect(failovers.map((o) => [o.id, o.requestedById])).toEqual([[approval.operationId, f.h.t.customerUser.id]]);
  });
});
