// The validation API: starting a run (a validate Operation handed to the worker's queue; a second
// request joins it), the latest run grouped by family with all six statuses, history and the diff
// of two runs, acknowledging warnings (audited; lapsing when the evidence changes or expires),
// Fix and Fix All (their plans, the operations they create, and what they refuse: a protected
// pair's target, privileged fixes without an owner's or admin's confirmation, stale findings),
// the roll-up, and the organization's settings. Runs and findings are written to the database as
// the worker stores them; no worker runs here, so operations stay queued.
import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServer, createTenant, ownerDb, type Tenant } from '@tandem/db/testing';
import { settingsToColumns, stableDigest, type FixAction, type PairStatus } from '@tandem/engine';
import { operationsQueue, redisConnection, type OperationJob } from '@tandem/jobs';
import { auditEventsOf, callerFor, expectCode } from './helpers';
import { validPairSettings } from './support/pair-settings';

const prefix = `tandem-test-${process.pid}-${Date.now().toString(36)}`;
process.env.TANDEM_QUEUE_PREFIX = prefix;

let t: Tenant;
let queue: Queue<OperationJob>;
let pairId: string;
let targetHostname: string;

interface SeedFinding {
  checkId: string;
  severity: 'error' | 'warning';
  status: string;
  side?: 'source' | 'target' | 'none';
  subject: string;
  evidence?: Record<string, unknown>;
  plan?: FixAction[] | null;
  guidance?: string | null;
  privileged?: boolean;
  phase?: number | null;
  blockedReason?: string | null;
}

const stopSmbd: FixAction = {
  action: 'service.stop',
  node: 'target',
  name: 'smbd',
  description: 'Stop smbd on the target (dependents first)',
  before: 'running',
  after: 'stopped',
};
const lowerTtl: FixAction = {
  action: 'dns.set-ttl',
  records: [{ type: 'A', name: 'files.corp.test' }],
  ttl: 300,
  description: 'Lower the TTL of A files.corp.test to 300 s',
  before: '3600',
  after: '300',
};
const openPort: FixAction = {
  action: 'firewall.allow',
  node: 'target',
  port: 6320,
  protocol: 'tcp',
  fromCidr: '10.0.0.5/32',
  description: 'Allow TCP 6320 from 10.0.0.5 on the target',
  before: 'closed',
  after: 'open',
};

/** The findings of a run with one of each kind: blocked-while-protected error, warning with a fix, privileged, manual warning. */
const standardFindings = (over: Partial<Record<string, Partial<SeedFinding>>> = {}): SeedFinding[] => [
  {
    checkId: 'services.running-on-target',
    severity: 'error',
    status: 'error-fixable',
    side: 'target',
    subject: 'service=smbd',
    evidence: { service: 'smbd', state: 'running' },
    plan: [stopSmbd],
    phase: 6,
    ...over.services,
  },
  {
    checkId: 'dns.ttl-above-recommended',
    severity: 'warning',
    status: 'warning-fixable',
    subject: 'record=A files.corp.test',
    evidence: { ttl: 3600 },
    plan: [lowerTtl],
    phase: 4,
    ...over.ttl,
  },
  {
    checkId: 'agent.data-channel-unreachable',
    severity: 'error',
    status: 'error-fixable',
    subject: 'port=6320',
    evidence: { port: 6320 },
    plan: [openPort],
    phase: 2,
    privileged: true,
    ...over.channel,
  },
  {
    checkId: 'dns.reverse-zone-missing',
    severity: 'warning',
    status: 'warning-manual',
    subject: 'zone=0.0.10.in-addr.arpa',
    evidence: { subnet: '10.0.0.0/24' },
    guidance: 'Create the reverse zone.',
    ...over.reverse,
  },
];

/** Runs are seeded one after the other: each default start time is later than every one before. */
let clock = Date.now();

/** A finished run of the pair with its per-check results and findings, as the worker stores them. */
async function seedRun(
  findings: SeedFinding[],
  opts: { startedAt?: Date; pair?: string; extraResults?: unknown[]; overall?: string } = {},
) {
  const pid = opts.pair ?? pairId;
  const pair = await ownerDb().protectionPair.findUniqueOrThrow({ where: { id: pid } });
  const startedAt = opts.startedAt ?? new Date((clock += 10_000));
  const results = [
    { checkId: 'agent.version-below-minimum', side: 'source', status: 'good' },
    { checkId: 'agent.version-below-minimum', side: 'target', status: 'good' },
    {
      checkId: 'dns.record-missing',
      side: 'none',
      status: 'unknown',
      unknown: { reason: 'the DNS dry run did not answer', facts: ['D'], gate: 'dns.provider-unreachable' },
    },
    ...findings.map((f) => ({ checkId: f.checkId, side: f.side ?? 'none', status: f.status })),
    ...(opts.extraResults ?? []),
  ];
  return ownerDb().validationRun.create({
    data: {
      organizationId: pair.organizationId,
      customerId: pair.customerId,
      pairId: pid,
      status: findings.some((f) => f.severity === 'error') ? 'failed' : findings.length ? 'warnings' : 'passed',
      startedAt,
      finishedAt: new Date(startedAt.getTime() + 2_000),
      trigger: 'manual',
      configChangedAt: pair.configChangedAt,
      overall:
        opts.overall ??
        (findings.some((f) => f.status.startsWith('error')) ? 'error-manual' : findings.length ? 'warning-manual' : 'good'),
      results: results as never,
      findings: {
        create: findings.map((f) => ({
          organizationId: pair.organizationId,
          customerId: pair.customerId,
          pairId: pid,
          checkId: f.checkId,
          severity: f.severity,
          message: `${f.checkId} fired for ${f.subject}`,
          fixable: f.status.endsWith('fixable'),
          side: f.side ?? 'none',
          subject: f.subject,
          status: f.status,
          evidence: (f.evidence ?? {}) as never,
          evidenceDigest: stableDigest(f.evidence ?? {}),
          guidance: f.guidance ?? null,
          plan: (f.plan ?? undefined) as never,
          blockedReason: f.blockedReason ?? null,
          privileged: f.privileged ?? false,
          phase: f.phase ?? null,
        })),
      },
    },
    include: { findings: true },
  });
}

const findingOf = (run: Awaited<ReturnType<typeof seedRun>>, checkId: string) => run.findings.find((f) => f.checkId === checkId)!;
const setStatus = (status: PairStatus) => ownerDb().protectionPair.update({ where: { id: pairId }, data: { status } });
const settleOperations = () =>
  ownerDb().operation.updateMany({
    where: { pairId, status: { in: ['pending', 'running'] } },
    data: { status: 'succeeded', finishedAt: new Date() },
  });

async function newPair(customer: { id: string; organizationId: string }, name: string) {
  const [source, target] = [await createServer(customer), await createServer(customer)];
  const pair = await ownerDb().protectionPair.create({
    data: {
      organizationId: customer.organizationId,
      customerId: customer.id,
      sourceServerId: source.id,
      targetServerId: target.id,
      ...settingsToColumns({ ...validPairSettings(), name }),
    },
  });
  return { pair, target };
}

beforeAll(async () => {
  t = await createTenant();
  queue = operationsQueue(redisConnection(process.env.REDIS_URL!), { prefix });
  const made = await newPair(t.customerX, 'Payroll files');
  pairId = made.pair.id;
  targetHostname = made.target.hostname;
});

afterAll(async () => {
  await queue?.obliterate({ force: true });
  await queue?.close();
});

beforeEach(async () => {
  await settleOperations();
  await setStatus('unprotected');
  await ownerDb().findingAcknowledgement.deleteMany({ where: { pairId } });
  await ownerDb().organization.update({ where: { id: t.org.id }, data: { privilegedFixesInFixAll: false } });
});

describe('validation.start', () => {
  it('creates a validate operation for the worker and records who asked; a second request joins it', async () => {
    const first = await callerFor(t.operator.id).validation.start({ pairId });
    expect(first.joined).toBe(false);
    const op = await ownerDb().operation.findUniqueOrThrow({ where: { id: first.operationId } });
    expect(op).toMatchObject({
      kind: 'validate',
      status: 'pending',
      pairId,
      requestedById: t.operator.id,
      options: { trigger: 'manual' },
    });
    expect((await queue.getJob(first.operationId))?.data).toEqual({
      operationId: first.operationId,
      organizationId: t.org.id,
      customerId: t.customerX.id,
    });
    const again = await callerFor(t.owner.id).validation.start({ pairId });
    expect(again).toEqual({ operationId: first.operationId, joined: true });
    expect(await ownerDb().operation.count({ where: { pairId, kind: 'validate' } })).toBe(1);
    const audits = (await auditEventsOf(t.org.id)).filter((e) => e.action === 'pair.validate');
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ actorId: t.operator.id, targetId: pairId });
    // The running validation shows on the latest view as live progress.
    expect((await callerFor(t.viewer.id).validation.latest({ pairId })).inProgress).toMatchObject({
      operationId: first.operationId,
      status: 'pending',
    });
  });

  it('waits for another operation of the pair, and only operators may validate', async () => {
    await ownerDb().operation.create({
      data: { organizationId: t.org.id, customerId: t.customerX.id, pairId, kind: 'failover', status: 'running' },
    });
    const err = await expectCode(callerFor(t.operator.id).validation.start({ pairId }), 'CONFLICT');
    expect(err.message).toMatch(/failover.*still running/);
    await settleOperations();
    await expectCode(callerFor(t.viewer.id).validation.start({ pairId }), 'FORBIDDEN');
    await expectCode(callerFor(t.customerUser.id).validation.start({ pairId }), 'FORBIDDEN');
    expect(await ownerDb().operation.count({ where: { pairId, kind: 'validate', status: 'pending' } })).toBe(0);
  });
});

describe('validation.latest, runs and diff', () => {
  it('groups every evaluated check by family with its status; unknown names its reason and gate', async () => {
    const run = await seedRun(standardFindings());
    const latest = await callerFor(t.viewer.id).validation.latest({ pairId });
    expect(latest.run).toMatchObject({ id: run.id, errors: 2, warnings: 2, overall: 'error-manual' });
    expect(latest.stale).toBe(false);
    const families = Object.fromEntries(latest.families.map((f) => [f.family, f]));
    expect(Object.keys(families)).toEqual(expect.arrayContaining(['agent', 'services', 'dns']));
    // Families keep the catalogue's order (agent before services before dns).
    const order = latest.families.map((f) => f.family);
    expect(order.indexOf('agent')).toBeLessThan(order.indexOf('services'));
    expect(order.indexOf('services')).toBeLessThan(order.indexOf('dns'));
    const agentVersion = families.agent!.checks.filter((c) => c.checkId === 'agent.version-below-minimum');
    expect(agentVersion.map((c) => [c.side, c.status]).sort()).toEqual([
      ['source', 'good'],
      ['target', 'good'],
    ]);
    const unknown = families.dns!.checks.find((c) => c.checkId === 'dns.record-missing')!;
    expect(unknown.status).toBe('unknown');
    expect(unknown.unknown).toMatchObject({ reason: 'the DNS dry run did not answer', gate: 'dns.provider-unreachable' });
    expect(families.dns!.counts).toMatchObject({ unknown: 1, 'warning-fixable': 1, 'warning-manual': 1 });
    const smbd = families.services!.checks[0]!;
    expect(smbd).toMatchObject({
      checkId: 'services.running-on-target',
      side: 'target',
      status: 'error-fixable',
      title: 'Service running on the target',
    });
    expect(smbd.findings[0]).toMatchObject({
      subject: 'service=smbd',
      evidence: { service: 'smbd', state: 'running' },
      plan: [stopSmbd],
      blockedReason: null,
      acknowledgement: null,
    });
    expect(smbd.findings[0]!.detects).toMatch(/must be stopped on target/);
    // A customer user of the pair's customer reads it too.
    expect((await callerFor(t.customerUser.id).validation.latest({ pairId })).run?.id).toBe(run.id);
  });

  it('says when the configuration changed after the run, and shows a protected pair’s target fixes as blocked', async () => {
    await seedRun(standardFindings());
    await ownerDb().protectionPair.update({ where: { id: pairId }, data: { configChangedAt: new Date(Date.now() + 60_000) } });
    await setStatus('protected');
    try {
      const latest = await callerFor(t.viewer.id).validation.latest({ pairId });
      expect(latest.stale).toBe(true);
      const smbd = latest.families.flatMap((f) => f.checks).find((c) => c.checkId === 'services.running-on-target')!;
      expect(smbd.status).toBe('error-fixable');
      expect(smbd.findings[0]!.blockedReason).toMatch(/^Disable protection first/);
    } finally {
      await ownerDb().protectionPair.update({ where: { id: pairId }, data: { configChangedAt: new Date(0) } });
    }
  });

  it('lists the runs newest first and diffs two of them: new, resolved and changed findings', async () => {
    const { pair: other } = await newPair(t.customerX, 'History pair');
    const base = Date.now() - 3_600_000;
    const older = await seedRun(standardFindings(), { pair: other.id, startedAt: new Date(base) });
    const newer = await seedRun(
      [
        ...standardFindings({ ttl: { evidence: { ttl: 7200 } } }).filter((f) => f.checkId !== 'services.running-on-target'),
        {
          checkId: 'hooks.directory-missing',
          severity: 'error',
          status: 'error-manual',
          side: 'source',
          subject: 'path=/var/lib/tandem/hooks',
          guidance: 'Create it.',
        },
      ],
      { pair: other.id, startedAt: new Date(base + 60_000) },
    );
    const runs = await callerFor(t.customerUser.id).validation.runs({ pairId: other.id });
    expect(runs.map((r) => r.id)).toEqual([newer.id, older.id]);
    expect(runs[1]).toMatchObject({ errors: 2, warnings: 2, trigger: 'manual' });
    // Named in either order, the diff goes from the older to the newer run.
    const d = await callerFor(t.viewer.id).validation.diff({ runA: newer.id, runB: older.id });
    expect(d.from.id).toBe(older.id);
    expect(d.added.map((f) => f.checkId)).toEqual(['hooks.directory-missing']);
    expect(d.resolved.map((f) => f.checkId)).toEqual(['services.running-on-target']);
    expect(d.changed.map((c) => [c.after.checkId, c.what])).toEqual([['dns.ttl-above-recommended', ['evidence']]]);
    expect(d.changed[0]!.before.evidence).toEqual({ ttl: 3600 });
    expect(d.unchanged).toBe(2);
  });

  it('refuses a diff of two pairs’ runs', async () => {
    const a = await seedRun([]);
    const { pair: other } = await newPair(t.customerX, 'Another pair');
    const b = await seedRun([], { pair: other.id });
    await expectCode(callerFor(t.viewer.id).validation.diff({ runA: a.id, runB: b.id }), 'BAD_REQUEST');
  });

  it('has no run for a pair never validated', async () => {
    const { pair: fresh } = await newPair(t.customerX, 'Fresh pair');
    expect(await callerFor(t.viewer.id).validation.latest({ pairId: fresh.id })).toEqual({
      run: null,
      stale: false,
      inProgress: null,
      families: [],
      readiness: { score: null, lowers: [] },
    });
    expect(await callerFor(t.viewer.id).validation.runs({ pairId: fresh.id })).toEqual([]);
  });
});

describe('acknowledging warnings', () => {
  it('accepts a warning with a reason (audited) until its evidence changes', async () => {
    const run = await seedRun(standardFindings());
    const ttl = findingOf(run, 'dns.ttl-above-recommended');
    const { expiresAt } = await callerFor(t.operator.id).validation.acknowledge({
      findingId: ttl.id,
      reason: 'TTL is set by the registrar',
      days: 30,
    });
    expect(new Date(expiresAt).getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    const ackOf = async () =>
      (await callerFor(t.viewer.id).validation.latest({ pairId })).families
        .flatMap((f) => f.checks.flatMap((c) => c.findings))
        .find((f) => f.checkId === 'dns.ttl-above-recommended')!.acknowledgement;
    expect(await ackOf()).toMatchObject({ state: 'active', reason: 'TTL is set by the registrar', by: t.operator.name });
    const audit = (await auditEventsOf(t.org.id)).filter((e) => e.action === 'finding.acknowledge').at(-1)!;
    expect(audit.summary).toMatch(/TTL is set by the registrar/);
    expect(audit.changes).toMatchObject({ checkId: 'dns.ttl-above-recommended', subject: 'record=A files.corp.test' });

    // The same evidence in a later run: still accepted. Other evidence: it lapses.
    await seedRun(standardFindings());
    expect((await ackOf())?.state).toBe('active');
    await seedRun(standardFindings({ ttl: { evidence: { ttl: 86_400 } } }));
    expect((await ackOf())?.state).toBe('evidence-changed');
  });

  it('lapses when it expires, and can be withdrawn (audited)', async () => {
    const run = await seedRun(standardFindings());
    const ttl = findingOf(run, 'dns.ttl-above-recommended');
    await callerFor(t.owner.id).validation.acknowledge({ findingId: ttl.id, reason: 'accepted for now', days: 1 });
    await ownerDb().findingAcknowledgement.updateMany({ where: { pairId }, data: { expiresAt: new Date(Date.now() - 1_000) } });
    const find = async () =>
      (await callerFor(t.viewer.id).validation.latest({ pairId })).families
        .flatMap((f) => f.checks.flatMap((c) => c.findings))
        .find((f) => f.id === ttl.id)!;
    expect((await find()).acknowledgement?.state).toBe('expired');
    expect(await callerFor(t.operator.id).validation.unacknowledge({ findingId: ttl.id })).toEqual({ removed: true });
    expect((await find()).acknowledgement).toBeNull();
    expect((await auditEventsOf(t.org.id)).some((e) => e.action === 'finding.unacknowledge' && e.targetId === pairId)).toBe(true);
    expect(await callerFor(t.operator.id).validation.unacknowledge({ findingId: ttl.id })).toEqual({ removed: false });
  });

  it('refuses errors, more than 90 days, an empty reason, and people who may not act', async () => {
    const run = await seedRun(standardFindings());
    const error = findingOf(run, 'services.running-on-target');
    const warning = findingOf(run, 'dns.reverse-zone-missing');
    expect(
      (
        await expectCode(
          callerFor(t.operator.id).validation.acknowledge({ findingId: error.id, reason: 'not needed', days: 5 }),
          'CONFLICT',
        )
      ).message,
    ).toMatch(/Only warnings/);
    await expectCode(
      callerFor(t.operator.id).validation.acknowledge({ findingId: warning.id, reason: 'a good reason', days: 91 }),
      'BAD_REQUEST',
    );
    await expectCode(
      callerFor(t.operator.id).validation.acknowledge({ findingId: warning.id, reason: '  ', days: 5 }),
      'BAD_REQUEST',
    );
    await expectCode(
      callerFor(t.viewer.id).validation.acknowledge({ findingId: warning.id, reason: 'a good reason', days: 5 }),
      'FORBIDDEN',
    );
    await expectCode(
      callerFor(t.customerUser.id).validation.acknowledge({ findingId: warning.id, reason: 'a good reason', days: 5 }),
      'FORBIDDEN',
    );
    expect(await ownerDb().findingAcknowledgement.count({ where: { pairId } })).toBe(0);
  });
});

describe('Fix', () => {
  it('previews the plan per phase and node with before and after, and lists what it cannot take', async () => {
    const run = await seedRun(standardFindings());
    const plan = await callerFor(t.viewer.id).validation.fixPreview({
      findingIds: [findingOf(run, 'services.running-on-target').id, findingOf(run, 'dns.reverse-zone-missing').id],
    });
    expect(plan.phases).toEqual([
      {
        phase: 6,
        title: 'Target passivity',
        nodes: [
          {
            runsOn: 'target',
            label: targetHostname,
            items: [
              {
                action: stopSmbd,
                findingIds: [findingOf(run, 'services.running-on-target').id],
                checkIds: ['services.running-on-target'],
              },
            ],
          },
        ],
      },
    ]);
    expect(plan.skipped.map((x) => x.checkId)).toEqual(['dns.reverse-zone-missing']);
    expect(plan.skipped[0]!.reason).toMatch(/person must fix/);
    expect(plan.actions).toBe(1);
  });

  it('creates a fix operation carrying the findings and the plan digest, audited', async () => {
    const run = await seedRun(standardFindings());
    const smbd = findingOf(run, 'services.running-on-target');
    const preview = await callerFor(t.operator.id).validation.fixPreview({ findingIds: [smbd.id] });
    const { operationId, planDigest } = await callerFor(t.operator.id).validation.fix({ findingIds: [smbd.id] });
    expect(planDigest).toBe(preview.digest);
    const op = await ownerDb().operation.findUniqueOrThrow({ where: { id: operationId } });
    expect(op).toMatchObject({ kind: 'fix', status: 'pending', requestedById: t.operator.id });
    expect(op.options).toEqual({
      runId: run.id,
      findingIds: [smbd.id],
      fixAll: false,
      planDigest,
      deselected: [],
      confirmPrivileged: false,
    });
    expect(await queue.getJob(operationId)).toBeTruthy();
    const audit = (await auditEventsOf(t.org.id)).filter((e) => e.action === 'pair.fix').at(-1)!;
    expect(audit.changes).toMatchObject({
      operationId,
      actions: [{ phase: 6, runsOn: 'target', action: 'service.stop', before: 'running', after: 'stopped' }],
    });
    // One operation at a time.
    await expectCode(callerFor(t.operator.id).validation.fix({ findingIds: [smbd.id] }), 'CONFLICT');
  });

  it('refuses a target fix while the pair is protected: disable protection first', async () => {
    const run = await seedRun(standardFindings());
    await setStatus('protected');
    const err = await expectCode(
      callerFor(t.operator.id).validation.fix({ findingIds: [findingOf(run, 'services.running-on-target').id] }),
      'CONFLICT',
    );
    expect(err.message).toMatch(/Disable protection first/);
    // A DNS fix is no change to the target: it may run while protected.
    await callerFor(t.operator.id).validation.fix({ findingIds: [findingOf(run, 'dns.ttl-above-recommended').id] });
    expect(await ownerDb().operation.count({ where: { pairId, kind: 'fix', status: 'pending' } })).toBe(1);
  });

  it('blocks a fix that is refused only on the target just where its plan changes the target', async () => {
    const nic = (node: 'source' | 'target'): SeedFinding => ({
      checkId: 'dns.private-nic-registers',
      severity: 'warning',
      status: 'warning-fixable',
      side: node,
      subject: 'interface=Ethernet 2',
      evidence: { interface: 'Ethernet 2' },
      plan: [
        {
          action: 'net.set-dns-registration',
          node,
          nic: 'Ethernet 2',
          register: false,
          description: `Stop Ethernet 2 on the ${node} registering in DNS`,
          before: 'registers in DNS',
          after: 'does not register',
        },
      ],
      phase: 4,
    });
    const run = await seedRun([nic('source'), nic('target')]);
    await setStatus('protected');
    const byId = new Map(run.findings.map((f) => [f.side, f.id]));
    const latest = await callerFor(t.viewer.id).validation.latest({ pairId });
    const views = latest.families.flatMap((f) => f.checks.flatMap((c) => c.findings));
    expect(views.find((f) => f.side === 'source')?.blockedReason).toBeNull();
    expect(views.find((f) => f.side === 'target')?.blockedReason).toMatch(/^Disable protection first/);
    await expectCode(callerFor(t.operator.id).validation.fix({ findingIds: [byId.get('target')!] }), 'CONFLICT');
    const { operationId } = await callerFor(t.operator.id).validation.fix({ findingIds: [byId.get('source')!] });
    expect((await ownerDb().operation.findUniqueOrThrow({ where: { id: operationId } })).options).toMatchObject({
      findingIds: [byId.get('source')],
    });
  });

  it('needs an owner’s or admin’s confirmation for a privileged fix', async () => {
    const run = await seedRun(standardFindings());
    const channel = findingOf(run, 'agent.data-channel-unreachable');
    expect((await expectCode(callerFor(t.operator.id).validation.fix({ findingIds: [channel.id] }), 'CONFLICT')).message).toMatch(
      /owner or admin must confirm/,
    );
    await expectCode(callerFor(t.operator.id).validation.fix({ findingIds: [channel.id], confirmPrivileged: true }), 'FORBIDDEN');
    const { operationId } = await callerFor(t.owner.id).validation.fix({ findingIds: [channel.id], confirmPrivileged: true });
    expect((await ownerDb().operation.findUniqueOrThrow({ where: { id: operationId } })).options).toMatchObject({
      confirmPrivileged: true,
      findingIds: [channel.id],
    });
  });

  it('refuses manual findings, findings of an older run, and findings of two runs', async () => {
    const older = await seedRun(standardFindings(), { startedAt: new Date(Date.now() - 60_000) });
    const run = await seedRun(standardFindings());
    expect(
      (
        await expectCode(
          callerFor(t.operator.id).validation.fix({ findingIds: [findingOf(run, 'dns.reverse-zone-missing').id] }),
          'CONFLICT',
        )
      ).message,
    ).toMatch(/person must fix/);
    expect(
      (
        await expectCode(
          callerFor(t.operator.id).validation.fix({ findingIds: [findingOf(older, 'dns.ttl-above-recommended').id] }),
          'CONFLICT',
        )
      ).message,
    ).toMatch(/older validation run/);
    await expectCode(
      callerFor(t.operator.id).validation.fix({
        findingIds: [findingOf(older, 'dns.ttl-above-recommended').id, findingOf(run, 'dns.ttl-above-recommended').id],
      }),
      'BAD_REQUEST',
    );
    await expectCode(
      callerFor(t.viewer.id).validation.fix({ findingIds: [findingOf(run, 'dns.ttl-above-recommended').id] }),
      'FORBIDDEN',
    );
    expect(await ownerDb().operation.count({ where: { pairId, kind: 'fix', status: 'pending' } })).toBe(0);
  });
});

describe('Fix All', () => {
  it('plans every fixable finding in phase order, leaving out privileged (unless allowed), manual and deselected ones', async () => {
    const run = await seedRun(standardFindings());
    const plan = await callerFor(t.operator.id).validation.fixAllPreview({ pairId });
    expect(plan.phases.map((p) => [p.phase, p.nodes.map((n) => n.runsOn)])).toEqual([
      [4, ['dns']],
      [6, ['target']],
    ]);
    expect(plan.skipped.map((x) => x.checkId)).toEqual(['agent.data-channel-unreachable']);
    expect(plan.skipped[0]!.reason).toMatch(/Privileged/);
    const deselected = await callerFor(t.operator.id).validation.fixAllPreview({
      pairId,
      deselected: [findingOf(run, 'dns.ttl-above-recommended').id],
    });
    expect(deselected.phases.map((p) => p.phase)).toEqual([6]);
    expect(deselected.skipped.map((s) => [s.checkId, s.reason])).toContainEqual([
      'dns.ttl-above-recommended',
      'Taken out of the plan.',
    ]);

    await callerFor(t.owner.id).validation.updateSettings({ privilegedFixesInFixAll: true });
    const withPrivileged = await callerFor(t.operator.id).validation.fixAllPreview({ pairId });
    expect(withPrivileged.phases.map((p) => p.phase)).toEqual([2, 4, 6]);
    expect(withPrivileged.privileged).toBe(true);
  });

  it('creates one fix operation for the plan that was shown; a changed plan is refused', async () => {
    await seedRun(standardFindings());
    const plan = await callerFor(t.operator.id).validation.fixAllPreview({ pairId });
    await expectCode(callerFor(t.operator.id).validation.fixAll({ pairId, planDigest: 'not-the-plan' }), 'CONFLICT');
    const { operationId } = await callerFor(t.operator.id).validation.fixAll({ pairId, planDigest: plan.digest });
    const op = await ownerDb().operation.findUniqueOrThrow({ where: { id: operationId } });
    expect(op.kind).toBe('fix');
    expect(op.options).toMatchObject({ fixAll: true, planDigest: plan.digest, deselected: [] });
    expect((op.options as { findingIds: string[] }).findingIds).toHaveLength(2);
    expect((await auditEventsOf(t.org.id)).some((e) => e.action === 'pair.fixAll' && e.targetId === pairId)).toBe(true);
  });

  it('on a protected pair takes only what leaves the target alone, and says to disable protection for the rest', async () => {
    await seedRun(standardFindings());
    await setStatus('protected');
    const plan = await callerFor(t.operator.id).validation.fixAllPreview({ pairId });
    expect(plan.phases.map((p) => p.phase)).toEqual([4]);
    expect(plan.skipped.find((x) => x.checkId === 'services.running-on-target')?.reason).toMatch(/^Disable protection first/);
    await seedRun(standardFindings().filter((f) => f.checkId === 'services.running-on-target'));
    expect((await expectCode(callerFor(t.operator.id).validation.fixAll({ pairId }), 'CONFLICT')).message).toMatch(
      /Disable protection first/,
    );
  });

  it('needs a validation run first', async () => {
    const { pair: fresh } = await newPair(t.customerX, 'Never validated');
    expect((await expectCode(callerFor(t.operator.id).validation.fixAll({ pairId: fresh.id }), 'CONFLICT')).message).toMatch(
      /Validate the pair first/,
    );
  });
});

describe('roll-up and settings', () => {
  it('counts pairs with errors per customer and for the MSP; a customer user sees their own customer only', async () => {
    const org = await createTenant();
    const bad = await newPair(org.customerX, 'Bad pair');
    const good = await newPair(org.customerX, 'Good pair');
    await newPair(org.customerY, 'Never validated');
    await seedRun(standardFindings(), { pair: bad.pair.id });
    await seedRun([], { pair: good.pair.id });
    await ownerDb().protectionPair.update({
      where: { id: bad.pair.id },
      data: {
        readinessScore: 40,
        // As the worker stores it (the engine's readinessScore).
        readiness: {
          score: 40,
          factors: [
            { key: 'lag', label: 'Lag', penalty: 0, detail: 'within the RPO' },
            { key: 'errors', label: 'Open errors', penalty: 40, detail: '2 errors' },
            { key: 'test', label: 'Test failover', penalty: 20, detail: 'none in 90 days' },
          ],
        },
      },
    });
    await ownerDb().protectionPair.update({ where: { id: good.pair.id }, data: { readinessScore: 90 } });
    const r = await callerFor(org.viewer.id).validation.rollup();
    expect(r.totals).toMatchObject({
      pairs: 3,
      withErrors: 1,
      notValidated: 1,
      customers: 2,
      customersWithErrors: 1,
      readinessAverage: 65,
      readinessLowest: 40,
    });
    expect(r.customers.find((c) => c.customerId === org.customerX.id)).toMatchObject({
      pairs: 2,
      withErrors: 1,
      withWarnings: 0,
    });
    expect(r.pairsWithErrors).toEqual([
      expect.objectContaining({
        pairId: bad.pair.id,
        name: 'Bad pair',
        customerName: org.customerX.name,
        overall: 'error-manual',
        readinessScore: 40,
      }),
    ]);
    expect(r.pairs[0]).toMatchObject({
      pairId: bad.pair.id,
      overall: 'error-manual',
      readiness: {
        score: 40,
        lowers: [
          { label: 'Open errors: 2 errors', points: 40 },
          { label: 'Test failover: none in 90 days', points: 20 },
        ],
      },
    });
    expect(r.pairs.find((p) => p.name === 'Never validated')).toMatchObject({ overall: null, readinessScore: null });
    expect((await callerFor(org.viewer.id).validation.latest({ pairId: bad.pair.id })).readiness).toEqual({
      score: 40,
      lowers: [
        { label: 'Open errors: 2 errors', points: 40 },
        { label: 'Test failover: none in 90 days', points: 20 },
      ],
    });
    const mine = await callerFor(org.customerYUser.id).validation.rollup();
    expect(mine.customers.map((c) => c.customerId)).toEqual([org.customerY.id]);
    expect(mine.pairsWithErrors).toEqual([]);
    expect(mine.totals).toMatchObject({ pairs: 1, notValidated: 1 });
  });

  it('lets owners and admins set the re-validation interval and privileged fixes in Fix All (audited)', async () => {
    expect(await callerFor(t.viewer.id).validation.settings()).toEqual({
      validationIntervalHours: 24,
      privilegedFixesInFixAll: false,
    });
    await expectCode(callerFor(t.operator.id).validation.updateSettings({ validationIntervalHours: 6 }), 'FORBIDDEN');
    await expectCode(callerFor(t.customerUser.id).validation.settings(), 'FORBIDDEN');
    await expectCode(callerFor(t.owner.id).validation.updateSettings({ validationIntervalHours: 0 }), 'BAD_REQUEST');
    await expectCode(callerFor(t.owner.id).validation.updateSettings({ validationIntervalHours: 721 }), 'BAD_REQUEST');
    expect(
      await callerFor(t.owner.id).validation.updateSettings({ validationIntervalHours: 6, privilegedFixesInFixAll: true }),
    ).toEqual({ validationIntervalHours: 6, privilegedFixesInFixAll: true });
    const audit = (await auditEventsOf(t.org.id)).filter((e) => e.action === 'organization.validationSettings').at(-1)!;
    expect(audit.changes).toEqual({
      validationIntervalHours: { from: 24, to: 6 },
      privilegedFixesInFixAll: { from: false, to: true },
    });
    await callerFor(t.owner.id).validation.updateSettings({ validationIntervalHours: 24 });
  });
});

it('never hands out another tenant’s run or finding through a customer user’s own-customer reads', async () => {
  const { pair: yPair } = await newPair(t.customerY, `Y pair ${randomUUID().slice(0, 4)}`);
  const yRun = await seedRun(standardFindings(), { pair: yPair.id });
  await expectCode(callerFor(t.customerUser.id).validation.latest({ pairId: yPair.id }), 'NOT_FOUND');
  await expectCode(
    callerFor(t.customerUser.id).validation.fixPreview({ findingIds: [findingOf(yRun, 'dns.ttl-above-recommended').id] }),
    'NOT_FOUND',
  );
  expect((await callerFor(t.customerUser.id).validation.rollup()).customers.map((c) => c.customerId)).toEqual([t.customerX.id]);
});
