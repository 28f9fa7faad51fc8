import { createHash, randomUUID } from 'node:crypto';
import pg from 'pg';
import { expect, test } from '@playwright/test';
import { demoLogin, open, signIn } from './helpers';

// Drills and cluster pages against seeded data (no agents): an operator schedules a monthly drill
// of a protected pair, pauses and removes it; a customer's Pacemaker cluster (as its nodes' facts
// report it) shows its resources and where they run, and the diff between two saved
// configurations shows the changed address. Restoring is only opened here (the dry run needs the
// worker and agents: the integration tests cover the API).

const cib = (ip: string, epoch: number) =>
  `<cib epoch="${epoch}" num_updates="0" admin_epoch="0"><configuration><resources><group id="web-group"><primitive id="vip" class="ocf" provider="heartbeat" type="IPaddr2"><instance_attributes id="vip-ia"><nvpair id="vip-ip" name="ip" value="${ip}"/></instance_attributes></primitive></group></resources></configuration></cib>`;

function clusterFacts(name: string) {
  return {
    cluster: {
      status: 'ok',
      data: {
        stack: 'pacemaker',
        name,
        quorate: true,
        nodes: [
          { name: 'node1', online: true },
          { name: 'node2', online: true },
        ],
        resources: [
          { id: 'vip', type: 'ocf:heartbeat:IPaddr2', role: 'Started', node: 'node1', group: 'web-group', targetRole: null },
          {
            id: 'httpd',
            type: 'ocf:heartbeat:apache',
            role: 'Started',
            node: 'node1',
            group: 'web-group',
            targetRole: 'Started',
          },
        ],
        groups: [{ id: 'web-group', resources: ['vip', 'httpd'], node: 'node1' }],
        constraints: [{ id: 'loc-web', kind: 'location', resource: 'web-group', node: 'node1', with: null, score: '100' }],
        fencing: { enabled: true, devices: 1 },
      },
    },
  };
}

test('an operator schedules, pauses and removes a drill; a cluster page shows resources and the diff of two versions', async ({
  page,
}) => {
  const db = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  const tag = randomUUID().slice(0, 6);
  const customerName = `Drills ${tag}`;
  const pairName = `files-${tag}`;
  const clusterName = `web-${tag}`;
  const customerId = randomUUID();
  const [v1, v2] = [randomUUID(), randomUUID()];
  try {
    const { rows } = await db.query<{ id: string }>(`SELECT id FROM "Organization" WHERE slug = 'demo-msp'`);
    const org = rows[0]!.id;
    await db.query(`INSERT INTO "Customer" (id, "organizationId", name, "updatedAt") VALUES ($1, $2, $3, now())`, [
      customerId,
      org,
      customerName,
    ]);
    const server = async (hostname: string, facts: unknown) => {
      const id = randomUUID();
      await db.query(
        `INSERT INTO "Server" (id, "organizationId", "customerId", hostname, "osFamily", facts, "factsAt", "updatedAt") VALUES ($1, $2, $3, $4, 'linux', $5::jsonb, now(), now())`,
        [id, org, customerId, hostname, facts === null ? null : JSON.stringify(facts)],
      );
      return id;
    };
    const [source, target] = [await server(`src-${tag}`, null), await server(`dst-${tag}`, null)];
    await db.query(
      `INSERT INTO "ProtectionPair" (id, "organizationId", "customerId", name, "sourceServerId", "targetServerId", application, status, "updatedAt")
       VALUES ($1, $2, $3, $4, $5, $6, 'file_server', 'protected', now())`,
      [randomUUID(), org, customerId, pairName, source, target],
    );
    const node1 = await server('node1', clusterFacts(clusterName));
    await server('node2', clusterFacts(clusterName));
    for (const [id, content, ago, reason] of [
      [v1, cib('10.0.0.10', 5), 3600, 'scheduled'],
      [v2, cib('10.0.0.20', 6), 60, 'manual'],
    ] as const) {
      await db.query(
        `INSERT INTO "ClusterConfigVersion" (id, "organizationId", "customerId", stack, "clusterName", "serverId", reason, epoch, sha256, "sizeBytes", content, "takenAt")
         VALUES ($1, $2, $3, 'pacemaker', $4, $5, $6, $7, $8, $9, $10, (now() AT TIME ZONE 'UTC') - make_interval(secs => $11))`,
        [
          id,
          org,
          customerId,
          clusterName,
          node1,
          reason,
          `0.${id === v1 ? 5 : 6}.0`,
          createHash('sha256').update(content).digest('hex'),
          Buffer.byteLength(content),
          content,
          ago,
        ],
      );
    }

    await signIn(page, demoLogin.email, demoLogin.password);

    // Drills: schedule a monthly drill of the pair.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Drills', exact: true }).click();
    await expect(page).toHaveURL(/\/drills$/);
    await page.getByRole('button', { name: 'Schedule a drill' }).click();
    const form = page.getByRole('form', { name: 'Schedule a drill' });
    await form.getByLabel('Customer').selectOption({ label: customerName });
    await form.getByLabel('What to test').selectOption({ label: `${pairName} (protected)` });
    await form.getByLabel('Days between drills').fill('30');
    await form.getByRole('button', { name: 'Schedule' }).click();
    const row = page.getByTestId('drill-row').filter({ hasText: pairName });
    await expect(row).toHaveCount(1);
    await expect(row).toContainText(customerName);
    await expect(row).toContainText('Monthly (30 days)');
    await expect(row).toContainText('Not run yet');
    await expect(row.getByTestId('drill-state')).toHaveText('On schedule');

    await row.getByRole('button', { name: 'Pause' }).click();
    await expect(row.getByTestId('drill-state')).toHaveText('Paused');
    page.once('dialog', (d) => void d.accept());
    await row.getByRole('button', { name: 'Remove' }).click();
    await expect(row).toHaveCount(0);

    // Clusters: the list, then the cluster's page.
    await open(page, `/customers/${customerId}`);
    await page.getByRole('link', { name: 'Clusters', exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`/customers/${customerId}/clusters$`));
    const clusterRow = page.getByTestId('cluster-row');
    await expect(clusterRow).toHaveCount(1);
    await expect(clusterRow).toContainText('2 of 2 running');
    await expect(clusterRow).toContainText('Fencing on (1 device)');
    await clusterRow.getByRole('link', { name: clusterName }).click();
    await expect(page.getByRole('heading', { name: clusterName })).toBeVisible();
    const vip = page.locator('[data-testid="cluster-resource"][data-resource="vip"]');
    await expect(vip.getByTestId('resource-node')).toHaveText('node1');
    await expect(vip).toContainText('web-group');
    await expect(page.getByTestId('cluster-constraints')).toContainText('web-group prefers node1 (score 100)');

    // Two versions, newest first; pick the older and the newer and compare.
    await expect(page.getByTestId('cluster-version')).toHaveCount(2);
    await page.locator(`[data-version="${v1}"] input[name="diff-from"]`).check();
    await page.locator(`[data-version="${v2}"] input[name="diff-to"]`).check();
    await page.getByRole('button', { name: 'Show differences' }).click();
    const diff = page.getByTestId('cluster-diff');
    await expect(diff.locator('[data-op="removed"]').filter({ hasText: 'value="10.0.0.10"' })).toBeVisible();
    await expect(diff.locator('[data-op="added"]').filter({ hasText: 'value="10.0.0.20"' })).toBeVisible();

    // Restore… starts with a dry run: nothing to confirm before the steps are shown.
    await page.locator(`[data-version="${v1}"]`).getByRole('button', { name: 'Restore…' }).click();
    const dialog = page.getByRole('dialog');
    await expect(dialog.getByRole('button', { name: 'Dry run: show the steps' })).toBeVisible();
    await expect(dialog.getByRole('button', { name: 'Restore now' })).toHaveCount(0);
    await dialog.getByRole('button', { name: 'Close' }).click();
    await expect(dialog).toHaveCount(0);
  } finally {
    await db.query(`DELETE FROM "ClusterConfigVersion" WHERE "customerId" = $1`, [customerId]);
    await db.query(`DELETE FROM "Customer" WHERE id = $1`, [customerId]);
    await db.end();
  }
});
