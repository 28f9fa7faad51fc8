import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { expect, test } from '@playwright/test';
import { demoLogin, signIn } from './helpers';

// The pair page follows a status change without reloading, pushed over its live subscription.
// The change is written to the database and announced on the tenant's Redis channel exactly as
// the gateway and worker do (@tandem/agent-bus/live); while the stream is up the page does not
// poll, so only the pushed notice can show the new status.
test('the pair page shows a status change pushed over its live stream, without reloading', async ({ page }) => {
  const db = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:63799');
  const name = `e2e-live-${randomUUID().slice(0, 6)}`;
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

    await signIn(page, demoLogin.email, demoLogin.password);
    await page.getByRole('link', { name: 'Contoso Dental' }).click();
    await page.getByRole('link', { name }).click();
    const status = page.getByTestId('pair-status');
    await expect(status).toHaveAttribute('data-live', 'on');
    await expect(status.locator('[data-pair-status]')).toHaveAttribute('data-pair-status', 'mirroring');
    // A mark on this document: a reload would lose it.
    await page.evaluate(() => ((window as unknown as { liveMark: string }).liveMark = 'still here'));

    await db.query(`UPDATE "ProtectionPair" SET status = 'protected' WHERE id = $1`, [pairId]);
    const notice = { id: `e2e-${randomUUID()}`, kind: 'pair', customerId: r.customer, pairId, change: 'status' };
    await redis.publish(`tandem:live:${r.org}:${r.customer}`, JSON.stringify(notice));

    await expect(status.locator('[data-pair-status]')).toHaveAttribute('data-pair-status', 'protected');
    await expect(status).toContainText('Protected');
    expect(await page.evaluate(() => (window as unknown as { liveMark?: string }).liveMark)).toBe('still here');
  } finally {
    await db.query(`DELETE FROM "ProtectionPair" WHERE name = $1`, [name]);
    await db.end();
    redis.disconnect();
  }
});
