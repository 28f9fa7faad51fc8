// Monthly reports against real PostgreSQL (row-level security) and Redis: the figures of a seeded
// month (replication samples aggregated in SQL, operations, findings), who may read the report
// and its PDF (read back with pdf-parse), and the worker's job that announces last month's report
// once per customer through the outbox (run twice through the real maintenance queue).
import { randomUUID } from 'node:crypto';
import { QueueEvents } from 'bullmq';
import { PDFParse } from 'pdf-parse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type Db } from '@tandem/db';
import { createServer, createTenant, ownerDb, type Tenant } from '@tandem/db/testing';
import { lagStatistics, type LagSample } from '@tandem/engine';
import { monthlyReportPdfResponse } from '@/server/routers/report/pdf';
import { maintenanceQueue, maintenanceQueueName, redisConnection, startMaintenanceWorker } from '../../apps/worker/src/queues';
import { callerFor, expectCode } from './helpers';

const t = (iso: string) => new Date(iso);
const flat = (s: string) => s.replace(/\s+/g, ' ');
const day = 86_400;

async function pdfTextOf(res: Response): Promise<string> {
  const parser = new PDFParse({ data: new Uint8Array(await res.arrayBuffer()) });
  try {
    return flat((await parser.getText()).text);
  } finally {
    await parser.destroy();
  }
}

let a: Tenant;
let b: Tenant;
let files: { id: string; name: string };
let sql: { id: string; name: string };
const rpo = 60;
// October 2026's samples of the file pair (September's and November's must not count).
const octoberSamples: LagSample[] = [
  ...[5, 10, 20, 30, 100, 200, 150, 40, 10, 5].map((lag, i) => ({ at: new Date(Date.parse('2026-10-05T12:00:00Z') + i * 60_000), lagSeconds: lag, resolutionSeconds: 0 })),
  // A lone one-minute roll-up above the RPO, nothing after it for days: a stretch of its minute.
  { at: t('2026-10-20T00:00:00Z'), lagSeconds: 500, resolutionSeconds: 60 },
  { at: t('2026-10-21T00:00:00Z'), lagSeconds: null, resolutionSeconds: 60 },
];

beforeAll(async () => {
  a = await createTenant();
  b = await createTenant();
  const db = ownerDb();
  const x = a.customerX;
  await db.customer.update({ where: { id: x.id }, data: { rpoSeconds: rpo } });
  const target = await createServer(x);
  const pairOf = (name: string, data: object) =>
    db.protectionPair.create({
      data: { organizationId: a.org.id, customerId: x.id, name, sourceServerId: a.serverX.id, targetServerId: target.id, application: 'file_server', ...data },
    });
  files = await pairOf(`Files Zürich ${randomUUID().slice(0, 4)}`, { status: 'protected', createdAt: t('2026-09-01T00:00:00Z'), enabledAt: t('2026-09-01T00:05:00Z') });
  sql = await pairOf(`SQL Genève ${randomUUID().slice(0, 4)}`, { status: 'unprotected', createdAt: t('2026-10-15T00:00:00Z') });
  const op = (pairId: string, kind: 'enable' | 'failover' | 'failback' | 'test_failover', status: 'succeeded' | 'failed', startedAt: string, finishedAt: string, extra: object = {}) =>
    db.operation.create({
      data: { organizationId: a.org.id, customerId: x.id, pairId, kind, status, createdAt: t(startedAt), startedAt: t(startedAt), finishedAt: t(finishedAt), ...extra },
    });
  await op(files.id, 'enable', 'succeeded', '2026-09-01T00:00:00Z', '2026-09-01T00:05:00Z');
  // Failed over for a day (10 Oct 00:00 until the failback re-protected it on 11 Oct 00:00).
  await op(files.id, 'failover', 'succeeded', '2026-10-10T00:00:00Z', '2026-10-10T00:05:00Z', { options: { mode: 'graceful' } });
  await op(files.id, 'failback', 'succeeded', '2026-10-10T23:00:00Z', '2026-10-11T00:00:00Z', { options: { restoreFirst: true, reprotect: true } });
  await op(files.id, 'test_failover', 'succeeded', '2026-10-20T10:00:00Z', '2026-10-20T10:03:00Z', { report: { result: 'passed' } });
  await op(files.id, 'test_failover', 'failed', '2026-10-22T10:00:00Z', '2026-10-22T10:01:00Z', { error: 'probe 1 failed', report: { result: 'failed' } });
  await op(files.id, 'test_failover', 'succeeded', '2026-11-02T10:00:00Z', '2026-11-02T10:01:00Z', { report: { result: 'passed' } });
  await db.replicationSample.createMany({
    data: [
      ...octoberSamples,
      { at: t('2026-09-30T23:59:59Z'), lagSeconds: 9999, resolutionSeconds: 60 },
      { at: t('2026-11-01T00:00:00Z'), lagSeconds: 9999, resolutionSeconds: 0 },
    ].map((s) => ({ organizationId: a.org.id, customerId: x.id, pairId: files.id, ...s })),
  });
  // The SQL pair's last run before November: an error and a warning open, a warning fixed in October.
  const finding = (severity: 'error' | 'warning', fixedAt: Date | null) => ({
    organizationId: a.org.id,
    customerId: x.id,
    pairId: sql.id,
    checkId: `check.${severity}.${randomUUID().slice(0, 4)}`,
    severity,
    message: 'finding',
    fixedAt,
  });
  await db.validationRun.create({
    data: { organizationId: a.org.id, customerId: x.id, pairId: sql.id, status: 'failed', startedAt: t('2026-10-15T01:00:00Z'), finishedAt: t('2026-10-15T01:02:00Z'), findings: { create: [finding('error', null), finding('warning', null), finding('warning', t('2026-10-17T00:00:00Z'))] } },
  });
  // A later run (in November) does not count for October.
  await db.validationRun.create({
    data: { organizationId: a.org.id, customerId: x.id, pairId: sql.id, status: 'passed', startedAt: t('2026-11-03T00:00:00Z'), finishedAt: t('2026-11-03T00:01:00Z') },
  });
});

describe('report.monthly', () => {
  it('has the figures of the seeded month', async () => {
    const r = await callerFor(a.owner.id).report.monthly({ customerId: a.customerX.id, month: '2026-10' });
    expect(r.partial).toBe(false);
    expect(r.periodStart).toBe('2026-10-01T00:00:00.000Z');
    expect(r.pairs.map((p) => p.name)).toEqual([files.name, sql.name]);
    const [f, s] = r.pairs;
    // 31 days less the day failed over.
    expect(f!.protectedSeconds).toBe(30 * day);
    expect(f!.protectedPercent).toBe(96.8);
    // PostgreSQL's aggregates agree with the engine's reading of the same samples.
    const { withinRpoPercent, ...lag } = f!.lag;
    expect(lag).toEqual(lagStatistics(octoberSamples, rpo));
    expect(lag).toEqual({ samples: 11, withinRpo: 7, p50: 30, p95: 350, max: 500, longestAboveRpoSeconds: 180 });
    expect(withinRpoPercent).toBe(63.6);
    expect(f!.tests).toEqual({ total: 2, passed: 1, failed: 1 });
    expect(f!.failovers).toBe(1);
    expect(f!.failbacks).toBe(1);
    expect(r.runs.map((x) => [x.kind, x.outcome, x.durationSeconds])).toEqual([
      ['failover', 'succeeded', 300],
      ['failback', 'succeeded', 3600],
      ['test_failover', 'succeeded', 180],
      ['test_failover', 'failed', 60],
    ]);
    expect(s).toMatchObject({ protectedSeconds: 0, findings: { error: 1, warning: 1, info: 0 }, lag: { samples: 0, p95: null } });
    expect(r.totals).toMatchObject({
      pairs: 2,
      protectedPercent: 48.4,
      worstP95: 350,
      failovers: { total: 1, succeeded: 1, failed: 0 },
      tests: { total: 2, passed: 1, failed: 1 },
      findings: { error: 1, warning: 1, info: 0 },
    });
  });

  it('is the same for the customer’s own approver; another customer’s user and another MSP get NOT_FOUND', async () => {
    const input = { customerId: a.customerX.id, month: '2026-10' };
    const own = await callerFor(a.customerUser.id).report.monthly(input);
    expect(own.totals.pairs).toBe(2);
    await expectCode(callerFor(a.customerYUser.id).report.monthly(input), 'NOT_FOUND');
    await expectCode(callerFor(b.owner.id).report.monthly(input), 'NOT_FOUND');
    await expectCode(callerFor(a.customerYUser.id).report.months({ customerId: a.customerX.id }), 'NOT_FOUND');
    await expectCode(callerFor(a.owner.id).report.monthly({ customerId: a.customerX.id, month: '2026-13' }), 'BAD_REQUEST');
    await expectCode(callerFor(a.owner.id).report.monthly({ customerId: a.customerX.id, month: '2999-01' }), 'BAD_REQUEST');
  });

  it('lists the months from the first pair to now, newest first', async () => {
    const months = await callerFor(a.customerUser.id).report.months({ customerId: a.customerX.id });
    const now = new Date().toISOString().slice(0, 7);
    expect(months[0]).toBe(now);
    expect(months.at(-1)).toBe('2026-09');
    expect(months).toContain('2026-10');
    expect(await callerFor(a.owner.id).report.months({ customerId: a.customerY.id })).toEqual([]);
  });
});

describe('the PDF', () => {
  it('is a PDF with the pair names and the month’s figures', async () => {
    const res = await monthlyReportPdfResponse({ userId: a.customerUser.id, workspaceKey: null }, a.customerX.id, '2026-10');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="monthly-report-X-[A-Za-z0-9.-]+-2026-10\.pdf"$/);
    const text = await pdfTextOf(res);
    expect(text).toContain('Monthly report: October 2026');
    expect(text).toContain(files.name);
    expect(text).toContain(sql.name);
    expect(text).toContain('96.8%');
    expect(text).toContain('probe 1 failed');
  });

  it('answers 404 alike to another customer’s user, another MSP, a bad id or month; 401 signed out', async () => {
    const bodies = new Set<string>();
    for (const [userId, customerId, month] of [
      [a.customerYUser.id, a.customerX.id, '2026-10'],
      [b.owner.id, a.customerX.id, '2026-10'],
      [a.owner.id, randomUUID(), '2026-10'],
      [a.owner.id, 'not-a-uuid', '2026-10'],
      [a.owner.id, a.customerX.id, '2026-13'],
    ] as const) {
      const res = await monthlyReportPdfResponse({ userId, workspaceKey: null }, customerId, month);
      expect(res.status, `${userId} ${customerId} ${month}`).toBe(404);
      bodies.add(await res.text());
    }
    expect(bodies.size).toBe(1);
    expect((await monthlyReportPdfResponse({ userId: null, workspaceKey: null }, a.customerX.id, '2026-10')).status).toBe(401);
  });
});

describe('the monthly job', () => {
  const prefix = `tandem-test-${process.pid}-${Date.now().toString(36)}-monthly`;
  const connection = redisConnection(process.env.REDIS_URL!);
  let db: Db;
  let queue: ReturnType<typeof maintenanceQueue>;
  let events: QueueEvents;
  let worker: ReturnType<typeof startMaintenanceWorker>;

  beforeAll(async () => {
    db = createPrismaClient(process.env.APP_DATABASE_URL!, { max: 2 });
    queue = maintenanceQueue(connection, { prefix });
    events = new QueueEvents(maintenanceQueueName, { connection, prefix });
    // The 1st of November, just after midnight: October's reports are due.
    worker = startMaintenanceWorker(connection, db, { prefix, now: () => t('2026-11-01T00:30:00Z'), publicUrl: 'https://portal.example.test/' });
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady(), worker.waitUntilReady()]);
  });

  afterAll(async () => {
    await worker?.close();
    await queue?.obliterate({ force: true });
    await events?.close();
    await queue?.close();
    await db?.$disconnect();
  });

  it('emits one report.monthly event per customer with pairs, even when run twice', async () => {
    const results: { month: string; emitted: number; failed: number }[] = [];
    for (let i = 0; i < 2; i++) {
      const job = await queue.add('monthly-reports', { task: 'monthly-reports' });
      results.push((await job.waitUntilFinished(events, 30_000)) as (typeof results)[number]);
    }
    expect(results.map((r) => r.month)).toEqual(['2026-10', '2026-10']);
    expect(results[0]!.emitted).toBeGreaterThanOrEqual(1);
    expect(results[1]).toMatchObject({ emitted: 0, failed: 0 });
    const rows = await ownerDb().outboxEvent.findMany({ where: { organizationId: a.org.id, type: 'report.monthly' } });
    expect(rows).toHaveLength(1);
    const [row] = rows;
    expect(row!.customerId).toBe(a.customerX.id);
    expect(row!.dedupeKey).toBe(`report.monthly:${a.customerX.id}:2026-10`);
    const payload = row!.payload as { customerName: string; data: { month: string; url: string; summary: string[] } };
    expect(payload.customerName).toBe(a.customerX.name);
    expect(payload.data.month).toBe('2026-10');
    expect(payload.data.url).toBe(`https://portal.example.test/customers/${a.customerX.id}/reports/2026-10`);
    expect(payload.data.summary).toContain('Pairs: 2');
    expect(payload.data.summary.join('\n')).toContain('Test failovers: 2 (1 passed, 1 failed)');
    // Another tenant's customer without pairs from before November gets nothing.
    expect(await ownerDb().outboxEvent.count({ where: { organizationId: b.org.id, type: 'report.monthly' } })).toBe(0);
  });
});
