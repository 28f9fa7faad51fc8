import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { expect, test } from '@playwright/test';
import { startBind, type Bind } from '../../tests/integration/support/bind';
import { agentBundle, enrolAgent, stopChild, waitForAgentsOnline } from './agents';
import { demoLogin, hydrated, signIn, unique } from './helpers';
import { insertDnsFilePair } from './dns-file-pair';
import { recordPassingValidation } from './validation-fixture';

// The whole point of the product, from the browser: an operator fails a protected file server
// over to its target and back. Two real agents on this machine, the app's own worker and gateway,
// and a real BIND 9 holding the source's records. The operator sees every change before it is
// made (and BIND still answers the source then), confirms by name, watches the steps, and `dig`
// answers the target; failback returns the zone to exactly what it was.

const SOURCE_IP = '10.77.0.5';
const TARGET_IP = '10.77.0.6';

test('an operator fails a file server over and back from the browser; DNS answers the right address at every moment', async ({
  page,
}) => {
  test.setTimeout(240_000);
  const db = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-e2e-failover-'));
  const agents: ChildProcess[] = [];
  const tag = unique();
  const zone = `e2e-${tag}.test`;
  let bind: Bind | undefined;
  try {
    bind = await startBind([
      { name: zone, records: `files IN A ${SOURCE_IP}\nshare IN CNAME files` },
      { name: '77.10.in-addr.arpa', records: `5.0 IN PTR files.${zone}.` },
    ]);
    const dig = (name: string, type = 'A') => bind!.dig(name, type);

    const { rows: orgs } = await db.query<{ id: string }>(`SELECT id FROM "Organization" WHERE name = 'Demo MSP'`);
    const orgId = orgs[0]!.id;
    const customerName = `E2E Failover ${tag}`;
    const { rows: customers } = await db.query<{ id: string }>(
      `INSERT INTO "Customer" (id, "organizationId", name, "updatedAt") VALUES (gen_random_uuid(), $1, $2, now()) RETURNING id`,
      [orgId, customerName],
    );
    const customerId = customers[0]!.id;

    // Two agents, enrolled with one-time tokens as the Add server dialog hands them out.
    const enrol = async (name: string) => {
      const agent = await enrolAgent(db, { orgId, customerId, dir: path.join(work, name), hostname: `${name}-${tag}` });
      agents.push(spawn(process.execPath, [agentBundle, 'run', '--config', agent.config], { stdio: 'ignore' }));
      return agent;
    };
    const source = await enrol('fo-src');
    const target = await enrol('fo-dst');
    await waitForAgentsOnline(db, customerId, 2);

    await signIn(page, demoLogin.email, demoLogin.password);

    // The DNS server's key, stored on the credentials page (the secret is never shown again).
    const credentialName = `e2e-dns-${tag}`;
    await page.goto('/credentials');
    await hydrated(page);
    await page.getByRole('button', { name: 'New credential' }).click();
    const form = page.getByRole('form', { name: 'New credential' });
    await form.getByLabel('Name', { exact: true }).fill(credentialName);
    await form.getByLabel('Key name').fill(bind.key.name);
    await form.getByLabel('Algorithm').selectOption('hmac-sha256');
    await form.getByLabel('Secret (base64)').fill(bind.key.secret);
    await form.getByRole('button', { name: 'Create credential' }).click();
    await expect(page.locator(`[data-credential="${credentialName}"]`)).toBeVisible();
    const { rows: creds } = await db.query<{ id: string }>(`SELECT id FROM "Credential" WHERE name = $1`, [credentialName]);

    // The pair, configured as the wizard would (the wizard itself is covered by protect.spec).
    const { pairId, pairName, share, targetRoot } = await insertDnsFilePair(db, {
      orgId,
      customerId,
      sourceServerId: source.serverId,
      targetServerId: target.serverId,
      work,
      tag,
      bindPort: bind.port,
      zone,
      reverseZone: '77.10.in-addr.arpa',
      sourceIp: SOURCE_IP,
      targetIp: TARGET_IP,
      credentialId: creds[0]!.id,
      documents: 10,
    });

    // Enable protection from the pair page and wait until it is protected.
    // Validation is not this test's subject (validation-ui.spec.ts is): a passing run lets Enable through.
    await recordPassingValidation(db, pairId);
    await page.goto(`/customers/${customerId}/pairs/${pairId}`);
    await hydrated(page);
    const status = page.getByTestId('pair-status');
    await page.getByRole('button', { name: 'Enable protection' }).click();
    await page.getByRole('button', { name: 'Start protection' }).click();
    await expect(status.locator('[data-pair-status="protected"]')).toBeVisible({ timeout: 90_000 });

    // Failover: the dry run lists the DNS changes before anything happens.
    const controls = page.getByRole('region', { name: 'Failover controls' });
    await controls.getByRole('button', { name: 'Failover', exact: true }).click();
    const dialog = page.getByRole('dialog');
    const changes = dialog.getByTestId('change-list');
    await expect(changes).toBeVisible({ timeout: 60_000 });
    const moveA = changes.locator('[data-change="dns"]').filter({ hasText: `files.${zone} (A` });
    await expect(moveA).toContainText(SOURCE_IP);
    await expect(moveA).toContainText(TARGET_IP);
    await expect(dialog.getByTestId('point-of-no-return')).toBeVisible();
    // Seen, not yet done: BIND still answers the source.
    expect(await dig(`files.${zone}`)).toEqual([SOURCE_IP]);

    await dialog.getByRole('radio', { name: /Graceful/ }).check();
    await dialog.getByLabel('Type the pair’s name to confirm').fill(pairName);
    await dialog.getByRole('button', { name: 'Start failover' }).click();
    const timeline = dialog.getByTestId('operation-timeline');
    await expect(timeline).toHaveAttribute('data-operation-status', 'succeeded', { timeout: 90_000 });
    await expect(timeline.locator('[data-step="dns.apply"]')).toBeVisible();
    expect(await dig(`files.${zone}`)).toEqual([TARGET_IP]);
    expect(await dig(`share.${zone}`)).toEqual([`files.${zone}.`, TARGET_IP]);
    expect(await dig('6.0.77.10.in-addr.arpa', 'PTR')).toEqual([`files.${zone}.`]);
    await dialog.getByRole('button', { name: 'Close', exact: true }).last().click();
    await expect(status.locator('[data-pair-status="failed_over"]')).toBeVisible({ timeout: 20_000 });

    // A file written on the target while it serves comes back with the failback's restore.
    fs.writeFileSync(path.join(targetRoot, share, 'written-while-failed-over.txt'), 'from the target');

    // Failback, restore first and re-protect: the dry run shows the exact way back.
    await controls.getByRole('button', { name: 'Failback', exact: true }).click();
    const back = page.getByRole('dialog');
    await expect(back.getByRole('checkbox', { name: /Restore first/ })).toBeChecked();
    await expect(
      back
        .getByTestId('change-list')
        .locator('[data-change="dns"]')
        .filter({ hasText: `files.${zone} (A` }),
    ).toContainText(SOURCE_IP, { timeout: 60_000 });
    expect(await dig(`files.${zone}`)).toEqual([TARGET_IP]);
    await back.getByLabel('Type the pair’s name to confirm').fill(pairName);
    await back.getByRole('button', { name: 'Start failback' }).click();
    await expect(back.getByTestId('operation-timeline')).toHaveAttribute('data-operation-status', 'succeeded', {
      timeout: 120_000,
    });
    expect(await dig(`files.${zone}`)).toEqual([SOURCE_IP]);
    expect(await dig(`share.${zone}`)).toEqual([`files.${zone}.`, SOURCE_IP]);
    expect(await dig('5.0.77.10.in-addr.arpa', 'PTR')).toEqual([`files.${zone}.`]);
    expect(await dig('6.0.77.10.in-addr.arpa', 'PTR')).toEqual([]);
    expect(fs.readFileSync(path.join(share, 'written-while-failed-over.txt'), 'utf8')).toBe('from the target');
    await back.getByRole('button', { name: 'Close', exact: true }).last().click();
    await expect(status.locator('[data-pair-status="protected"]')).toBeVisible({ timeout: 90_000 });
  } finally {
    for (const a of agents) await stopChild(a);
    await bind?.stop();
    fs.rmSync(work, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    await db.end();
  }
});
