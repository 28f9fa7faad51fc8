import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { PDFParse } from 'pdf-parse';
import { expect, test } from '@playwright/test';
import { freePort } from '../../tests/integration/support/ports';
import { agentBundle, enrolAgent, stopChild, waitForAgentsOnline } from './agents';
import { demoLogin, hydrated, signIn, unique } from './helpers';
import { recordPassingValidation } from './validation-fixture';

// What an MSP hands a customer: proof that a failover would work, made from the browser while
// production runs on. Two real agents on this machine and the app's own worker and gateway: the
// operator protects a file server, runs a test failover (dry run first), watches it, opens the
// evidence report and downloads it as PDF. The source's files are never written, and no copy is
// left on the target.

/** Every file under `dir` with its content and times: a write to the source would change one. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const p = path.join(dir, name);
    const st = fs.lstatSync(p);
    out[name] = `${st.mode}:${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.isFile() ? fs.readFileSync(p, 'utf8') : ''}`;
  }
  return out;
}

test('an operator runs a test failover of a file server from the browser and downloads the evidence report as PDF', async ({
  page,
}) => {
  test.setTimeout(240_000);
  const db = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-e2e-test-failover-'));
  const agents: ChildProcess[] = [];
  const tag = unique();
  try {
    const { rows: orgs } = await db.query<{ id: string }>(`SELECT id FROM "Organization" WHERE name = 'Demo MSP'`);
    const orgId = orgs[0]!.id;
    const { rows: customers } = await db.query<{ id: string }>(
      `INSERT INTO "Customer" (id, "organizationId", name, "updatedAt") VALUES (gen_random_uuid(), $1, $2, now()) RETURNING id`,
      [orgId, `E2E Test failover ${tag}`],
    );
    const customerId = customers[0]!.id;

    const enrol = async (name: string) => {
      const agent = await enrolAgent(db, { orgId, customerId, dir: path.join(work, name), hostname: `${name}-${tag}` });
      agents.push(spawn(process.execPath, [agentBundle, 'run', '--config', agent.config], { stdio: 'ignore' }));
      return { ...agent, dir: path.join(work, name) };
    };
    const source = await enrol('tf-src');
    const target = await enrol('tf-dst');
    await waitForAgentsOnline(db, customerId, 2);

    // A file pair without automatic failover (a test failover needs no DNS), configured as the wizard would.
    const share = path.join(work, 'share');
    const targetRoot = path.join(work, 'replica');
    fs.mkdirSync(path.join(share, 'projects'), { recursive: true });
    fs.mkdirSync(targetRoot);
    for (let i = 0; i < 12; i++) fs.writeFileSync(path.join(share, i % 2 ? 'projects' : '', `doc-${i}.txt`), `document ${i}\n`.repeat(50));
    const pairName = `Test files ${tag}`;
    const failover = {
      enabled: false,
      services: [],
      monitor: { method: 'agent', addresses: ['127.0.0.1'], port: await freePort(), intervalSeconds: 1, missed: 3 },
    };
    const connection = { route: '127.0.0.1', port: await freePort(), targetRoot };
    const { rows: pairs } = await db.query<{ id: string }>(
      `INSERT INTO "ProtectionPair" (id, "organizationId", "customerId", name, "sourceServerId", "targetServerId", application, "replicationSet", "failoverSettings", "connectionSettings", "dnsSettings", hooks, "updatedAt")
       VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, 'file_server', $6, $7, $8, '{}', '{}', now()) RETURNING id`,
      [orgId, customerId, pairName, source.serverId, target.serverId, { roots: [share], rules: [] }, failover, connection],
    );
    const pairId = pairs[0]!.id;

    await signIn(page, demoLogin.email, demoLogin.password);
    // Validation is not this test's subject (validation-ui.spec.ts is): a passing run lets Enable through.
    await recordPassingValidation(db, pairId);
    await page.goto(`/customers/${customerId}/pairs/${pairId}`);
    await hydrated(page);
    const status = page.getByTestId('pair-status');
    await page.getByRole('button', { name: 'Enable protection' }).click();
    await page.getByRole('button', { name: 'Start protection' }).click();
    await expect(status.locator('[data-pair-status="protected"]')).toBeVisible({ timeout: 90_000 });
    const before = snapshot(share);

    // The dialog asks for a dry run first and lists what the test will do.
    const controls = page.getByRole('region', { name: 'Failover controls' });
    await controls.getByRole('button', { name: 'Test failover' }).click();
    const dialog = page.getByRole('dialog', { name: `Test failover of ${pairName}` });
    await expect(dialog.getByTestId('test-plan')).toContainText('Remove the test copy', { timeout: 60_000 });
    await dialog.getByRole('button', { name: 'Start test failover' }).click();
    await expect(dialog.getByTestId('operation-timeline')).toHaveAttribute('data-operation-status', 'succeeded', {
      timeout: 120_000,
    });

    // The evidence report: passed, the probes listed, the copy removed.
    await dialog.getByRole('link', { name: 'Open the evidence report' }).click();
    const report = page.getByTestId('test-report');
    await expect(report).toHaveAttribute('data-result', 'passed', { timeout: 30_000 });
    await expect(page.getByTestId('report-result')).toHaveText('Passed');
    await expect(page.getByRole('table', { name: 'Probes' })).toContainText('sampled files');

    const downloading = page.waitForEvent('download');
    await page.getByRole('link', { name: 'Download PDF' }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toMatch(/\.pdf$/);
    const pdf = fs.readFileSync(await download.path());
    const parser = new PDFParse({ data: new Uint8Array(pdf) });
    const text = (await parser.getText()).text;
    await parser.destroy();
    expect(text).toContain(pairName);
    expect(text).toContain('Passed');
    expect(text).toMatch(/sampled files/i);

    // Production never noticed: the source's files are as they were, and the target keeps no copy.
    expect(snapshot(share)).toEqual(before);
    const scratch = path.join(target.dir, 'scratch');
    const left = fs.existsSync(scratch) ? fs.readdirSync(scratch) : [];
    expect(left).toEqual([]);
    const { rows: pair } = await db.query<{ status: string; tested: Date | null }>(
      `SELECT status, "lastTestSucceededAt" AS tested FROM "ProtectionPair" WHERE id = $1`,
      [pairId],
    );
    expect(pair[0]).toMatchObject({ status: 'protected' });
    expect(pair[0]!.tested).not.toBeNull();
  } finally {
    for (const a of agents) await stopChild(a);
    fs.rmSync(work, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    await db.end();
  }
});
