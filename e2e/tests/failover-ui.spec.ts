import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { expect, test, type Page } from '@playwright/test';
import { demoLogin, hydrated, open, signIn, signOut, unique } from './helpers';

// The failover portal without agents: credentials (TSIG secrets are write-only), who sees the
// Failover button, the dialog's confirmation by name, and the settings form's failover fields.
// A full browser failover against real agents and BIND is the demo's (npm start).

async function contoso(db: pg.Client) {
  const { rows } = await db.query<{ org: string; customer: string; source: string; target: string }>(
    `SELECT c."organizationId" AS org, c.id AS customer,
            (SELECT id FROM "Server" WHERE "customerId" = c.id AND hostname = 'cd-files01') AS source,
            (SELECT id FROM "Server" WHERE "customerId" = c.id AND hostname = 'cd-files02') AS target
     FROM "Customer" c JOIN "Organization" o ON o.id = c."organizationId"
     WHERE o.slug = 'demo-msp' AND c.name = 'Contoso Dental'`,
  );
  return rows[0]!;
}

test('a TSIG key is created on the credentials page and its secret is never shown again', async ({ page }) => {
  const db = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  const name = `e2e-tsig-${unique()}`;
  const secret = randomBytes(32).toString('base64');
  // Every API answer the page receives, to check none carries the secret.
  const bodies: Promise<string>[] = [];
  page.on('response', (r) => {
    if (r.url().includes('/api/trpc/') && r.url().includes('credential')) bodies.push(r.text().catch(() => ''));
  });
  try {
    await signIn(page, demoLogin.email, demoLogin.password);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Credentials' }).click();
    await expect(page.getByRole('heading', { name: 'Credentials', exact: true })).toBeVisible();
    await hydrated(page);

    await page.getByRole('button', { name: 'New credential' }).click();
    const form = page.getByRole('form', { name: 'New credential' });
    await expect(form.getByLabel('Kind')).toHaveValue('dns_tsig');
    await form.getByLabel('Name', { exact: true }).fill(name);
    await form.getByLabel('Key name').fill('tandem-e2e-key');
    await form.getByLabel('Algorithm').selectOption('hmac-sha256');
    await form.getByLabel('Secret (base64)').fill(secret);
    await expect(form.getByText('never shown again', { exact: false })).toBeVisible();
    await form.getByRole('button', { name: 'Create credential' }).click();

    const row = page.locator(`[data-credential="${name}"]`);
    await expect(row).toContainText('TSIG key');
    await expect(row).toContainText('tandem-e2e-key');
    await expect(row).toContainText('hmac-sha256');
    await expect(row).toContainText('Never');
    await expect(form).toHaveCount(0);
    expect(await page.content()).not.toContain(secret);

    // The edit form starts with an empty secret: leaving it empty keeps the stored one.
    await page.getByRole('button', { name: `Edit ${name}` }).click();
    const edit = page.getByRole('form', { name: `Edit credential ${name}` });
    await expect(edit.getByLabel('Key name')).toHaveValue('tandem-e2e-key');
    await expect(edit.getByLabel('Secret (base64)')).toHaveValue('');
    await expect(edit.getByText('Leave empty to keep the current secret')).toBeVisible();
    expect(await page.content()).not.toContain(secret);
    await edit.getByLabel('Name', { exact: true }).fill(`${name}-renamed`);
    await edit.getByRole('button', { name: 'Save credential' }).click();
    await expect(page.locator(`[data-credential="${name}-renamed"]`)).toBeVisible();

    // After a full reload, nothing the server sends holds the secret either.
    await open(page, '/credentials');
    await expect(page.locator(`[data-credential="${name}-renamed"]`)).toBeVisible();
    expect(await page.content()).not.toContain(secret);
    const texts = await Promise.all(bodies);
    expect(texts.length).toBeGreaterThan(0);
    for (const t of texts) expect(t).not.toContain(secret);

    // Stored sealed: the row holds no plain copy.
    const { rows } = await db.query<{ secretEnc: string }>(`SELECT "secretEnc" FROM "Credential" WHERE name = $1`, [`${name}-renamed`]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.secretEnc).not.toContain(secret);

    // Deleting an unused credential works.
    await page.getByRole('button', { name: `Delete ${name}-renamed` }).click();
    await page.getByRole('button', { name: 'Yes, delete' }).click();
    await expect(page.locator(`[data-credential="${name}-renamed"]`)).toHaveCount(0);
  } finally {
    await db.query(`DELETE FROM "Credential" WHERE name LIKE $1`, [`${name}%`]);
    await db.end();
  }
});

/** Invites a new customer viewer of Contoso Dental as the demo owner and signs them in; returns nothing. */
async function signInAsContosoViewer(page: Page) {
  const email = `failover-viewer-${unique()}@example.test`;
  await signIn(page, demoLogin.email, demoLogin.password);
  await open(page, '/customers');
  await page.getByRole('link', { name: 'Contoso Dental' }).click();
  await expect(page.getByRole('heading', { name: 'Contoso Dental', exact: true })).toBeVisible();
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Role').selectOption('viewer');
  await page.getByRole('button', { name: 'Create invitation link' }).click();
  const link = await page.getByTestId('invitation-link').inputValue();
  await signOut(page);
  await open(page, new URL(link).pathname);
  await page.getByLabel('Your name').fill('Casey Viewer');
  await page.getByLabel('Choose a password').fill('a long enough password');
  await page.getByRole('button', { name: 'Accept invitation' }).click();
  await expect(page).not.toHaveURL(/\/invite\//);
  await hydrated(page);
}

test('the Failover button is offered to an operator, not to a customer user, and the dialog refuses a wrong name', async ({ page }) => {
  const db = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  const name = `e2e-failover-${unique()}`;
  const pairId = randomUUID();
  try {
    const r = await contoso(db);
    await db.query(
      `INSERT INTO "ProtectionPair" (id, "organizationId", "customerId", name, "sourceServerId", "targetServerId", application, status, "updatedAt")
       VALUES ($1, $2, $3, $4, $5, $6, 'file_server', 'protected', now())`,
      [pairId, r.org, r.customer, name, r.source, r.target],
    );
    const pairPath = `/customers/${r.customer}/pairs/${pairId}`;

    await signIn(page, demoLogin.email, demoLogin.password);
    await open(page, pairPath);
    await expect(page.getByRole('heading', { name, exact: true })).toBeVisible();
    const controls = page.getByRole('region', { name: 'Failover controls' });
    await controls.getByRole('button', { name: 'Failover', exact: true }).click();

    const dialog = page.getByRole('dialog', { name: `Fail over ${name}` });
    await expect(dialog).toBeVisible();
    await expect(dialog.getByRole('radio', { name: /Graceful/ })).toBeChecked();
    await expect(dialog.getByText(/Graceful \(default\): stop the source’s services/)).toBeVisible();
    await expect(dialog.getByRole('region', { name: 'Dry run' })).toBeVisible();

    // A wrong name starts nothing.
    await dialog.getByLabel('Type the pair’s name to confirm').fill(`${name}-typo`);
    await dialog.getByRole('button', { name: 'Start failover' }).click();
    await expect(dialog.getByRole('alert').filter({ hasText: 'The name does not match' })).toBeVisible();
    const { rows } = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM "Operation" WHERE "pairId" = $1 AND kind = 'failover' AND NOT "dryRun"`,
      [pairId],
    );
    expect(Number(rows[0]!.n)).toBe(0);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(dialog).toHaveCount(0);
    await signOut(page);

    // A customer user sees the pair but no Failover button.
    await signInAsContosoViewer(page);
    await open(page, pairPath);
    await expect(page.getByRole('heading', { name, exact: true })).toBeVisible();
    await expect(page.getByRole('region', { name: 'Failover controls' })).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Failover', exact: true })).toHaveCount(0);
  } finally {
    await db.query(`DELETE FROM "ProtectionPair" WHERE id = $1`, [pairId]);
    await db.end();
  }
});

test('the settings form shows the failover fields with their help', async ({ page }) => {
  await signIn(page, demoLogin.email, demoLogin.password);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Customers' }).click();
  await page.getByRole('link', { name: 'Contoso Dental' }).click();
  await page.getByRole('link', { name: 'New protection' }).click();
  await hydrated(page);
  await page.getByRole('radiogroup', { name: 'Source server' }).getByRole('radio', { name: 'cd-files01' }).check();
  await page.getByRole('button', { name: 'Next', exact: true }).click();
  await page.getByRole('radiogroup', { name: 'Application' }).getByRole('radio', { name: 'File server' }).check();
  await page.getByRole('button', { name: 'Next', exact: true }).click();
  await page.getByRole('radiogroup', { name: 'Target server' }).getByRole('radio', { name: 'cd-files02' }).check();
  await page.getByRole('button', { name: 'Next', exact: true }).click();

  // How a failover runs.
  const mode = page.getByRole('group', { name: 'Failover mode' });
  await expect(mode.getByRole('radio', { name: /Graceful/ })).toBeChecked();
  await expect(mode.getByText(/Immediate: cut over at once; what was still queued is lost/)).toBeVisible();
  await expect(page.getByLabel('Drain timeout (seconds)')).toHaveValue('120');
  await expect(page.getByText('Graceful only: how long to wait for the replication queue to empty.')).toBeVisible();
  await expect(page.getByRole('group', { name: 'When the queue has not drained in time' }).getByRole('radio', { name: /Abort/ })).toBeChecked();
  await expect(page.getByLabel('Service timeout (seconds)')).toHaveValue('120');

  // DNS failover (the default type): provider, executor, credential, records and TTL.
  await expect(page.getByRole('group', { name: 'DNS provider' }).getByRole('radio', { name: /RFC 2136/ })).toBeChecked();
  await expect(page.getByLabel('DNS executor')).toHaveValue('');
  await expect(page.getByLabel('DNS executor').locator('option:checked')).toHaveText('The target’s agent (cd-files02)');
  await expect(page.getByText(/The agent that talks to the DNS servers/)).toBeVisible();
  await expect(page.getByRole('link', { name: 'Manage credentials' })).toBeVisible();
  const picker = page.getByRole('group', { name: 'Records that move at failover' });
  await expect(picker.getByRole('button', { name: 'Discover records' })).toBeVisible();
  await expect(picker.getByText(/tick the ones to move/)).toBeVisible();
  await expect(page.getByLabel('Lower the TTL of these records when protection is enabled')).not.toBeChecked();

  // Identity failover: the addresses to take over and force.
  await page.getByRole('group', { name: 'Failover type' }).getByRole('radio', { name: 'Identity' }).check();
  await page.getByRole('button', { name: 'Add address', exact: true }).click();
  await expect(page.getByLabel('Address 1', { exact: true })).toHaveValue('10.20.1.20');
  await expect(page.getByLabel('Address 1 prefix length')).toHaveValue('24');
  await expect(page.getByText(/The target must have an interface in each address’s subnet/)).toBeVisible();
  await expect(page.getByLabel('Move addresses even without a matching target interface')).not.toBeChecked();
  await expect(page.getByRole('group', { name: 'DNS provider' })).toHaveCount(0);
});
