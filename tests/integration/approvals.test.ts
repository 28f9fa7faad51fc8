// Approval of pending failovers, against the real database, the worker's detection sweep and its
// approvals clock, and the API as the portal calls it: a lost source with manual intervention on
// makes one awaiting operation, one approval request, a link per person who may answer and the
// two events; answers follow the policy (one approval, four eyes, who may answer, rejection with
// its reason); the deadline proceeds or abandons as configured; the escalation goes out once at
// half-time; the e-mailed link works once, until the deadline, and only for its person.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { appDb } from '@tandem/db';
import { addCustomerMember, createServer, createTenant, createUser, ownerDb, type Tenant } from '@tandem/db/testing';
import { operationsQueue, redisConnection, type OperationJob } from '@tandem/jobs';
import { settingsToColumns } from '@tandem/engine';
import { openSecret, sha256Hex } from '@tandem/security';
import { fanOutOnce } from '../../apps/worker/src/alerts/dispatcher';
import { sendDueDeliveries } from '../../apps/worker/src/alerts/sender';
import { runApprovalClock } from '../../apps/worker/src/approvals/clock';
import { awaitingUnplanned } from '../../apps/worker/src/approvals/plan';
import { sweepDetection } from '../../apps/worker/src/detection/sweep';
import { callerFor, expectCode, uniqueEmail } from './helpers';
import { startMailServer } from './support/mail-server';
import { validPairSettings } from './support/pair-settings';

const prefix = `tandem-test-${process.pid}-${Date.now().toString(36)}`;
process.env.TANDEM_QUEUE_PREFIX = prefix;
process.env.TANDEM_PUBLIC_URL = 'http://portal.example.test';
const queue = operationsQueue(redisConnection(process.env.REDIS_URL!), { prefix });

afterAll(async () => {
  await queue.obliterate({ force: true });
  await queue.close();
});

type Policy = { approvers?: 'msp' | 'customer' | 'any'; fourEyes?: boolean; deadlineMinutes?: number; escalate?: boolean; escalationEmails?: string[]; onDeadline?: 'proceed' | 'abandon' };

/**
 * A protected, watched pair of customer X whose source agent is gone and whose target reports the
 * source lost: the next sweep makes it failover-pending.
 */
async function lostPair(t: Tenant, override: Policy = {}) {
  const db = ownerDb();
  const [source, target] = [await createServer(t.customerX), await createServer(t.customerX)];
  const long = new Date(Date.now() - 10 * 60_000);
  await db.agent.create({ data: { organizationId: t.org.id, customerId: t.customerX.id, serverId: source.id, status: 'offline', lastSeenAt: long } });
  await db.agent.create({ data: { organizationId: t.org.id, customerId: t.customerX.id, serverId: target.id, status: 'online', lastSeenAt: new Date() } });
  // Complete settings: a worker that plans the awaiting failover (another test file's, sharing
  // the database) is refused cleanly (no DNS server named) and the request stays open.
  const settings = validPairSettings();
  const pair = await db.protectionPair.create({
    data: {
      organizationId: t.org.id,
      customerId: t.customerX.id,
      ...settingsToColumns({ ...settings, name: `files-${randomUUID().slice(0, 6)}`, failover: { ...settings.failover, enabled: true, manualIntervention: true, mode: 'graceful' } }),
      sourceServerId: source.id,
      targetServerId: target.id,
      status: 'protected',
      monitoringStatus: 'watching',
      approvalPolicy: override,
    },
  });
  await db.pairMonitor.create({
    data: {
      organizationId: t.org.id,
      customerId: t.customerX.id,
      pairId: pair.id,
      targetState: 'lost',
      targetReportAt: new Date(),
      targetLostSince: new Date(Date.now() - 60_000),
      targetEvidence: [{ address: '10.0.0.5', reachable: false, lastOkAt: null }],
    },
  });
  return { pair, source, target };
}

/** A tenant with one pair whose failover awaits approval (customer policy, then the pair's override). */
async function pending(customerPolicy: Policy = {}, override: Policy = {}) {
  const t = await createTenant();
  if (Object.keys(customerPolicy).length) await ownerDb().customer.update({ where: { id: t.customerX.id }, data: { approvalPolicy: customerPolicy } });
  const { pair, source } = await lostPair(t, override);
  // The sweep looks at every watched pair in the database; this tenant's jobs are the ones to see.
  const jobs: OperationJob[] = [];
  await sweepDetection(appDb(), new Date(), collect(jobs, (j) => j.organizationId === t.org.id));
  const approval = await ownerDb().approval.findFirstOrThrow({ where: { pairId: pair.id }, include: { operation: true, links: true } });
  return { t, pair, source, approval, jobs };
}

/** The one-time links of the request's `approval.requested` event, opened, by user id. */
async function linksByUser(approvalId: string, type = 'approval.requested') {
  const event = await ownerDb().outboxEvent.findFirstOrThrow({ where: { type, payload: { path: ['data', 'approvalId'], equals: approvalId } } });
  const recipients = (event.payload as { recipients: { email: string; userId?: string; linkEnc?: string }[] }).recipients;
  return { event, recipients, links: new Map(recipients.filter((r) => r.userId && r.linkEnc).map((r) => [r.userId!, openSecret(r.linkEnc!, 'delivery-link')])) };
}

/** A startOperation that records the jobs `keep` selects (sweeps and the clock see the whole database). */
const collect = (jobs: OperationJob[], keep: (j: OperationJob) => boolean) => (j: OperationJob) => {
  if (keep(j)) jobs.push(j);
  return Promise.resolve();
};

/** `seconds` after the request was made. */
const at = (a: { createdAt: Date }, seconds: number) => new Date(a.createdAt.getTime() + seconds * 1000);

const tokenOf = (link: string) => link.split('/approve/')[1]!;

describe('a lost source with manual intervention on', () => {
  it('creates exactly one awaiting operation, one request, a link per possible approver and the two events', async () => {
    const { t, pair, approval, jobs } = await pending();
    expect(approval.operation).toMatchObject({ kind: 'failover', status: 'awaiting_approval', options: { mode: 'graceful' }, requestedById: null, dryRun: false });
    expect(approval).toMatchObject({ decision: 'pending', requiredApprovals: 1, customerId: t.customerX.id });
    expect(approval.policy).toMatchObject({ approvers: 'any', fourEyes: false, deadlineMinutes: 15, onDeadline: 'abandon' });
    expect(approval.deadlineAt.getTime() - approval.createdAt.getTime()).toBe(15 * 60_000);
    // The awaiting operation goes to the worker to be planned (the approval page shows its diff):
    // by this sweep, unless another test file's sweep (same database) moved the pair first.
    expect(jobs.length === 0 || jobs[0]!.operationId === approval.operationId).toBe(true);
    expect((await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pair.id } })).status).toBe('failover_pending');

    // Customer approvers and staff operators and above; not the staff viewer.
    const expected = [t.customerUser.id, t.owner.id, t.operator.id].sort();
    expect(approval.links.map((l) => l.userId).sort()).toEqual(expected);
    expect(approval.links.every((l) => l.expiresAt.getTime() === approval.deadlineAt.getTime() && l.usedAt === null)).toBe(true);

    const { event, recipients, links } = await linksByUser(approval.id);
    expect(event).toMatchObject({ pairId: pair.id, customerId: t.customerX.id });
    expect(recipients.map((r) => r.userId).sort()).toEqual(expected);
    for (const [userId, link] of links) {
      expect(link).toMatch(/^http:\/\/portal\.example\.test\/approve\/[\w-]{40,}$/);
      // Only the token's hash is stored, and it is this person's link.
      expect(approval.links.find((l) => l.tokenHash === sha256Hex(tokenOf(link)))?.userId).toBe(userId);
    }
    expect(event.payload).toMatchObject({ pairName: pair.name, customerName: t.customerX.name, data: { approvalId: approval.id, operationId: approval.operationId, url: `http://portal.example.test/approvals/${approval.id}` } });
    expect(String((event.payload as { data: { policyStatement: string } }).data.policyStatement)).toMatch(/within 15 minutes/);
    // What detection saw, for the e-mail's "what happened".
    expect(String((event.payload as { data: { reason?: string } }).data.reason)).toMatch(/^Source lost according to both the target and the control plane/);

    const pendingEvents = await ownerDb().outboxEvent.findMany({ where: { pairId: pair.id, type: 'failover.pending' } });
    expect(pendingEvents).toHaveLength(1);
    expect(pendingEvents[0]!.payload).toMatchObject({ data: { approvalId: approval.id, operationId: approval.operationId, deadlineAt: approval.deadlineAt.toISOString() } });
    const history = await ownerDb().pairEvent.findMany({ where: { pairId: pair.id } });
    expect(history.some((e) => /awaits approval/.test(e.message) && /within 15 minutes/.test(e.message))).toBe(true);

    // Later sweeps see the same pending pair: nothing new.
    await sweepDetection(appDb(), new Date(), collect(jobs, (j) => j.organizationId === t.org.id));
    expect(await ownerDb().approval.count({ where: { pairId: pair.id } })).toBe(1);
    expect(await ownerDb().operation.count({ where: { pairId: pair.id } })).toBe(1);
    expect(jobs.length).toBeLessThanOrEqual(1);

    // The request is on the lists of the approver and of staff, with the policy stated.
    const listed = await callerFor(t.customerUser.id).approval.list();
    expect(listed.find((a) => a.id === approval.id)).toMatchObject({ decision: 'pending', canVote: true, pairName: pair.name });
    expect((await callerFor(t.viewer.id).approval.list()).find((a) => a.id === approval.id)).toMatchObject({ canVote: false });
  });

  it('an awaiting failover not planned yet (a worker stopped first) is found for planning at worker start', async () => {
    const { t, approval } = await pending();
    const found = await awaitingUnplanned(appDb());
    expect(found).toContainEqual({ operationId: approval.operationId, organizationId: t.org.id, customerId: t.customerX.id });
    // A planned one is not (nor a decided one).
    await ownerDb().operation.update({ where: { id: approval.operationId }, data: { changes: [] } });
    expect((await awaitingUnplanned(appDb())).map((j) => j.operationId)).not.toContain(approval.operationId);
  });

  it('is withdrawn when the source comes back before anyone decided', async () => {
    const { pair, source, approval } = await pending();
    await ownerDb().agent.update({ where: { serverId: source.id }, data: { status: 'online', lastSeenAt: new Date() } });
    await ownerDb().pairMonitor.update({ where: { pairId: pair.id }, data: { targetState: 'ok', targetReportAt: new Date(), targetLostSince: null, targetEvidence: [] } });
    await sweepDetection(appDb(), new Date());
    const after = await ownerDb().approval.findUniqueOrThrow({ where: { id: approval.id }, include: { operation: true } });
    expect(after.decision).toBe('expired');
    expect(after.operation.status).toBe('cancelled');
    expect((await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pair.id } })).status).toBe('protected');
    const events = await ownerDb().pairEvent.findMany({ where: { pairId: pair.id } });
    expect(events.some((e) => /withdrawn: the source is reachable again/.test(e.message))).toBe(true);
  });

  it('an operator starting the failover by hand is sent to the pending request instead', async () => {
    const { t, pair, approval } = await pending();
    const err = await expectCode(callerFor(t.operator.id).pair.failover.start({ pairId: pair.id, mode: 'graceful', confirmName: pair.name }), 'CONFLICT');
    expect(err.message).toMatch(/already waiting for approval/);
    expect(err.message).toContain(`/approvals/${approval.id}`);
  });
});

describe('answering a request', () => {
  it('a single approval starts the failover: the operation is queued, audited and announced', async () => {
    const { t, approval } = await pending();
    const result = await callerFor(t.customerUser.id).approval.decide({ approvalId: approval.id, decision: 'approved' });
    expect(result).toEqual({ decision: 'approved', approvals: 1, needed: 1, operationId: approval.operationId });
    const after = await ownerDb().approval.findUniqueOrThrow({ where: { id: approval.id }, include: { operation: true, votes: true } });
    expect(after).toMatchObject({ decision: 'approved', decidedById: t.customerUser.id });
    expect(after.operation).toMatchObject({ status: 'pending', requestedById: t.customerUser.id });
    expect(after.votes).toEqual([expect.objectContaining({ userId: t.customerUser.id, side: 'customer', decision: 'approved' })]);
    expect(await queue.getJob(approval.operationId)).toBeTruthy();
    const audit = await ownerDb().auditEvent.findMany({ where: { targetId: approval.id } });
    expect(audit).toEqual([expect.objectContaining({ action: 'approval.approve', actorId: t.customerUser.id, customerId: t.customerX.id })]);
    const decided = await ownerDb().outboxEvent.findMany({ where: { type: 'approval.decided', payload: { path: ['data', 'approvalId'], equals: approval.id } } });
    expect(decided).toHaveLength(1);
    expect(decided[0]!.message).toMatch(/approved the failover: it starts now/);
    // Answered: no second vote, by anyone.
    await expectCode(callerFor(t.operator.id).approval.decide({ approvalId: approval.id, decision: 'approved' }), 'CONFLICT');
  });

  it('four eyes needs two different people: the same person twice is refused, a second person starts it', async () => {
    const t0 = await pending({ fourEyes: true });
    const { t, approval } = t0;
    expect(approval.requiredApprovals).toBe(2);
    const first = await callerFor(t.operator.id).approval.decide({ approvalId: approval.id, decision: 'approved', comment: 'checked the source' });
    expect(first).toEqual({ decision: 'pending', approvals: 1, needed: 2, operationId: null });
    expect((await ownerDb().operation.findUniqueOrThrow({ where: { id: approval.operationId } })).status).toBe('awaiting_approval');
    const detail = await callerFor(t.operator.id).approval.get({ approvalId: approval.id });
    expect(detail).toMatchObject({ approvals: 1, requiredApprovals: 2, canVote: false, cannotVoteReason: 'You have already answered this request' });
    expect(detail.votes).toEqual([expect.objectContaining({ side: 'msp', decision: 'approved', comment: 'checked the source' })]);

    const again = await expectCode(callerFor(t.operator.id).approval.decide({ approvalId: approval.id, decision: 'approved' }), 'CONFLICT');
    expect(again.message).toMatch(/second, different person/);
    expect(await ownerDb().approvalVote.count({ where: { approvalId: approval.id } })).toBe(1);

    const second = await callerFor(t.customerUser.id).approval.decide({ approvalId: approval.id, decision: 'approved' });
    expect(second).toEqual({ decision: 'approved', approvals: 2, needed: 2, operationId: approval.operationId });
    expect((await ownerDb().operation.findUniqueOrThrow({ where: { id: approval.operationId } })).status).toBe('pending');
    expect(await queue.getJob(approval.operationId)).toBeTruthy();
  });

  it('customer viewers and staff viewers cannot answer', async () => {
    const { t, approval } = await pending();
    const customerViewer = await createUser({ name: 'Customer viewer' });
    await addCustomerMember(t.customerX, customerViewer.id, 'viewer');
    const err = await expectCode(callerFor(customerViewer.id).approval.decide({ approvalId: approval.id, decision: 'approved' }), 'FORBIDDEN');
    expect(err.message).toMatch(/role cannot approve/);
    // The viewer still sees the request (and why they cannot answer).
    const seen = await callerFor(customerViewer.id).approval.get({ approvalId: approval.id });
    expect(seen.canVote).toBe(false);
    expect(seen.cannotVoteReason).toMatch(/role cannot approve/);
    await expectCode(callerFor(t.viewer.id).approval.decide({ approvalId: approval.id, decision: 'approved' }), 'FORBIDDEN');
    expect(await ownerDb().approvalVote.count({ where: { approvalId: approval.id } })).toBe(0);
  });

  it('a policy of MSP approvers refuses the customer’s approvers', async () => {
    const { t, approval } = await pending({}, { approvers: 'msp' });
    expect(approval.links.map((l) => l.userId).sort()).toEqual([t.owner.id, t.operator.id].sort());
    const err = await expectCode(callerFor(t.customerUser.id).approval.decide({ approvalId: approval.id, decision: 'approved' }), 'FORBIDDEN');
    expect(err.message).toMatch(/only MSP operators/);
    expect((await callerFor(t.operator.id).approval.decide({ approvalId: approval.id, decision: 'approved' })).decision).toBe('approved');
  });

  it('a rejection needs a reason, keeps the pair failover-pending and says who and why', async () => {
    const { t, pair, approval } = await pending();
    await expectCode(callerFor(t.customerUser.id).approval.decide({ approvalId: approval.id, decision: 'rejected' }), 'BAD_REQUEST');
    await callerFor(t.customerUser.id).approval.decide({ approvalId: approval.id, decision: 'rejected', comment: 'The file server is only rebooting' });
    const after = await ownerDb().approval.findUniqueOrThrow({ where: { id: approval.id }, include: { operation: true } });
    expect(after).toMatchObject({ decision: 'rejected', decidedById: t.customerUser.id, comment: 'The file server is only rebooting' });
    expect(after.operation.status).toBe('cancelled');
    expect((await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pair.id } })).status).toBe('failover_pending');
    const events = await ownerDb().pairEvent.findMany({ where: { pairId: pair.id } });
    expect(events.some((e) => e.message.includes(t.customerUser.name) && e.message.includes('(customer) rejected the failover: The file server is only rebooting'))).toBe(true);
    expect(await ownerDb().auditEvent.count({ where: { targetId: approval.id, action: 'approval.reject' } })).toBe(1);
  });
});

describe('the clock', () => {

  it('escalates once at half-time to the listed contacts (links for those who are users)', async () => {
    const oncall = uniqueEmail('oncall');
    const { t, approval } = await pending({ deadlineMinutes: 2, escalationEmails: [oncall] });
    await runApprovalClock(appDb(), at(approval, 59), undefined, [t.org.id]);
    expect((await ownerDb().approval.findUniqueOrThrow({ where: { id: approval.id } })).escalatedAt).toBeNull();
    await runApprovalClock(appDb(), at(approval, 60), undefined, [t.org.id]);
    await runApprovalClock(appDb(), at(approval, 70), undefined, [t.org.id]);
    const events = await ownerDb().outboxEvent.findMany({ where: { type: 'approval.escalated', payload: { path: ['data', 'approvalId'], equals: approval.id } } });
    expect(events).toHaveLength(1);
    expect(events[0]!.dedupeKey).toBe(`approval.escalated:${approval.id}`);
    expect((events[0]!.payload as { recipients: unknown[] }).recipients).toEqual([{ email: oncall }]);
    expect(String((events[0]!.payload as { data: { reason?: string } }).data.reason)).toMatch(/^Source lost/);
    expect((await ownerDb().approval.findUniqueOrThrow({ where: { id: approval.id } })).escalatedAt).toEqual(at(approval, 60));
    void t;
  });

  it('without listed contacts the escalation goes to the organization’s owners and admins, with links', async () => {
    const { t, approval } = await pending({ deadlineMinutes: 2 });
    await runApprovalClock(appDb(), at(approval, 61), undefined, [t.org.id]);
    const { recipients, links } = await linksByUser(approval.id, 'approval.escalated');
    expect(recipients.map((r) => r.email)).toEqual([t.owner.email]);
    expect([...links.keys()]).toEqual([t.owner.id]);
  });

  it('at the deadline a "proceed" policy runs the failover', async () => {
    const { t, pair, approval } = await pending({ deadlineMinutes: 1, escalate: false, onDeadline: 'proceed' });
    const jobs: OperationJob[] = [];
    await runApprovalClock(appDb(), at(approval, 59), collect(jobs, (j) => j.operationId === approval.operationId), [t.org.id]);
    expect(jobs).toEqual([]);
    await runApprovalClock(appDb(), at(approval, 60), collect(jobs, (j) => j.operationId === approval.operationId), [t.org.id]);
    expect(jobs.map((j) => j.operationId)).toEqual([approval.operationId]);
    const after = await ownerDb().approval.findUniqueOrThrow({ where: { id: approval.id }, include: { operation: true } });
    expect(after.decision).toBe('expired');
    expect(after.operation.status).toBe('pending');
    const events = await ownerDb().pairEvent.findMany({ where: { pairId: pair.id } });
    expect(events.some((e) => e.message === 'Nobody answered by the deadline: the failover runs as the policy says.')).toBe(true);
    // Once: a later tick finds nothing to do, and nobody can answer any more.
    await runApprovalClock(appDb(), at(approval, 65), collect(jobs, (j) => j.operationId === approval.operationId), [t.org.id]);
    expect(jobs).toHaveLength(1);
  });

  it('at the deadline an "abandon" policy cancels the request; the pair stays failover-pending', async () => {
    const { t, pair, approval } = await pending({ deadlineMinutes: 1, escalate: false, onDeadline: 'abandon' });
    const jobs: OperationJob[] = [];
    await runApprovalClock(appDb(), at(approval, 61), collect(jobs, (j) => j.operationId === approval.operationId), [t.org.id]);
    expect(jobs).toEqual([]);
    const after = await ownerDb().approval.findUniqueOrThrow({ where: { id: approval.id }, include: { operation: true } });
    expect(after.decision).toBe('expired');
    expect(after.operation.status).toBe('cancelled');
    expect((await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pair.id } })).status).toBe('failover_pending');
    const events = await ownerDb().pairEvent.findMany({ where: { pairId: pair.id } });
    expect(events.some((e) => /Nobody answered by the deadline: the failover request is abandoned/.test(e.message))).toBe(true);
    await expectCode(callerFor(t.operator.id).approval.decide({ approvalId: approval.id, decision: 'approved' }), 'CONFLICT');
  });
});

describe('the escalation e-mail', () => {
  it('reaches a real SMTP server through the dispatcher and the sender, with the person’s one-time link', async () => {
    const mail = await startMailServer();
    try {
      const { t, approval } = await pending({ deadlineMinutes: 2 });
      await ownerDb().smtpSettings.create({ data: { organizationId: t.org.id, host: mail.host, port: mail.port, security: 'none', fromAddress: 'alerts@msp.example.test' } });
      await runApprovalClock(appDb(), at(approval, 61), undefined, [t.org.id]);
      const escalated = await ownerDb().outboxEvent.findFirstOrThrow({ where: { type: 'approval.escalated', payload: { path: ['data', 'approvalId'], equals: approval.id } } });
      // Fan out this organization's events (another test file's worker may do it first: same result), then send.
      await vi.waitFor(
        async () => {
          // A large batch: claims are oldest first, and this test's events must be among them.
          await fanOutOnce(appDb(), { portalUrl: 'http://portal.example.test', batch: 5000, organizationIds: [t.org.id] });
          expect((await ownerDb().outboxEvent.findUniqueOrThrow({ where: { id: escalated.id } })).processedAt).not.toBeNull();
        },
        { timeout: 20_000, interval: 100 },
      );
      const m = await vi.waitFor(
        async () => {
          await sendDueDeliveries(appDb(), { portalUrl: 'http://portal.example.test', retryBaseMs: 20, budgetMs: 2_000, organizationIds: [t.org.id] });
          const found = mail.messages.find((x) => x.to.includes(t.owner.email) && /^Escalation/.test(x.subject));
          expect(found).toBeTruthy();
          return found!;
        },
        { timeout: 30_000, interval: 200 },
      );
      expect(m.subject).toMatch(/still awaits approval/);
      const link = /http:\/\/portal\.example\.test\/approve\/[\w-]+/.exec(m.text)?.[0];
      expect(link, m.text).toBeTruthy();
      const stored = await ownerDb().approvalLink.findFirstOrThrow({ where: { tokenHash: sha256Hex(tokenOf(link!)) } });
      expect(stored).toMatchObject({ approvalId: approval.id, userId: t.owner.id });
    } finally {
      await mail.stop();
    }
  }, 90_000);
});

describe('the e-mailed link', () => {
  it('works once, only for its person, and not after the deadline; a bad token reveals nothing', async () => {
    const { t, approval } = await pending();
    const { links } = await linksByUser(approval.id);
    const mine = tokenOf(links.get(t.customerUser.id)!);
    const err = await expectCode(callerFor(t.operator.id).approval.openLink({ token: mine }), 'FORBIDDEN');
    expect(err.message).toMatch(/sent to someone else/);
    expect(await callerFor(t.customerUser.id).approval.openLink({ token: mine })).toEqual({ approvalId: approval.id, customerId: t.customerX.id, workspaceKey: `customer:${t.customerX.id}` });
    expect((await ownerDb().approvalLink.findFirstOrThrow({ where: { tokenHash: sha256Hex(mine) } })).usedAt).toBeInstanceOf(Date);
    expect((await expectCode(callerFor(t.customerUser.id).approval.openLink({ token: mine }), 'CONFLICT')).message).toMatch(/already used/);

    const bad = await expectCode(callerFor(t.customerUser.id).approval.openLink({ token: 'x'.repeat(43) }), 'NOT_FOUND');
    expect(bad.message).toMatch(/not valid/);
    await expectCode(callerFor(null).approval.openLink({ token: mine }), 'UNAUTHORIZED');

    const staffToken = tokenOf(links.get(t.operator.id)!);
    await ownerDb().approvalLink.updateMany({ where: { tokenHash: sha256Hex(staffToken) }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await expectCode(callerFor(t.operator.id).approval.openLink({ token: staffToken }), 'CONFLICT')).message).toMatch(/expired/);
    const ownerToken = tokenOf(links.get(t.owner.id)!);
    expect(await callerFor(t.owner.id).approval.openLink({ token: ownerToken })).toMatchObject({ workspaceKey: `org:${t.org.id}` });
  });
});

describe('policy', () => {
  it('admins set the customer’s policy and RPO, operators a pair’s override; both audited and stated', async () => {
    const t = await createTenant();
    const { pair } = await lostPair(t);
    const policy = { approvers: 'customer' as const, fourEyes: true, deadlineMinutes: 30, escalate: true, escalationEmails: [], onDeadline: 'proceed' as const };
    await expectCode(callerFor(t.operator.id).approval.setPolicy({ customerId: t.customerX.id, policy }), 'FORBIDDEN');
    const set = await callerFor(t.owner.id).approval.setPolicy({ customerId: t.customerX.id, policy, rpoSeconds: 300 });
    expect(set).toMatchObject({ policy, rpoSeconds: 300 });
    expect(set.statement).toMatch(/two different customer approvers within 30 minutes/);
    expect(await callerFor(t.customerUser.id).approval.policy({ customerId: t.customerX.id })).toEqual(set);

    const over = await callerFor(t.operator.id).approval.setPairPolicy({ customerId: t.customerX.id, pairId: pair.id, override: { fourEyes: false } });
    expect(over).toMatchObject({ override: { fourEyes: false }, inherited: false, effective: { ...policy, fourEyes: false } });
    await expectCode(callerFor(t.customerUser.id).approval.setPairPolicy({ customerId: t.customerX.id, pairId: pair.id, override: {} }), 'FORBIDDEN');
    expect((await callerFor(t.operator.id).approval.setPairPolicy({ customerId: t.customerX.id, pairId: pair.id, override: {} })).inherited).toBe(true);
    const actions = (await ownerDb().auditEvent.findMany({ where: { organizationId: t.org.id, action: { in: ['customer.approval_policy', 'pair.approval_policy'] } } })).map((a) => a.action);
    expect(actions.sort()).toEqual(['customer.approval_policy', 'pair.approval_policy', 'pair.approval_policy']);
  });
});

describe('invitations', () => {
  it('are e-mailed: an invitation.sent event addressed to the invitee with the sealed link', async () => {
    const t = await createTenant();
    const email = uniqueEmail('invitee');
    const res = await callerFor(t.operator.id).invitation.create({ kind: 'customer', customerId: t.customerX.id, email, role: 'approver' });
    const event = await ownerDb().outboxEvent.findFirstOrThrow({ where: { organizationId: t.org.id, type: 'invitation.sent' } });
    expect(event.customerId).toBe(t.customerX.id);
    const payload = event.payload as { recipients: { email: string; linkEnc: string }[]; data: Record<string, unknown> };
    expect(payload.recipients).toHaveLength(1);
    expect(payload.recipients[0]!.email).toBe(email);
    expect(openSecret(payload.recipients[0]!.linkEnc, 'delivery-link')).toBe(res.link);
    expect(payload.data).toMatchObject({ organizationName: t.org.name, customerName: t.customerX.name, role: 'approver', expiresAt: res.invitation.expiresAt });
  });
});
