import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { expect, test } from '@playwright/test';
import { demoLogin, signIn } from './helpers';

// The pair and its samples are written straight to the database as the source agent's reports
// would be (the real agent → gateway → samples path is covered by replication-agents.test.ts).
test('the pair page shows mirror progress, queue, lag now and a lag chart', async ({ page }) => {
  const db = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  const name = `e2e-pair-${randomUUID().slice(0, 6)}`;
  try {
    const { rows } = await db.query<{ org: string; customer: string; source: string; target: string }>(
      `SELECT c."organizationId" AS org, c.id AS customer,
              (SELECT id FROM "Server" WHERE "customerId" = c.id AND hostname = 'cd-db01') AS source,
              (SELECT id FROM "Server" WHERE "customerId" = c.id AND hostname = 'cd-db02') AS target
       FROM "Customer" c JOIN "Organization" o ON o.id = c."organizationId"
       WHERE o.slug = 'demo-msp' AND c.name = 'Contoso Dental'`,
    );
    const r = rows[0]!;
    const pairId = randomUUID();
    await db.query(
      `INSERT INTO "ProtectionPair" (id, "organizationId", "customerId", name, "sourceServerId", "targetServerId", application, status, "updatedAt")
       VALUES ($1, $2, $3, $4, $5, $6, 'file_server', 'mirroring', now())`,
      [pairId, r.org, r.customer, name, r.source, r.target],
    );
    // Ten samples over the last ten minutes: the mirror shrinking from 10 GiB to 2.5 GiB.
    for (let i = 0; i < 10; i++) {
      await db.query(
        `INSERT INTO "ReplicationSample" ("organizationId", "customerId", "pairId", at, "lagSeconds", "mirrorBytesLeft", "mirrorFilesLeft", "queueBytes", "throughputBps")
         VALUES ($1, $2, $3, (now() AT TIME ZONE 'UTC') - make_interval(mins => $4), $5, $6, $7, $8, $9)`,
        [r.org, r.customer, pairId, 10 - i, i + 1, Math.round((10 - (i * 7.5) / 9) * 2 ** 30), 1000 - i * 50, 3 * 2 ** 20, 50 * 2 ** 20],
      );
    }

    await signIn(page, demoLogin.email, demoLogin.password);
    await page.getByRole('link', { name: 'Contoso Dental' }).click();
    await page.getByRole('link', { name }).click();
    await expect(page.getByRole('heading', { name, exact: true })).toBeVisible();
    await expect(page.getByText('cd-db01 → cd-db02')).toBeVisible();
    await expect(page.getByRole('progressbar', { name: 'Mirror progress' })).toHaveAttribute('aria-valuenow', '75');
    await expect(page.getByText('2.5 GiB and 550 files left')).toBeVisible();
    await expect(page.getByText('Lag now (RPO)').locator('..')).toContainText('10 s');
    await expect(page.getByText('Queue', { exact: true }).locator('..')).toContainText('3.0 MiB');
    await expect(page.getByTestId('lag-chart')).toHaveAttribute('aria-label', /highest 10 s/);
    await page.getByRole('button', { name: 'Last day' }).click();
    await expect(page.getByRole('button', { name: 'Last day' })).toHaveAttribute('aria-pressed', 'true');
    await expect(page.getByTestId('lag-chart')).toBeVisible();
  } finally {
    await db.query(`DELETE FROM "ProtectionPair" WHERE name = $1`, [name]);
    await db.end();
  }
});
