import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { expect, test, type Page } from '@playwright/test';
import { demoLogin, signIn } from './helpers';

// Three customers of the demo MSP, written straight to the database as agents' reports would
// leave them: Alpha calm, Bravo with a pair waiting for a failover decision and an agent offline,
// Charlie mirroring with a 15-minute lag and two agents offline.
type Fixture = { status: string; samples: [agoSeconds: number, lag: number][] };
const customers: { suffix: string; pairs: Fixture[]; offlineAgents: number }[] = [
  { suffix: 'Alpha', pairs: [{ status: 'protected', samples: [[120, 700], [4, 8]] }, { status: 'protected', samples: [[3, 12]] }], offlineAgents: 0 },
  { suffix: 'Bravo', pairs: [{ status: 'failover_pending', samples: [[2, 30]] }, { status: 'protected', samples: [[2, 5]] }], offlineAgents: 1 },
  { suffix: 'Charlie', pairs: [{ status: 'mirroring', samples: [[1, 900]] }], offlineAgents: 2 },
];

const names = (page: Page) => page.getByTestId('dashboard-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-customer')));

test('the MSP dashboard counts pairs, lag, pending decisions and offline agents; sorts, filters and stays live', async ({ page }) => {
  const db = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  const prefix = `Dash ${randomUUID().slice(0, 6)}`;
  const ids: Record<string, string> = {};
  const pairIds: Record<string, string[]> = {};
  try {
    const { rows } = await db.query<{ id: string }>(`SELECT id FROM "Organization" WHERE slug = 'demo-msp'`);
    const org = rows[0]!.id;
    for (const c of customers) {
      const customerId = randomUUID();
      ids[c.suffix] = customerId;
      pairIds[c.suffix] = [];
      await db.query(`INSERT INTO "Customer" (id, "organizationId", name, "updatedAt") VALUES ($1, $2, $3, now())`, [customerId, org, `${prefix} ${c.suffix}`]);
      const server = async (i: number) => {
        const id = randomUUID();
        await db.query(
          `INSERT INTO "Server" (id, "organizationId", "customerId", hostname, "osFamily", "updatedAt") VALUES ($1, $2, $3, $4, 'linux', now())`,
          [id, org, customerId, `${c.suffix.toLowerCase()}-${i}`],
        );
        return id;
      };
      let n = 0;
      const servers: string[] = [];
      for (const p of c.pairs) {
        const [source, target] = [await server(n++), await server(n++)];
        servers.push(source, target);
        const pairId = randomUUID();
        pairIds[c.suffix]!.push(pairId);
        await db.query(
          `INSERT INTO "ProtectionPair" (id, "organizationId", "customerId", name, "sourceServerId", "targetServerId", application, status, "updatedAt")
           VALUES ($1, $2, $3, $4, $5, $6, 'file_server', $7, now())`,
          [pairId, org, customerId, `pair-${n}`, source, target, p.status],
        );
        for (const [ago, lag] of p.samples) {
          await db.query(
            `INSERT INTO "ReplicationSample" ("organizationId", "customerId", "pairId", at, "lagSeconds") VALUES ($1, $2, $3, (now() AT TIME ZONE 'UTC') - make_interval(secs => $4), $5)`,
            [org, customerId, pairId, ago, lag],
          );
        }
      }
      for (let i = 0; i < c.offlineAgents; i++) {
        await db.query(
          `INSERT INTO "Agent" (id, "organizationId", "customerId", "serverId", status, "lastSeenAt", "updatedAt") VALUES ($1, $2, $3, $4, 'offline', now() - interval '1 hour', now())`,
          [randomUUID(), org, customerId, servers[i]],
        );
      }
    }

    // MSP members land on the dashboard.
    await signIn(page, demoLogin.email, demoLogin.password);
    await expect(page).toHaveURL(/\/dashboard$/);
    await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard' })).toBeVisible();
    await expect(page.getByTestId('total-pending')).toBeVisible();

    await page.getByLabel('Search').fill(prefix);
    await expect(page.getByTestId('dashboard-row')).toHaveCount(3);
    await expect(page.getByTestId('dashboard-count')).toContainText('Showing 3 of');

    const row = (suffix: string) => page.locator(`[data-testid="dashboard-row"][data-customer="${prefix} ${suffix}"]`);
    // Alpha: two protected pairs; the worst latest lag is 12 s (an older 700 s sample does not count).
    await expect(row('Alpha').locator('[data-status-count="protected"]')).toContainText('2');
    await expect(row('Alpha').getByTestId('lag-cell')).toHaveText('12 s');
    await expect(row('Alpha').getByTestId('pending-cell')).toHaveText('0');
    await expect(row('Alpha').getByTestId('offline-cell')).toContainText('0');
    await expect(row('Alpha')).not.toContainText('Needs attention');
    // Bravo: one pending, one protected, one agent offline.
    await expect(row('Bravo').locator('[data-status-count="failover_pending"]')).toContainText('1');
    await expect(row('Bravo').locator('[data-status-count="protected"]')).toContainText('1');
    await expect(row('Bravo').getByTestId('lag-cell')).toHaveText('30 s');
    await expect(row('Bravo').getByTestId('pending-cell')).toHaveText('1');
    await expect(row('Bravo').getByTestId('offline-cell')).toContainText('1');
    await expect(row('Bravo')).toContainText('Needs attention');
    // Charlie: mirroring with 15 minutes of lag, two agents offline.
    await expect(row('Charlie').locator('[data-status-count="mirroring"]')).toContainText('1');
    await expect(row('Charlie').getByTestId('lag-cell')).toHaveText('15 min');
    await expect(row('Charlie').getByTestId('offline-cell')).toContainText('2');
    await expect(row('Charlie')).toContainText('Needs attention');

    // Sorting: by name (default), worst lag, pending, agents offline; a header click reverses.
    const [a, b, c] = ['Alpha', 'Bravo', 'Charlie'].map((s) => `${prefix} ${s}`);
    await expect.poll(() => names(page)).toEqual([a, b, c]);
    await page.getByLabel('Sort by').selectOption('lag');
    await expect.poll(() => names(page)).toEqual([c, b, a]);
    await page.getByRole('button', { name: 'Waiting for decision' }).click();
    await expect.poll(() => names(page)).toEqual([b, a, c]);
    await expect(page.getByRole('columnheader', { name: 'Waiting for decision' })).toHaveAttribute('aria-sort', 'descending');
    await page.getByLabel('Sort by').selectOption('offline');
    await expect.poll(() => names(page)).toEqual([c, b, a]);
    await page.getByRole('button', { name: 'Customer', exact: true }).click();
    await expect.poll(() => names(page)).toEqual([a, b, c]);
    await page.getByRole('button', { name: 'Customer', exact: true }).click();
    await expect.poll(() => names(page)).toEqual([c, b, a]);

    // Filters: needs attention, a pair status, and both cleared.
    await page.getByLabel('Show').selectOption('attention');
    await expect.poll(() => names(page)).toEqual([c, b]);
    await page.getByLabel('Show').selectOption('all');
    await page.getByLabel('With a pair that is').selectOption('mirroring');
    await expect.poll(() => names(page)).toEqual([c]);
    await page.getByLabel('Search').fill(`${prefix} Alpha`);
    await expect(page.getByText('No customer matches these filters.')).toBeVisible();
    await page.getByRole('button', { name: 'Clear filters' }).first().click();
    await expect(page.getByLabel('Search')).toHaveValue('');
    await page.getByLabel('Search').fill(prefix);
    await page.getByLabel('Show').selectOption('attention');
    await expect.poll(() => names(page)).toEqual([c, b]);

    // Live: Alpha's pair loses its source; without a reload Alpha needs attention too. The change
    // is announced on the tenant's channel as the worker's detection sweep does
    // (@tandem/agent-bus/live); the page's stream pushes it (it does not poll while the stream is up).
    await db.query(`UPDATE "ProtectionPair" SET status = 'failover_pending' WHERE id = $1`, [pairIds.Alpha![0]]);
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:63799');
    const notice = { id: `e2e-${randomUUID()}`, kind: 'pair', customerId: ids.Alpha, pairId: pairIds.Alpha![0], change: 'status' };
    await redis.publish(`tandem:live:${org}:${ids.Alpha}`, JSON.stringify(notice)).finally(() => redis.disconnect());
    await expect.poll(() => names(page), { timeout: 15_000 }).toEqual([c, b, a]);
    await expect(row('Alpha').getByTestId('pending-cell')).toHaveText('1');

    // Phone width, dark mode: the page itself does not scroll sideways (the table does, inside).
    await page.setViewportSize({ width: 375, height: 800 });
    await page.getByRole('button', { name: 'Dark mode' }).click();
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await expect(row('Charlie').getByRole('link', { name: c })).toBeVisible();
    await page.getByRole('button', { name: 'Dark mode' }).click();

    // Every row leads to its customer.
    await row('Charlie').getByRole('link', { name: c }).click();
    await expect(page).toHaveURL(new RegExp(`/customers/${ids.Charlie}$`));
    await expect(page.getByRole('heading', { name: c, exact: true })).toBeVisible();
  } finally {
    const all = Object.values(ids);
    if (all.length) {
      await db.query(`DELETE FROM "ProtectionPair" WHERE "customerId" = ANY($1)`, [all]);
      await db.query(`DELETE FROM "Customer" WHERE id = ANY($1)`, [all]);
    }
    await db.end();
  }
});
