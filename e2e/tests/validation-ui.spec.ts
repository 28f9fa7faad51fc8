import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { expect, test } from '@playwright/test';
import { seedContosoPair } from './contoso-pair';
import { demoLogin, open, signIn, unique } from './helpers';

// The validation portal without agents: two runs of a pair written to the database as the worker
// stores them (the worker's own runs are the integration tests'), then in the browser: the results
// grouped by family with the six statuses and their labels, a finding's drawer (what it detects,
// evidence, what Fix will do), acknowledging a warning, the diff between the two runs, readiness
// with what lowers it, and Fix All's plan (an item taken out, one confirmation).

interface Seed {
  checkId: string;
  severity: 'error' | 'warning';
  status: string;
  side: 'source' | 'target' | 'none';
  subject: string;
  evidence: Record<string, unknown>;
  plan?: unknown[];
  guidance?: string;
  phase?: number;
}

const stopSmbd = {
  action: 'service.stop',
  node: 'target',
  name: 'smbd',
  description: 'Stop smbd on cd-files02 (dependents first)',
  before: 'running',
  after: 'stopped',
};
const lowerTtl = {
  action: 'dns.set-ttl',
  records: [{ type: 'A', name: 'files.contoso.test' }],
  ttl: 300,
  description: 'Lower the TTL of A files.contoso.test to 300 s',
  before: '3600',
  after: '300',
};

const smbd: Seed = {
  checkId: 'services.running-on-target',
  severity: 'error',
  status: 'error-fixable',
  side: 'target',
  subject: 'service=smbd',
  evidence: { service: 'smbd', state: 'running' },
  plan: [stopSmbd],
  phase: 6,
};
const ttl: Seed = {
  checkId: 'dns.ttl-above-recommended',
  severity: 'warning',
  status: 'warning-fixable',
  side: 'none',
  subject: 'record=A files.contoso.test',
  evidence: { ttl: 3600 },
  plan: [lowerTtl],
  phase: 4,
};
const reverse: Seed = {
  checkId: 'dns.reverse-zone-missing',
  severity: 'warning',
  status: 'warning-manual',
  side: 'none',
  subject: 'address=10.0.0.20',
  evidence: { subnet: '10.0.0.20/24' },
  guidance: 'Create the reverse zone, or accept stale reverse answers.',
};
const clock: Seed = {
  checkId: 'agent.clock-skew',
  severity: 'warning',
  status: 'warning-manual',
  side: 'source',
  subject: 'node=cd-files01',
  evidence: { offsetMs: 5000 },
  guidance: 'Check the time service.',
};
const good = (checkId: string, side: string) => ({ checkId, side, status: 'good' });
const unknownRecord = {
  checkId: 'dns.source-record-missing',
  side: 'none',
  status: 'unknown',
  unknown: { reason: 'the DNS dry run reached no server', facts: ['D'], gate: 'dns.provider-unreachable' },
};

async function seedRun(db: pg.Client, p: { org: string; customer: string; pairId: string }, startedAt: Date, findings: Seed[]) {
  const runId = randomUUID();
  const results = [
    good('agent.version-unsupported', 'source'),
    good('agent.version-unsupported', 'target'),
    unknownRecord,
    ...findings.map((f) => ({ checkId: f.checkId, side: f.side, status: f.status })),
  ];
  await db.query(
    `INSERT INTO "ValidationRun" (id, "organizationId", "customerId", "pairId", status, "startedAt", "finishedAt", trigger, "configChangedAt", overall, results)
     VALUES ($1, $2, $3, $4, 'failed', $5, $5, 'manual', (SELECT "configChangedAt" FROM "ProtectionPair" WHERE id = $4), 'error-fixable', $6)`,
    [runId, p.org, p.customer, p.pairId, startedAt, JSON.stringify(results)],
  );
  const ids: Record<string, string> = {};
  for (const f of findings) {
    const id = randomUUID();
    ids[f.checkId] = id;
    await db.query(
      `INSERT INTO "Finding" (id, "organizationId", "customerId", "validationRunId", "pairId", "checkId", severity, message, fixable, side, subject, status,
         evidence, "evidenceDigest", guidance, plan, phase)
       VALUES ($1, $2, $3, $4, $5, $6, $7::"Severity", $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
      [
        id,
        p.org,
        p.customer,
        runId,
        p.pairId,
        f.checkId,
        f.severity,
        `${f.checkId}: ${f.subject}`,
        f.status.endsWith('fixable'),
        f.side,
        f.subject,
        f.status,
        JSON.stringify(f.evidence),
        // Any stable value does: an acknowledgement holds while the finding's digest is the one it accepted.
        `digest-${JSON.stringify(f.evidence)}`,
        f.guidance ?? null,
        f.plan ? JSON.stringify(f.plan) : null,
        f.phase ?? null,
      ],
    );
  }
  return { runId, ids };
}

test('validation results by family with the six statuses, a finding’s drawer, acknowledging a warning, the diff of two runs and Fix All’s plan', async ({
  page,
}) => {
  const db = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  const name = `e2e-validation-${unique()}`;
  const pairId = randomUUID();
  try {
    const r = await seedContosoPair(db, {
      pairId,
      name,
      status: 'unprotected',
      readiness: {
        score: 55,
        factors: [
          { key: 'errors', label: 'Open errors', penalty: 20, detail: 'smbd is running on the target' },
          { key: 'test', label: 'Test failover', penalty: 15, detail: 'never tested' },
          { key: 'lag', label: 'Lag', penalty: 0, detail: 'within the RPO' },
        ],
      },
    });
    const p = { org: r.org, customer: r.customer, pairId };
    await seedRun(db, p, new Date(Date.now() - 3_600_000), [smbd, reverse, clock]);
    const latest = await seedRun(db, p, new Date(Date.now() - 60_000), [smbd, ttl, reverse]);

    await signIn(page, demoLogin.email, demoLogin.password);
    await open(page, `/customers/${r.customer}/pairs/${pairId}`);
    const validation = page.getByRole('region', { name: 'Validation', exact: true });
    await expect(validation.getByRole('heading', { name: 'Validation' })).toBeVisible();

    // Readiness and what lowers it.
    await expect(validation.getByTestId('readiness-score')).toHaveText('Readiness 55/100');
    await expect(validation.getByRole('list', { name: 'What lowers readiness' })).toContainText('smbd is running on the target');

    // Grouped by family, each check with its status label.
    const family = (f: string) => validation.getByRole('region', { name: `${f} checks` });
    const check = (id: string) => validation.locator(`[data-check="${id}"]`).first();
    await expect(family('services').locator('[data-check="services.running-on-target"]')).toContainText('Error, fixable');
    await expect(family('dns').locator('[data-check="dns.ttl-above-recommended"]')).toContainText('Warning, fixable');
    await expect(family('dns').locator('[data-check="dns.reverse-zone-missing"]')).toContainText('Warning, manual');
    await expect(check('dns.source-record-missing')).toContainText('Unknown');
    await expect(check('dns.source-record-missing')).toContainText('Not evaluated: the DNS dry run reached no server');
    await family('agent').getByText('2 good checks').click();
    await expect(family('agent').locator('[data-validation-status="good"]')).toHaveCount(2);
    await expect(family('agent').locator('[data-validation-status="good"]').first()).toContainText('Good');
    // The run's worst status heads the card.
    await expect(validation.locator('[data-validation-status="error-fixable"]').first()).toBeVisible();

    // The drawer of the TTL warning: what it detects, its evidence, what Fix will do.
    await check('dns.ttl-above-recommended')
      .getByRole('button', { name: /^Details/ })
      .click();
    const drawer = page.getByTestId('finding-drawer');
    await expect(drawer).toBeVisible();
    await expect(drawer.getByRole('heading', { name: 'What it detects' })).toBeVisible();
    await expect(drawer.getByTestId('finding-evidence')).toContainText('ttl');
    await expect(drawer.getByTestId('finding-evidence')).toContainText('3600');
    await expect(drawer.getByTestId('finding-plan')).toContainText('Lower the TTL of A files.contoso.test to 300 s');
    await expect(drawer.getByTestId('finding-plan')).toContainText('3600 → 300');
    await expect(drawer.getByRole('button', { name: 'Fix', exact: true })).toBeEnabled();

    // Acknowledge it with a reason.
    await drawer.getByLabel('Reason for accepting this warning').fill('The registrar pins this TTL until March');
    await drawer.getByLabel('For how many days (1–90)').fill('45');
    await drawer.getByRole('button', { name: 'Acknowledge warning' }).click();
    await expect(drawer.getByTestId('acknowledgement')).toContainText('Acknowledged by');
    await expect(drawer.getByTestId('acknowledgement')).toContainText('The registrar pins this TTL until March');
    const acks = await db.query<{ reason: string }>(
      `SELECT reason FROM "FindingAcknowledgement" WHERE "pairId" = $1 AND "checkId" = 'dns.ttl-above-recommended'`,
      [pairId],
    );
    expect(acks.rows.map((a) => a.reason)).toEqual(['The registrar pins this TTL until March']);
    await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
    await expect(check('dns.ttl-above-recommended')).toContainText('acknowledged');

    // A manual finding has no Fix: its drawer says what a person does.
    await check('dns.reverse-zone-missing')
      .getByRole('button', { name: /^Details/ })
      .click();
    await expect(page.getByTestId('finding-drawer')).toContainText('Create the reverse zone');
    await expect(page.getByTestId('finding-drawer').getByRole('button', { name: 'Fix', exact: true })).toHaveCount(0);
    await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();

    // Run history and the diff of the two runs (older → newer).
    await validation.getByRole('button', { name: 'History' }).click();
    const history = validation.getByTestId('run-history');
    await expect(history.locator('[data-run]')).toHaveCount(2);
    const diff = history.getByTestId('run-diff');
    await expect(diff.getByRole('region', { name: 'New findings' })).toContainText('record=A files.contoso.test');
    await expect(diff.getByRole('region', { name: 'Resolved findings' })).toContainText('node=cd-files01');
    await expect(diff.getByRole('region', { name: 'Changed findings' })).toContainText('Changed (0)');
    await expect(diff).toContainText('2 unchanged.');

    // Fix All: the plan per phase and node with before and after; take one item out; confirm once.
    await validation.getByRole('button', { name: 'Fix All' }).click();
    const dialog = page.getByRole('dialog', { name: 'Fix All' });
    const plan = dialog.getByTestId('fix-plan');
    await expect(plan.getByRole('region', { name: 'Phase 4: Directory and DNS' })).toContainText(
      'Lower the TTL of A files.contoso.test to 300 s',
    );
    await expect(plan.getByRole('region', { name: 'Phase 6: Target passivity' })).toContainText(
      'Stop smbd on cd-files02 (dependents first)',
    );
    await expect(plan.getByRole('region', { name: 'Phase 6: Target passivity' })).toContainText('running → stopped');
    await expect(plan.getByRole('region', { name: 'Left out of the plan' })).toHaveCount(0);
    await plan.getByRole('checkbox', { name: 'Include: Lower the TTL of A files.contoso.test to 300 s' }).click();
    await expect(plan.getByRole('region', { name: 'Left out of the plan' })).toContainText('Taken out of the plan.');
    await expect(plan.getByRole('region', { name: 'Phase 4: Directory and DNS' })).toHaveCount(0);
    await dialog.getByRole('button', { name: 'Run 1 action' }).click();
    await expect(dialog).toBeHidden();
    const ops = await db.query<{ options: { fixAll: boolean; deselected: string[]; findingIds: string[] } }>(
      `SELECT options FROM "Operation" WHERE "pairId" = $1 AND kind = 'fix'`,
      [pairId],
    );
    expect(ops.rows).toHaveLength(1);
    expect(ops.rows[0]!.options).toMatchObject({
      fixAll: true,
      deselected: [latest.ids['dns.ttl-above-recommended']],
      findingIds: [latest.ids['services.running-on-target']],
    });
  } finally {
    await db.query(`DELETE FROM "ProtectionPair" WHERE id = $1`, [pairId]);
    await db.end();
  }
});
