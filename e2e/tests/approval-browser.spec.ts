import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { expect, test } from '@playwright/test';
import { hashPassword, sealSecret } from '@tandem/security';
import { startBind, type Bind } from '../../tests/integration/support/bind';
import { startMailServer, type MailServer } from '../../tests/integration/support/mail-server';
import { startWebhookReceiver, type WebhookReceiver } from '../../tests/integration/support/webhook-receiver';
import { agentBundle, enrolAgent, stopChild, waitForAgentsOnline } from './agents';
import { demoLogin, hydrated, signIn, signOut, unique } from './helpers';
import { insertDnsFilePair } from './dns-file-pair';
import { recordPassingValidation } from './validation-fixture';

// The issue's "done when": a customer's approver gets an e-mail, follows its link, signs in, sees
// what the failover will change, approves, and the MSP's Slack channel hears the failover start
// and finish. Everything is real: two agents, the app's worker (detection, approvals, alert
// dispatcher and sender) and gateway, BIND 9 holding the source's records, an SMTP server and a
// Slack-style incoming webhook receiver on loopback, both started here.

const SOURCE_IP = '10.78.0.5';
const TARGET_IP = '10.78.0.6';
const approverPassword = 'approver password for the e2e test';

test('a customer approver approves a failover from the e-mailed link; Slack hears it start and succeed', async ({ page }) => {
  test.setTimeout(300_000);
  const db = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-e2e-approval-'));
  const agents: ChildProcess[] = [];
  const tag = unique();
  const zone = `appr-${tag}.test`;
  let bind: Bind | undefined;
  let mail: MailServer | undefined;
  let slack: WebhookReceiver | undefined;
  let orgId = '';
  let channelId: string | undefined;
  let smtpBefore: Record<string, unknown> | undefined;
  try {
    bind = await startBind([
      { name: zone, records: `files IN A ${SOURCE_IP}` },
      { name: '78.10.in-addr.arpa', records: `5.0 IN PTR files.${zone}.` },
    ]);
    mail = await startMailServer({ auth: { user: `tandem-${tag}`, pass: `smtp-pass-${tag}` } });
    slack = await startWebhookReceiver(null);

    const { rows: orgs } = await db.query<{ id: string }>(`SELECT id FROM "Organization" WHERE name = 'Demo MSP'`);
    orgId = orgs[0]!.id;

    // The MSP's mail server (the password sealed to the organization, as the settings page stores
    // it) and its Slack channel with a rule for the failover's start and end. The organization's
    // earlier mail settings, if any, are put back at the end.
    const { rows: smtpRows } = await db.query(`SELECT * FROM "SmtpSettings" WHERE "organizationId" = $1`, [orgId]);
    smtpBefore = smtpRows[0] as Record<string, unknown> | undefined;
    await db.query(
      `INSERT INTO "SmtpSettings" ("organizationId", host, port, security, username, "passwordEnc", "fromAddress", "fromName", "updatedAt")
       VALUES ($1, $2, $3, 'none', $4, $5, 'tandem@msp.test', 'Tandem', now())
       ON CONFLICT ("organizationId") DO UPDATE SET host = EXCLUDED.host, port = EXCLUDED.port, security = EXCLUDED.security,
         username = EXCLUDED.username, "passwordEnc" = EXCLUDED."passwordEnc", "fromAddress" = EXCLUDED."fromAddress", "fromName" = EXCLUDED."fromName", "updatedAt" = now()`,
      [orgId, mail.host, mail.port, mail.auth!.user, sealSecret(mail.auth!.pass, `smtp:${orgId}`)],
    );

    const customerName = `E2E Approval ${tag}`;
    const { rows: customers } = await db.query<{ id: string }>(
      `INSERT INTO "Customer" (id, "organizationId", name, "approvalPolicy", "updatedAt") VALUES (gen_random_uuid(), $1, $2, $3, now()) RETURNING id`,
      [orgId, customerName, { approvers: 'customer', fourEyes: false, deadlineMinutes: 60, escalate: false, escalationEmails: [], onDeadline: 'abandon' }],
    );
    const customerId = customers[0]!.id;

    const { rows: channels } = await db.query<{ id: string }>(
      `INSERT INTO "AlertChannel" (id, "organizationId", kind, name, config, "secretEnc", "updatedAt") VALUES (gen_random_uuid(), $1, 'webhook', $2, $3, NULL, now()) RETURNING id`,
      [orgId, `Slack ${tag}`, { url: slack.url, preset: 'slack' }],
    );
    channelId = channels[0]!.id;
    await db.query(
      `INSERT INTO "AlertRule" (id, "organizationId", "customerId", "channelId", events, "minSeverity", "updatedAt") VALUES (gen_random_uuid(), $1, $2, $3, $4, 'info', now())`,
      [orgId, customerId, channelId, ['failover.started', 'failover.succeeded']],
    );

    // The customer's approver.
    const approverEmail = `approver-${tag}@customer.test`;
    const { rows: users } = await db.query<{ id: string }>(
      `INSERT INTO "User" (id, email, name, "passwordHash", "updatedAt") VALUES (gen_random_uuid(), $1, 'Avery Approver', $2, now()) RETURNING id`,
      [approverEmail, await hashPassword(approverPassword)],
    );
    await db.query(`INSERT INTO "CustomerMembership" (id, "organizationId", "customerId", "userId", role) VALUES (gen_random_uuid(), $1, $2, $3, 'approver')`, [
      orgId,
      customerId,
      users[0]!.id,
    ]);

    // Two real agents; the source's is the one that fails.
    const enrol = async (name: string) => {
      const agent = await enrolAgent(db, { orgId, customerId, dir: path.join(work, name), hostname: `${name}-${tag}` });
      const child = spawn(process.execPath, [agentBundle, 'run', '--config', agent.config], { stdio: 'ignore' });
      agents.push(child);
      return { ...agent, child };
    };
    const source = await enrol('ap-src');
    const target = await enrol('ap-dst');
    await waitForAgentsOnline(db, customerId, 2);

    // The DNS server's key, sealed to its row as the credentials page stores it.
    const { rows: creds } = await db.query<{ id: string }>(`SELECT gen_random_uuid() AS id`);
    const credentialId = creds[0]!.id;
    await db.query(
      `INSERT INTO "Credential" (id, "organizationId", "customerId", kind, name, "secretEnc", "publicInfo", "updatedAt") VALUES ($1, $2, $3, 'dns_tsig', $4, $5, $6, now())`,
      [credentialId, orgId, customerId, `e2e-appr-${tag}`, sealSecret(bind.key.secret, `credential:${credentialId}:secret`), { keyName: bind.key.name, algorithm: bind.key.algorithm }],
    );

    // A file server pair with manual intervention on: a lost source waits for a decision.
    const { pairId, pairName } = await insertDnsFilePair(db, {
      orgId,
      customerId,
      sourceServerId: source.serverId,
      targetServerId: target.serverId,
      work,
      tag,
      bindPort: bind.port,
      zone,
      reverseZone: '78.10.in-addr.arpa',
      sourceIp: SOURCE_IP,
      targetIp: TARGET_IP,
      credentialId,
      documents: 5,
    });
    const pairStatus = async () => (await db.query<{ status: string }>(`SELECT status FROM "ProtectionPair" WHERE id = $1`, [pairId])).rows[0]!.status;

    // The MSP's operator enables protection (protect.spec covers the wizard; validation-ui.spec the gate).
    await recordPassingValidation(db, pairId);
    await signIn(page, demoLogin.email, demoLogin.password);
    await page.goto(`/customers/${customerId}/pairs/${pairId}`);
    await hydrated(page);
    await page.getByRole('button', { name: 'Enable protection' }).click();
    await page.getByRole('button', { name: 'Start protection' }).click();
    await expect(page.getByTestId('pair-status').locator('[data-pair-status="protected"]')).toBeVisible({ timeout: 90_000 });
    await signOut(page);

    // 3 a.m.: the source server dies.
    const gone = new Promise((resolve) => source.child.once('exit', resolve));
    source.child.kill('SIGKILL');
    await gone;
    await expect.poll(pairStatus, { timeout: 60_000, intervals: [500] }).toBe('failover_pending');

    // The approval e-mail reaches the approver through the MSP's mail server, with a one-time link.
    const approvalMail = await mail.waitFor((m) => m.to.some((to) => to.toLowerCase().includes(approverEmail)) && /approv/i.test(m.subject), 90_000);
    expect(approvalMail.subject).toContain(pairName);
    expect(approvalMail.html).toBeTruthy();
    const link = /https?:\/\/[^\s"'<>]+\/approve\/[A-Za-z0-9_-]+/.exec(approvalMail.text)?.[0];
    expect(link, 'the e-mail carries the approval link').toBeTruthy();

    // The link alone grants nothing: it asks for a sign-in first, then opens the request.
    await page.goto(new URL(link!).pathname);
    await expect(page).toHaveURL(/\/sign-in/);
    await hydrated(page);
    await page.getByLabel('E-mail').fill(approverEmail);
    await page.getByLabel('Password').fill(approverPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL(/\/approvals\/[0-9a-f-]{36}$/, { timeout: 30_000 });
    await hydrated(page);
    await expect(page.getByRole('heading', { name: `Failover of ${pairName}` })).toBeVisible();

    // What the failover will change: the source's address record moves to the target.
    const moveA = page.getByTestId('change-list').locator('[data-change="dns"]').filter({ hasText: `files.${zone} (A` });
    await expect(moveA).toContainText(SOURCE_IP, { timeout: 60_000 });
    await expect(moveA).toContainText(TARGET_IP);
    // Seen, not yet done: BIND still answers the source.
    expect(await bind.dig(`files.${zone}`, 'A')).toEqual([SOURCE_IP]);

    await page.getByLabel('Comment').fill('Approved from the e-mail link');
    await page.getByRole('button', { name: 'Approve failover' }).click();
    // The answer is recorded and the page says the failover runs (the form itself goes away once
    // the request is decided, so its short confirmation may be gone by the time we look).
    await expect(page.getByText('The failover runs now')).toBeVisible({ timeout: 30_000 });
    await expect(page.getByText('Answers (1 of 1 approval)')).toBeVisible();

    // The failover runs to its end: the pair is failed over and DNS answers the target.
    await expect.poll(pairStatus, { timeout: 120_000, intervals: [1_000] }).toBe('failed_over');
    expect(await bind.dig(`files.${zone}`, 'A')).toEqual([TARGET_IP]);
    await page.getByRole('link', { name: 'follow it on the pair page' }).click();
    await expect(page.getByTestId('pair-status').locator('[data-pair-status="failed_over"]')).toBeVisible({ timeout: 30_000 });

    // The MSP's Slack channel heard the start and the finish, for this customer.
    const slackText = (w: { json: unknown }) => {
      const text = (w.json as { text?: unknown } | null)?.text;
      return typeof text === 'string' ? text : '';
    };
    const heard = (what: RegExp) => () => slack!.accepted().some((w) => what.test(slackText(w)) && JSON.stringify(w.json).includes(customerName));
    await expect.poll(heard(/Failover started/i), { timeout: 60_000, intervals: [500] }).toBe(true);
    await expect.poll(heard(/Failover succeeded/i), { timeout: 60_000, intervals: [500] }).toBe(true);
    const started = slack.accepted().find((w) => /Failover started/i.test(slackText(w)))!;
    expect((started.json as { blocks?: unknown[] }).blocks?.length).toBeGreaterThan(0);

    // The decision is in the customer's audit trail, under the approver's name.
    const { rows: audit } = await db.query<{ actorLabel: string }>(`SELECT "actorLabel" FROM "AuditEvent" WHERE "customerId" = $1 AND action LIKE 'approval.%'`, [customerId]);
    expect(audit.some((a) => a.actorLabel.includes(approverEmail))).toBe(true);
  } finally {
    for (const a of agents) await stopChild(a);
    if (channelId) await db.query(`DELETE FROM "AlertChannel" WHERE id = $1`, [channelId]).catch(() => undefined);
    // The organization's mail settings as they were (none, or the earlier row).
    if (orgId) {
      await db.query(`DELETE FROM "SmtpSettings" WHERE "organizationId" = $1`, [orgId]).catch(() => undefined);
      if (smtpBefore) {
        const cols = Object.keys(smtpBefore);
        await db
          .query(`INSERT INTO "SmtpSettings" (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`, Object.values(smtpBefore))
          .catch(() => undefined);
      }
    }
    await slack?.stop();
    await mail?.stop();
    await bind?.stop();
    fs.rmSync(work, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    await db.end();
  }
});
