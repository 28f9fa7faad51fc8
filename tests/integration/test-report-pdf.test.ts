// The evidence report of a test failover as PDF: rendered with pdfkit and read back with a PDF text
// extractor (pdf-parse, on Mozilla's PDF.js), and served only to those who may see the operation's
// customer (real PostgreSQL, row-level security; the route handler's function, no Next server).
import { randomUUID } from 'node:crypto';
import { PDFParse } from 'pdf-parse';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Prisma } from '@tandem/db';
import { createServer, createTenant, ownerDb, type Tenant } from '@tandem/db/testing';
import { buildTestReport, testReportSchema, type TestReport } from '@tandem/engine';
import { pdfText, renderTestReportPdf, reportFileName, settingsRows } from '@tandem/reports';
import { testReportPdfResponse } from '@/server/services/test-report-pdf';
import { callerFor, expectCode } from './helpers';
import { sampleReport } from './support/test-report-sample';

async function textOf(pdf: Uint8Array): Promise<{ text: string; pages: number; pageTexts: string[] }> {
  const parser = new PDFParse({ data: new Uint8Array(pdf) });
  try {
    const result = await parser.getText();
    return { text: result.text, pages: result.total, pageTexts: result.pages.map((p) => p.text) };
  } finally {
    await parser.destroy();
  }
}
/** Extracted text with line breaks and runs of spaces folded, so wrapped phrases compare whole. */
const flat = (s: string) => s.replace(/\s+/g, ' ');

describe('renderTestReportPdf', () => {
  let report: TestReport;
  let text: string;
  let pages: number;

  beforeAll(async () => {
    report = sampleReport();
    const pdf = await renderTestReportPdf(report);
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    ({ text, pages } = await textOf(pdf));
  });

  it('names the pair, the customer, who started it and the result', () => {
    const t = flat(text);
    expect(t).toContain('Test failover report');
    expect(t).toContain('Dateiserver Zürich -> Genève');
    expect(t).toContain('fs01.müller-ag.example (10.0.0.11)');
    expect(t).toContain('dr-fs01.müller-ag.example (10.9.0.11)');
    expect(t).toContain('Zoë Ångström <zoe@msp.example>');
    expect(t).toContain('FAILED');
    expect(t).toContain('1 of 3 probes failed: 57 of 60 sampled files differ from the source');
    expect(t).toContain('Files, reflink, 2.0 GiB, 18,342 files');
    expect(t).toContain('2026-12-07 09:00:00 UTC');
  });

  it('holds every probe with its description, result and summary, the failed one marked Failed', () => {
    const t = flat(text);
    expect(t).toContain('Probes (2 of 3 passed)');
    for (const p of report.probes) {
      expect(t).toContain(flat(pdfText(p.summary)));
      // Descriptions may wrap inside their table cell (even inside a path): compared without spaces.
      expect(t.replace(/\s/g, '')).toContain(pdfText(p.description).replace(/\s/g, ''));
    }
    // The failed probe's row reads Failed, the others Passed.
    expect(t).toMatch(/\(60\s*files\)\s*Failed\s*57 of 60 sampled files differ/);
    expect(t.match(/\bPassed\b/g)).toHaveLength(2);
    // Its detail (bounded) follows, in full for these 60 lines.
    expect(t).toContain('projects/2026/Q4/Angebot-000.docx');
    expect(t).toContain('projects/2026/Q4/Angebot-059.docx');
  });

  it('has the lag around the test, the timeline with its error, cleanup and the settings without secrets', () => {
    const t = flat(text);
    expect(t).toMatch(/Before the test\s*2\.0 s/);
    expect(t).toMatch(/During the test\s*4\.0 s/);
    expect(t).toMatch(/After the test\s*1\.0 s/);
    expect(t).toContain('Remove the test copy');
    expect(t).toContain('Error: 57 of 60 sampled files differ from the source');
    expect(t).toContain('Yes: the test copy was removed from the target');
    expect(t).toContain('connection.routeMode');
    expect(t).toContain('testing.probes[2].paths');
    expect(t).toContain('/srv/share/Buchhaltung, /srv/share/Verträge');
    expect(t).not.toContain('must-not-appear');
    expect(t).not.toContain('never-shown');
    expect(t).not.toMatch(/dns\.secret|tsigKey|hooks\.password/);
  });

  it('wraps long text over pages and numbers them', () => {
    expect(pages).toBeGreaterThanOrEqual(2);
    expect(flat(text)).toContain(`Page ${pages} of ${pages}`);
    // The hook's 1,500-character output is there, wrapped, accents kept; characters the standard
    // fonts lack are spelt without accents or as "?" rather than as wrong glyphs.
    expect(flat(text).match(/Share OK — ünïcödé/g)!.length).toBeGreaterThanOrEqual(30);
    expect(flat(text)).toContain('Müller & Søn AG – Lódz ??');
  });

  it('continues a setting that runs over a page right below it on the next page', async () => {
    const long = sampleReport();
    // 200 lines (under the 2,000 characters a setting shows): longer than a page.
    const script = Array.from({ length: 200 }, (_, i) => `echo ${i};`).join('\n');
    const after = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${i}`, `value ${i}`]));
    long.settings = { ...long.settings, hooks: { afterFailover: script }, zz: after };
    const { pageTexts } = await textOf(await renderTestReportPdf(testReportSchema.parse(long)));
    const last = pageTexts.findIndex((t) => t.includes('echo 199;'));
    const first = pageTexts.findIndex((t) => t.includes('echo 0;'));
    expect(last).toBeGreaterThan(first);
    // The next settings follow on the page where the script ended.
    for (let i = 0; i < 12; i++) expect(pageTexts[last]).toContain(`zz.k${i} value ${i}`);
  });

  it('bounds a huge probe detail and renders a passed report with no probes or steps', async () => {
    const big = sampleReport();
    big.probes[0]!.detail = 'x'.repeat(16_000);
    big.result = 'passed';
    big.error = null;
    const long = await textOf(await renderTestReportPdf(testReportSchema.parse(big)));
    expect(flat(long.text).replace(/ /g, '')).not.toContain('x'.repeat(4001));
    expect(flat(long.text)).toContain('PASSED');

    const empty = testReportSchema.parse({
      ...sampleReport(),
      probes: [],
      timeline: [],
      settings: {},
      copy: null,
      cleanedUp: false,
    });
    const e = flat((await textOf(await renderTestReportPdf(empty))).text);
    expect(e).toContain('No probe ran.');
    expect(e).toContain('No copy was made');
    expect(e).toContain('No: the teardown did not remove every test copy');
  });
});

describe('a report as the worker builds it (buildTestReport)', () => {
  it('renders a PostgreSQL test whose copy was made but whose teardown failed', async () => {
    const t0 = Date.parse('2026-12-07T10:00:00.000Z');
    const d = (s: number) => new Date(t0 + s * 1000);
    const step = (
      position: number,
      kind: string,
      description: string,
      status: string,
      params: unknown,
      output: unknown,
      error: string | null = null,
    ) => ({
      position,
      kind,
      description,
      params,
      status,
      output,
      error,
      startedAt: d(position),
      finishedAt: d(position + 1),
    });
    const report = buildTestReport({
      operation: { id: randomUUID(), createdAt: d(0), startedAt: d(0), error: null },
      steps: [
        step(
          0,
          'test.lag',
          'Replication lag before the test',
          'succeeded',
          { moment: 'before' },
          { lagSeconds: 0.4, at: d(0).toISOString() },
        ),
        step(
          1,
          'test.postgresql-copy',
          'Temporary copy of the standby',
          'succeeded',
          { countTables: [] },
          { bytes: 1_073_741_824, durationMs: 8_000 },
        ),
        step(
          2,
          'test.probe',
          'Probe: A query returns rows (SELECT count(*) FROM orders)',
          'succeeded',
          { index: 0, probe: { kind: 'sql-rows' } },
          { passed: true, summary: '1 row: count = 1234', detail: 'count\n1234' },
        ),
        step(3, 'test.probe', 'Probe: A TCP port answers', 'skipped', { index: 1, probe: { kind: 'tcp' } }, null),
        step(4, 'test.teardown', 'Stop and remove the temporary copy', 'failed', {}, null, 'pg_ctl stop timed out after 30 s'),
      ],
      pair: {
        id: randomUUID(),
        name: 'orders-db',
        application: 'postgresql',
        method: 'postgresql_streaming',
        source: 'db1',
        target: 'db2',
      },
      customer: { id: randomUUID(), name: 'Acme' },
      startedBy: { kind: 'drill', name: 'monthly', email: null },
      settings: {
        name: 'orders-db',
        testSettings: {
          probes: [{ kind: 'sql-rows', database: 'shop', query: 'SELECT count(*) FROM orders' }],
          copyMethod: 'auto',
        },
      },
      finishedAt: d(6),
    });
    const t = flat((await textOf(await renderTestReportPdf(report))).text);
    expect(t).toContain('FAILED');
    expect(t).toContain('Scheduled drill (monthly)');
    expect(t).toContain('PostgreSQL, base backup, 1.0 GiB, made in 8.0 s');
    expect(t).toContain('1 row: count = 1234');
    expect(t).toMatch(/A TCP port answers\s*Failed\s*Not run/);
    expect(t).toContain('Error: pg_ctl stop timed out after 30 s');
    expect(t).toContain('No: the teardown did not remove every test copy');
    expect(t).toMatch(/Before the test\s*under 1 s/);
    expect(t).toContain('testing.probes[1].query SELECT count(*) FROM orders');
  });
});

describe('settingsRows and reportFileName', () => {
  it('flattens settings and leaves out anything named like a secret', () => {
    const rows = settingsRows({
      a: { b: 1, password: 'x', list: [1, 2], objs: [{ c: true }] },
      apiKey: 'k',
      secretEnc: 'y',
      keyName: 'k.example',
      testSettings: { copyMethod: 'auto' },
    });
    expect(rows).toEqual([
      { key: 'a.b', value: '1' },
      { key: 'a.list', value: '1, 2' },
      { key: 'a.objs[1].c', value: 'yes' },
      { key: 'keyName', value: 'k.example' },
      { key: 'testing.copyMethod', value: 'auto' },
    ]);
  });

  it('makes a safe file name', () => {
    expect(
      reportFileName({
        pair: { ...sampleReport().pair, name: 'Dateiserver "Zürich"/../x' },
        startedAt: '2026-12-07T09:00:00.000Z',
      }),
    ).toBe('test-failover-Dateiserver-Zurich-.-x-2026-12-07.pdf');
  });
});

describe('GET /api/reports/test/<operationId> and pair.testReport', () => {
  let a: Tenant;
  let b: Tenant;
  let aReportOp: string;
  let aRunningOp: string;
  let aFailoverOp: string;
  let bReportOp: string;

  async function testOperation(t: Tenant, customer: { id: string; organizationId: string; name: string }, withReport: boolean) {
    const [source, target] = [await createServer(customer), await createServer(customer)];
    const pair = await ownerDb().protectionPair.create({
      data: {
        organizationId: t.org.id,
        customerId: customer.id,
        name: `files-${randomUUID().slice(0, 6)}`,
        sourceServerId: source.id,
        targetServerId: target.id,
        application: 'file_server',
      },
    });
    const id = randomUUID();
    const report = sampleReport({
      operationId: id,
      pairId: pair.id,
      pairName: pair.name,
      customerId: customer.id,
      customerName: customer.name,
    });
    await ownerDb().operation.create({
      data: {
        id,
        organizationId: t.org.id,
        customerId: customer.id,
        pairId: pair.id,
        kind: 'test_failover',
        status: withReport ? 'failed' : 'running',
        options: {},
        requestedById: t.owner.id,
        report: withReport ? (report as Prisma.InputJsonValue) : undefined,
      },
    });
    return { id, pair, report };
  }

  beforeAll(async () => {
    [a, b] = await Promise.all([createTenant(), createTenant()]);
    aReportOp = (await testOperation(a, a.customerX, true)).id;
    aRunningOp = (await testOperation(a, a.customerX, false)).id;
    bReportOp = (await testOperation(b, b.customerX, true)).id;
    const other = await testOperation(a, a.customerX, false);
    aFailoverOp = (
      await ownerDb().operation.create({
        data: {
          organizationId: a.org.id,
          customerId: a.customerX.id,
          pairId: other.pair.id,
          kind: 'failover',
          status: 'succeeded',
          options: {},
        },
      })
    ).id;
  });

  it('gives the owner the PDF, as an attachment with a sane name, holding the pair and the probes', async () => {
    const res = await testReportPdfResponse({ userId: a.owner.id, workspaceKey: null }, aReportOp);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('content-disposition')).toMatch(
      /^attachment; filename="test-failover-files-[a-f0-9]{6}-2026-12-07\.pdf"$/,
    );
    const pdf = new Uint8Array(await res.arrayBuffer());
    const t = flat((await textOf(pdf)).text);
    const stored = await callerFor(a.owner.id).pair.testReport({ operationId: aReportOp });
    expect(t).toContain(stored!.pair.name);
    expect(t).toContain('57 of 60 sampled files differ from the source');
    expect(t).toContain('2 of 2 paths exist in the copy');
  });

  it('gives a user of that customer the PDF too, but not one of another customer of the same MSP', async () => {
    const own = await testReportPdfResponse({ userId: a.customerUser.id, workspaceKey: null }, aReportOp);
    expect(own.status).toBe(200);
    // The customer's copy leaves out the MSP staff member's address.
    expect(flat((await textOf(new Uint8Array(await own.arrayBuffer()))).text)).not.toContain('zoe@msp.example');
    const other = await testReportPdfResponse({ userId: a.customerYUser.id, workspaceKey: null }, aReportOp);
    expect(other.status).toBe(404);
  });

  it('answers 404 for another tenant’s operation, exactly as for one that does not exist or is no test', async () => {
    const bodies = [];
    for (const id of [bReportOp, randomUUID(), aFailoverOp, 'not-a-uuid']) {
      const res = await testReportPdfResponse({ userId: a.owner.id, workspaceKey: null }, id);
      expect(res.status, id).toBe(404);
      bodies.push(await res.text());
    }
    expect(new Set(bodies).size).toBe(1);
    // B's own owner gets it (the id is real).
    expect((await testReportPdfResponse({ userId: b.owner.id, workspaceKey: null }, bReportOp)).status).toBe(200);
  });

  it('answers 401 when signed out and 409 while the test runs', async () => {
    expect((await testReportPdfResponse({ userId: null, workspaceKey: null }, aReportOp)).status).toBe(401);
    expect((await testReportPdfResponse({ userId: a.owner.id, workspaceKey: null }, aRunningOp)).status).toBe(409);
  });

  it('pair.testReport returns the stored report (no secret-named settings), null while running, NOT_FOUND across tenants', async () => {
    const got = await callerFor(a.owner.id).pair.testReport({ operationId: aReportOp });
    expect(got!.operationId).toBe(aReportOp);
    expect(got!.probes.map((p) => p.passed)).toEqual([false, true, true]);
    expect(got!.startedBy.email).toBe('zoe@msp.example');
    expect(JSON.stringify(got!.settings)).not.toMatch(/must-not-appear|never-shown/);
    expect(await callerFor(a.owner.id).pair.testReport({ operationId: aRunningOp })).toBeNull();
    const asCustomer = await callerFor(a.customerUser.id).pair.testReport({ operationId: aReportOp });
    expect(asCustomer!.startedBy.email).toBeNull();
    await expectCode(callerFor(a.owner.id).pair.testReport({ operationId: bReportOp }), 'NOT_FOUND');
    await expectCode(callerFor(a.customerYUser.id).pair.testReport({ operationId: aReportOp }), 'NOT_FOUND');
    await expectCode(callerFor(a.owner.id).pair.testReport({ operationId: aFailoverOp }), 'NOT_FOUND');
  });
});
