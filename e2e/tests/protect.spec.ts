import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { expect, test } from '@playwright/test';
import { spawnAgentWithExports } from '../../tests/integration/support/file-shares';
import { freePort } from '../../tests/integration/support/ports';
import { agentBundle as bundle, enrolAgent, stopChild as stop, waitForAgentsOnline } from './agents';
import { demoLogin, hydrated, signIn, unique } from './helpers';
import { recordPassingValidation } from './validation-fixture';

// Protecting a file server from the browser with two real agents on this machine: the source
// agent sees an NFS export (in its own mount namespace), the target agent is a plain one. The
// operator goes through the wizard, enables protection, watches the steps and the mirror, and
// sees the pair become protected; the files are on the target. Everything stays on loopback.

test('an operator protects a file server with the wizard and sees it become protected', async ({ page }) => {
  test.setTimeout(180_000);
  const db = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-e2e-protect-'));
  const agents: ChildProcess[] = [];
  const tag = unique();
  try {
    // A customer of its own, so other tests' counts are not disturbed.
    const { rows: orgs } = await db.query<{ id: string }>(`SELECT id FROM "Organization" WHERE name = 'Demo MSP'`);
    const orgId = orgs[0]!.id;
    const customerName = `E2E Protect ${tag}`;
    await db.query(`INSERT INTO "Customer" (id, "organizationId", name, "updatedAt") VALUES (gen_random_uuid(), $1, $2, now())`, [
      orgId,
      customerName,
    ]);
    const { rows: customers } = await db.query<{ id: string }>(`SELECT id FROM "Customer" WHERE name = $1`, [customerName]);
    const customerId = customers[0]!.id;

    // The share and its files on the "source"; the target keeps its copy in its own directory.
    const share = path.join(work, 'srv', 'projects');
    const targetRoot = path.join(work, 'replica');
    fs.mkdirSync(path.join(share, 'plans'), { recursive: true });
    fs.mkdirSync(targetRoot);
    for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(share, 'plans', `plan-${i}.txt`), `plan ${i}\n`.repeat(500 + i));
    fs.writeFileSync(path.join(share, 'big.bin'), randomBytes(3 * 1024 * 1024));

    // Two agents enrolled with one-time tokens, as the Add server dialog hands them out.
    const enrol = (name: string) => enrolAgent(db, { orgId, customerId, dir: path.join(work, name), hostname: `${name}-${tag}` });
    const source = await enrol('e2e-files');
    const target = await enrol('e2e-standby');
    agents.push(spawnAgentWithExports(bundle, source.config, [share]));
    agents.push(spawn(process.execPath, [bundle, 'run', '--config', target.config], { stdio: 'ignore' }));
    await waitForAgentsOnline(db, customerId, 2);

    const dataPort = await freePort();
    const monitorPort = await freePort();

    // The wizard.
    await signIn(page, demoLogin.email, demoLogin.password);
    await page.goto(`/customers/${customerId}`);
    await hydrated(page);
    await page.getByRole('link', { name: 'New protection' }).click();
    await hydrated(page);
    await page.getByRole('radiogroup', { name: 'Source server' }).getByRole('radio', { name: source.hostname }).check();
    await page.getByRole('button', { name: 'Next', exact: true }).click();
    const apps = page.getByRole('radiogroup', { name: 'Application' });
    await expect(page.locator('[data-application="file_server"]')).toContainText(share);
    await apps.getByRole('radio', { name: 'File server' }).check();
    await page.getByRole('button', { name: 'Next', exact: true }).click();
    await page.getByRole('radiogroup', { name: 'Target server' }).getByRole('radio', { name: target.hostname }).check();
    await page.getByRole('button', { name: 'Next', exact: true }).click();

    // Settings: the export is the replication set; everything else is pointed at loopback.
    await expect(page.getByRole('list', { name: 'Directories to protect' })).toContainText(share);
    await page.getByLabel('Name', { exact: true }).fill(`Projects share ${tag}`);
    await page.getByRole('radio', { name: 'Identity' }).check();
    // Identity failover needs an address to take over (not moved here: the pair is only enabled).
    await page.getByRole('button', { name: 'Add address', exact: true }).click();
    await page.getByLabel('Address 1', { exact: true }).fill('127.0.0.1');
    await page.getByLabel('Address 1 prefix length').fill('8');
    const monitored = page.getByRole('group', { name: 'Monitored addresses' });
    for (const box of await monitored.getByRole('checkbox').all()) await box.uncheck();
    await page.getByRole('textbox', { name: 'Another address: Monitored addresses' }).fill('127.0.0.1');
    await page.getByRole('button', { name: 'Add address to Monitored addresses' }).click();
    await page.getByLabel('Monitor port (UDP)').fill(String(monitorPort));
    await page.getByLabel('Interval (seconds)').fill('1');
    await page.getByLabel('Missed probes').fill('3');
    await page.getByLabel('Replication route (target address)').selectOption('__other');
    await page.getByLabel('Route address').fill('127.0.0.1');
    await page.getByLabel('Data port (TCP)').fill(String(dataPort));
    await page.getByLabel('Target directory').fill(targetRoot);
    await page.getByRole('button', { name: 'Next', exact: true }).click();
    await expect(page.getByRole('heading', { name: 'Review' })).toBeVisible();
    await expect(page.getByTestId('review')).toContainText(`${source.hostname} → ${target.hostname}`);
    await page.getByRole('button', { name: 'Create protection' }).click();

    // The pair page: unprotected until enabled.
    await expect(page.getByRole('heading', { name: `Projects share ${tag}`, exact: true })).toBeVisible();
    await expect(page.getByTestId('pair-status').locator('[data-pair-status="unprotected"]')).toBeVisible();
    // Validation is not this test's subject (validation-ui.spec.ts is): a passing run lets Enable through.
    const { rows: created } = await db.query<{ id: string }>(`SELECT id FROM "ProtectionPair" WHERE name = $1`, [`Projects share ${tag}`]);
    await recordPassingValidation(db, created[0]!.id);
    await page.getByRole('button', { name: 'Enable protection' }).click();
    await expect(page.getByRole('checkbox', { name: /With failure monitoring/ })).toBeChecked();
    await page.getByRole('button', { name: 'Start protection' }).click();

    // The operation's steps appear and complete; the mirror runs; the pair becomes protected,
    // all without reloading the page.
    const operation = page.locator('[data-operation="enable"]').first();
    await expect(operation).toBeVisible({ timeout: 20_000 });
    await expect(operation).toHaveAttribute('data-operation-status', 'succeeded', { timeout: 60_000 });
    await expect(operation.locator('[data-step]')).toHaveCount(7);
    await expect(operation.locator('[data-step-status="succeeded"]')).toHaveCount(7);
    await expect(page.getByTestId('pair-status').locator('[data-pair-status="protected"]')).toHaveText('Protected', {
      timeout: 60_000,
    });
    await expect(page.getByTestId('pair-status').locator('[data-monitoring-status="watching"]')).toBeVisible();
    await expect(page.locator('[data-event]').filter({ hasText: 'Initial mirror finished' })).toBeVisible();
    await expect(page.getByTestId('monitor')).toContainText('127.0.0.1', { timeout: 20_000 });

    // The files are on the target, at the source's path under the target directory.
    const copy = path.join(targetRoot, share);
    expect(fs.readFileSync(path.join(copy, 'plans', 'plan-7.txt'), 'utf8')).toBe(
      fs.readFileSync(path.join(share, 'plans', 'plan-7.txt'), 'utf8'),
    );
    expect(fs.readFileSync(path.join(copy, 'big.bin')).equals(fs.readFileSync(path.join(share, 'big.bin')))).toBe(true);

    // Disabling stops it and keeps the configuration.
    await page.getByRole('button', { name: 'Disable protection' }).first().click();
    await page.getByRole('button', { name: 'Yes, disable protection' }).click();
    await expect(page.getByTestId('pair-status').locator('[data-pair-status="unprotected"]')).toBeVisible({ timeout: 60_000 });
    await expect(page.getByRole('link', { name: 'Edit configuration' })).toBeVisible();
  } finally {
    for (const a of agents) await stop(a);
    fs.rmSync(work, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    await db.end();
  }
});
