// Monthly reports against real PostgreSQL (row-level security) and Redis: the figures of a seeded
// month (replication samples aggregated in SQL, operations, findings), who may read the report
// and its PDF (read back with pdf-parse), and the worker's job that announces last month's report
// once per customer through the outbox (run twice through the real maintenance queue).
import { randomUUID } from 'node:crypto';
import { QueueEvents } from 'bullmq';
import { PDFParse } from 'pdf-parse';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { appDb, createPrismaClient, type Db } from '@tandem/db';
import { createServer, createTenant, ownerDb, type Tenant } from '@tandem/db/testing';
import { lagStatistics, monthBounds, monthOf, previousMonth, type LagSample } from '@tandem/engine';
import { monthLabel } from '@tandem/reports';
import { monthlyReportPdfResponse } from '@/server/routers/report/pdf';
import { fanOutOnce } from '../../apps/worker/src/alerts/dispatcher';
import { sendDueDeliveries } from '../../apps/worker/src/alerts/sender';
import { closeTransports } from '../../apps/worker/src/alerts/transports';
import { monthlyReportDedupeKey } from '../../apps/worker/src/jobs/monthly-reports';
import { maintenanceQueue, maintenanceQueueName, redisConnection, startMaintenanceWorker } from '../../apps/worker/src/queues';
import { callerFor, expectCode } from './helpers';
import { startMailServer } from './support/mail-server';

const flat = (s: string) => s.replace(/\s+/g, ' ');
const day = 86_400_000;
const min = 60_000;

async function pdfTextOf(res: Response): Promise<string> {
  const parser = new PDFParse({ data: new Uint8Array(await res.arrayBuffer()) });
  try {
    return flat((await parser.getText()).text);
  } finally {
    await parser.destroy();
  }
}

// The month reported on is last month: samples older than 35 days are deleted by any worker's
// roll-up, so the seeded ones sit on its last day (raw samples on whole minutes roll up unchanged).
const month = previousMonth(monthOf(new Date()));
const { start: S, end: E } = monthBounds(month);
const at = (base: Date, ms: number) => new Date(base.getTime() + ms);
const monthDays = (E.getTime() - S.getTime()) / day;
// The file pair was failed over for one day of the month.
const protectedPercent = Math.round(((monthDays - 1) / monthDays) * 1000) / 10;

let a: Tenant;
let b: Tenant;
let files: { id: string; name: string };
let sql: { id: string; name: string };
const rpo = 60;
const samplesOfMonth: LagSample[] = [
  ...[5, 10, 20, 30, 100, 200, 150, 40, 10, 5].map((lag, i) => ({ at: at(E, -day + 2 * 3600_000 + i * min), lagSeconds: lag, resolutionSeconds: 0 })),
  // A lone one-minute roll-up above the RPO, nothing after it for hours: a stretch of its minute.
  { at: at(E, -day + 10 * 3600_000), lagSeconds: 500, resolutionSeconds: 60 },
  { at: at(E, -3600_000), lagSeconds: null, resolutionSeconds: 60 },
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
  const before = at(S, -30 * day);
  files = await pairOf(`Files Zürich ${randomUUID().slice(0, 4)}`, { status: 'protected', createdAt: before, enabledAt: at(before, 5 * min) });
  sql = await pairOf(`SQL Genève ${randomUUID().slice(0, 4)}`, { status: 'unprotected', createdAt: at(S, 14 * day) });
  const op = (pairId: string, kind: 'enable' | 'failover' | 'failback' | 'test_failover', status: 'succeeded' | 'failed', startedAt: Date, finishedAt: Date, extra: object = {}) =>
    db.operation.create({ data: { organizationId: a.org.id, customerId: x.id, pairId, kind, status, createdAt: startedAt, startedAt, finishedAt, ...extra } });
  await op(files.id, 'enable', 'succeeded', before, at(before, 5 * min));
  // Failed over for a day (day 10, 00:00, until the failback re-protected it on day 11, 00:00).
  await op(files.id, 'failover', 'succeeded', at(S, 9 * day), at(S, 9 * day + 5 * min), { options: { mode: 'graceful' } });
  await op(files.id, 'failback', 'succeeded', at(S, 10 * day - 60 * min), at(S, 10 * day), { options: { restoreFirst: true, reprotect: true } });
  await op(files.id, 'test_failover', 'succeeded', at(S, 19 * day), at(S, 19 * day + 3 * min), { report: { result: 'passed' } });
  await op(files.id, 'test_failover', 'failed', at(S, 21 * day), at(S, 21 * day + min), { error: 'probe 1 failed', report: { result: 'failed' } });
  // This month's test is not last month's.
  await op(files.id, 'test_failover', 'succeeded', at(E, 5 * min), at(E, 6 * min), { report: { result: 'passed' } });
  await db.replicationSample.createMany({
    data: [...samplesOfMonth, { at: at(S, -min), lagSeconds: 9999, resolutionSeconds: 60 }, { at: E, lagSeconds: 9999, resolutionSeconds: 0 }].map((s) => ({
      organizationId: a.org.id,
      customerId: x.id,
      pairId: files.id,
      ...s,
    })),
  });
  // The SQL pair's last run before the month's end: an error and a warning open, a warning fixed in the month.
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
    data: {
      organizationId: a.org.id,
      customerId: x.id,
      pairId: sql.id,
      status: 'failed',
      startedAt: at(S, 14 * day + 60 * min),
      finishedAt: at(S, 14 * day + 62 * min),
      findings: { create: [finding('error', null), finding('warning', null), finding('warning', at(S, 16 * day))] },
    },
  });
  // A later run (after the month) does not count for it.
  await db.validationRun.create({
    data: { organizationId: a.org.id, customerId: x.id, pairId: sql.id, status: 'passed', startedAt: at(E, min), finishedAt: at(E, 2 * min) },
  });
});

describe('report.monthly', () => {
  it('has the figures of the seeded month', async () => {
    const r = await callerFor(a.owner.id).report.monthly({ customerId: a.customerX.id, month });
    expect(r.partial).toBe(false);
    expect(r.periodStart).toBe(S.toISOString());
    expect(r.pairs.map((p) => p.name)).toEqual([files.name, sql.name]);
    const [f, s] = r.pairs;
    // The month less the day failed over.
    expect(f!.protectedSeconds).toBe((monthDays - 1) * 86_400);
    expect(f!.protectedPercent).toBe(protectedPercent);
    // PostgreSQL's aggregates agree with the engine's reading of the same samples.
    const { withinRpoPercent, ...lag } = f!.lag;
    expect(lag).toEqual(lagStatistics(samplesOfMonth, rpo));
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
      protectedPercent: Math.round((protectedPercent / 2) * 10) / 10,
      worstP95: 350,
      failovers: { total: 1, succeeded: 1, failed: 0 },
      tests: { total: 2, passed: 1, failed: 1 },
      findings: { error: 1, warning: 1, info: 0 },
    });
  });

  it('is the same for the customer’s own approver; another customer’s user and another MSP get NOT_FOUND', async () => {
    const input = { customerId: a.customerX.id, month };
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
    expect(months[0]).toBe(monthOf(new Date()));
    expect(months.at(-1)).toBe(monthOf(at(S, -30 * day)));
    expect(months).toContain(month);
    expect(await callerFor(a.owner.id).report.months({ customerId: a.customerY.id })).toEqual([]);
  });
});

describe('the PDF', () => {
  it('is a PDF with the pair names and the month’s figures', async () => {
    const res = await monthlyReportPdfResponse({ userId: a.customerUser.id, workspaceKey: null }, a.customerX.id, month);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('content-disposition')).toMatch(new RegExp(`^attachment; filename="monthly-report-X-[A-Za-z0-9.-]+-${month}\\.pdf"$`));
    const text = await pdfTextOf(res);
    expect(text).toContain(`Monthly report: ${monthLabel(month)}`);
    expect(text).toContain(files.name);
    expect(text).toContain(sql.name);
    expect(text).toContain(`${protectedPercent.toFixed(1)}%`);
    expect(text).toContain('probe 1 failed');
  });

  it('answers 404 alike to another customer’s user, another MSP, a bad id or month; 401 signed out', async () => {
    const bodies = new Set<string>();
    for (const [userId, customerId, m] of [
      [a.customerYUser.id, a.customerX.id, month],
      [b.owner.id, a.customerX.id, month],
      [a.owner.id, randomUUID(), month],
      [a.owner.id, 'not-a-uuid', month],
      [a.owner.id, a.customerX.id, '2026-13'],
    ] as const) {
      const res = await monthlyReportPdfResponse({ userId, workspaceKey: null }, customerId, m);
      expect(res.status, `${userId} ${customerId} ${m}`).toBe(404);
      bodies.add(await res.text());
    }
    expect(bodies.size).toBe(1);
    expect((await monthlyReportPdfResponse({ userId: null, workspaceKey: null }, a.customerX.id, month)).status).toBe(401);
  });
});

describe('the monthly job', () => {
  const prefix = `tandem-test-${process.pid}-${Date.now().toString(36)}-monthly`;
  const connection = redisConnection(process.env.REDIS_URL!);
  // Two months back, so no worker of another test (running at the real time, due last month's
  // reports) emits the same month's event first.
  const jobMonth = previousMonth(month);
  let db: Db;
  let queue: ReturnType<typeof maintenanceQueue>;
  let events: QueueEvents;
  let worker: ReturnType<typeof startMaintenanceWorker>;
  let pairName: string;

  beforeAll(async () => {
    // B's first customer has had a pair since before that month.
    pairName = `Mail ${randomUUID().slice(0, 4)}`;
    const target = await createServer(b.customerX);
    await ownerDb().protectionPair.create({
      data: {
        organizationId: b.org.id,
        customerId: b.customerX.id,
        name: pairName,
        sourceServerId: b.serverX.id,
        targetServerId: target.id,
        application: 'file_server',
        createdAt: at(monthBounds(jobMonth).start, -day),
      },
    });
    db = createPrismaClient(process.env.APP_DATABASE_URL!, { max: 2 });
    queue = maintenanceQueue(connection, { prefix });
    events = new QueueEvents(maintenanceQueueName, { connection, prefix });
    // The 1st of the month after, just after midnight: that month's reports are due.
    worker = startMaintenanceWorker(connection, db, { prefix, now: () => at(monthBounds(jobMonth).end, 30 * min), publicUrl: 'https://portal.example.test/' });
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
    expect(results.map((r) => r.month)).toEqual([jobMonth, jobMonth]);
    expect(results[0]!.emitted).toBeGreaterThanOrEqual(1);
    expect(results[1]).toMatchObject({ emitted: 0, failed: 0 });
    const rows = await ownerDb().outboxEvent.findMany({ where: { organizationId: b.org.id, type: 'report.monthly', dedupeKey: { endsWith: `:${jobMonth}` } } });
    expect(rows).toHaveLength(1);
    const [row] = rows;
    expect(row!.customerId).toBe(b.customerX.id);
    expect(row!.dedupeKey).toBe(`report.monthly:${b.customerX.id}:${jobMonth}`);
    const payload = row!.payload as { customerName: string; data: { month: string; url: string; summary: string[] } };
    expect(payload.customerName).toBe(b.customerX.name);
    expect(payload.data.month).toBe(jobMonth);
    expect(payload.data.url).toBe(`https://portal.example.test/customers/${b.customerX.id}/reports/${jobMonth}`);
    expect(payload.data.summary).toContain('Pairs: 1');
    expect(payload.data.summary.join('\n')).toContain('Test failovers: 0 (0 passed, 0 failed)');
    // A customer without pairs gets nothing.
    expect(await ownerDb().outboxEvent.count({ where: { customerId: a.customerY.id, type: 'report.monthly' } })).toBe(0);
  });

  it('reaches the addresses a rule names as an e-mail with the report attached as a PDF (readable without a portal login)', async () => {
    const mail = await startMailServer();
    try {
      await ownerDb().smtpSettings.create({ data: { organizationId: b.org.id, host: mail.host, port: mail.port, security: 'none', fromAddress: 'reports@msp.example.test' } });
      const channel = await ownerDb().alertChannel.create({ data: { organizationId: b.org.id, kind: 'email', name: 'Reports', config: { addresses: ['ceo@customer.example.test'] } } });
      await ownerDb().alertRule.create({ data: { organizationId: b.org.id, customerId: null, channelId: channel.id, events: ['report.monthly'] } });
      // Fan out (the event above is still waiting: no worker of this file dispatches) and send.
      const key = monthlyReportDedupeKey(b.customerX.id, jobMonth);
      await vi.waitFor(
        async () => {
          await fanOutOnce(appDb(), { portalUrl: 'https://portal.example.test', batch: 5000, organizationIds: [b.org.id] });
          expect((await ownerDb().outboxEvent.findFirstOrThrow({ where: { dedupeKey: key } })).processedAt).not.toBeNull();
        },
        { timeout: 20_000, interval: 100 },
      );
      const m = await vi.waitFor(
        async () => {
          await sendDueDeliveries(appDb(), { portalUrl: 'https://portal.example.test', retryBaseMs: 20, budgetMs: 2_000, organizationIds: [b.org.id] });
          const found = mail.messages.find((x) => x.to.includes('ceo@customer.example.test'));
          expect(found).toBeTruthy();
          return found!;
        },
        { timeout: 30_000, interval: 200 },
      );
      expect(m.subject).toBe(`Monthly report for ${b.customerX.name}: ${jobMonth}`);
      expect(m.text).toContain(`https://portal.example.test/customers/${b.customerX.id}/reports/${jobMonth}`);
      expect(m.text).toContain('The full report is attached as a PDF.');
      expect(m.attachments).toHaveLength(1);
      const [pdf] = m.attachments;
      expect(pdf!.contentType).toBe('application/pdf');
      expect(pdf!.filename).toMatch(new RegExp(`^monthly-report-[A-Za-z0-9.-]+-${jobMonth}\\.pdf$`));
      const parser = new PDFParse({ data: new Uint8Array(pdf!.content) });
      const text = flat((await parser.getText()).text);
      await parser.destroy();
      expect(text).toContain(`Monthly report: ${monthLabel(jobMonth)}`);
      expect(text).toContain(pairName);
      // The delivery stored names the document; it never holds the PDF itself.
      const delivery = await ownerDb().alertDelivery.findFirstOrThrow({ where: { organizationId: b.org.id, event: 'report.monthly', recipient: 'ceo@customer.example.test' } });
      expect(delivery.status).toBe('delivered');
      expect((delivery.payload as { attachments: unknown }).attachments).toEqual([{ kind: 'monthly-report', customerId: b.customerX.id, month: jobMonth }]);
    } finally {
      await mail.stop();
      closeTransports();
    }
  }, 90_000);
});
