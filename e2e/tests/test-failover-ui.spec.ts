import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { expect, test, type Page } from '@playwright/test';
import { seedContosoPair } from './contoso-pair';
import { demoLogin, hydrated, open, signIn, signOut, unique } from './helpers';

// The test failover portal without agents: who is offered the Test failover button, what its
// dialog promises (source and replication untouched, a copy made and removed) and that it asks
// for a dry run first, the Tests list, and the probe settings edited on their own while the pair
// is protected (saved, refused when wrong, shown again after a reload). A real test against
// agents is the worker's and the integration tests'.

/** A protected file pair cd-files01 → cd-files02 with a complete configuration; returns its page path. */
async function protectedPair(db: pg.Client, pairId: string, name: string) {
  const r = await seedContosoPair(db, { pairId, name, status: 'protected' });
  return `/customers/${r.customer}/pairs/${pairId}`;
}

/** Invites a new customer viewer of Contoso Dental as the demo owner and signs them in. */
async function signInAsContosoViewer(page: Page) {
  const email = `test-failover-viewer-${unique()}@example.test`;
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
  await page.getByLabel('Your name').fill('Robin Viewer');
  await page.getByLabel('Choose a password').fill('a long enough password');
  await page.getByRole('button', { name: 'Accept invitation' }).click();
  await expect(page).not.toHaveURL(/\/invite\//);
  await hydrated(page);
}

const count = async (db: pg.Client, sql: string, params: unknown[]) =>
  Number((await db.query<{ n: string }>(sql, params)).rows[0]!.n);

test('Test failover is offered to an operator, not to a customer user; its dialog asks for a dry run and says production is untouched', async ({
  page,
}) => {
  const db = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  const name = `e2e-test-failover-${unique()}`;
  const pairId = randomUUID();
  try {
    const pairPath = await protectedPair(db, pairId, name);

    await signIn(page, demoLogin.email, demoLogin.password);
    await open(page, pairPath);
    await expect(page.getByRole('heading', { name, exact: true })).toBeVisible();
    const tests = page.getByRole('region', { name: 'Tests', exact: true });
    await expect(tests.getByTestId('last-test-passed')).toHaveText('No test failover has passed yet.');

    const controls = page.getByRole('region', { name: 'Failover controls' });
    const button = controls.getByRole('button', { name: 'Test failover' });
    await expect(button).toBeEnabled();
    await button.click();

    const dialog = page.getByRole('dialog', { name: `Test failover of ${name}` });
    await expect(dialog).toBeVisible();
    const intro = dialog.getByTestId('test-failover-intro');
    await expect(intro).toContainText('The source (cd-files01) and replication are untouched');
    await expect(intro).toContainText('A copy of the replica on cd-files02 is made for the test');
    await expect(intro).toContainText('the copy is then removed, also when a probe fails');
    const dryRun = dialog.getByRole('region', { name: 'Dry run' });
    await expect(dryRun.getByRole('heading', { name: 'What the test will do (dry run)' })).toBeVisible();
    // Opening the dialog asked for a dry run; the worker plans it (a dry run needs no agent) and the
    // steps are listed, ending with the copy's removal.
    const plan = dryRun.getByTestId('test-plan');
    await expect(plan).toContainText('Copy the replica on cd-files02', { timeout: 30_000 });
    await expect(plan).toContainText('Remove the test copy from cd-files02');
    await expect(dialog.getByRole('button', { name: 'Start test failover' })).toBeEnabled();
    await expect
      .poll(() =>
        count(db, `SELECT count(*) AS n FROM "Operation" WHERE "pairId" = $1 AND kind = 'test_failover' AND "dryRun"`, [pairId]),
      )
      .toBe(1);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(dialog).toHaveCount(0);
    // Cancelling started nothing.
    expect(
      await count(db, `SELECT count(*) AS n FROM "Operation" WHERE "pairId" = $1 AND kind = 'test_failover' AND NOT "dryRun"`, [
        pairId,
      ]),
    ).toBe(0);

    // While a failover is pending the button stays but cannot be used: a test needs a protected pair.
    await db.query(`UPDATE "ProtectionPair" SET status = 'failover_pending' WHERE id = $1`, [pairId]);
    await open(page, pairPath);
    await expect(
      page.getByRole('region', { name: 'Failover controls' }).getByRole('button', { name: 'Test failover' }),
    ).toBeDisabled();
    await db.query(
      `UPDATE "ProtectionPair" SET status = 'protected', "lastTestSucceededAt" = now() - interval '2 days' WHERE id = $1`,
      [pairId],
    );
    await signOut(page);

    // A customer user sees the pair and its Tests, but cannot start one.
    await signInAsContosoViewer(page);
    await open(page, pairPath);
    await expect(page.getByRole('heading', { name, exact: true })).toBeVisible();
    await expect(page.getByRole('region', { name: 'Tests', exact: true }).getByTestId('last-test-passed')).toContainText(
      'Last successful test:',
    );
    await expect(page.getByRole('button', { name: 'Test failover' })).toHaveCount(0);
  } finally {
    await db.query(`DELETE FROM "ProtectionPair" WHERE id = $1`, [pairId]);
    await db.end();
  }
});

test('the test failover probes of a protected pair are edited on their own: saved, refused when wrong, shown after a reload', async ({
  page,
}) => {
  const db = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  const name = `e2e-probes-${unique()}`;
  const pairId = randomUUID();
  const stored = async () =>
    (await db.query<{ t: unknown }>(`SELECT "testSettings" AS t FROM "ProtectionPair" WHERE id = $1`, [pairId])).rows[0]!.t;
  try {
    const pairPath = await protectedPair(db, pairId, name);
    await signIn(page, demoLogin.email, demoLogin.password);
    await open(page, `${pairPath}/edit`);
    await expect(page.getByTestId('config-locked')).toBeVisible();
    const form = page.getByRole('form', { name: 'Test failover settings' });
    await expect(form.getByTestId('probes-defaults')).toContainText('Defaults used');
    await expect(form.getByTestId('probes-defaults')).toContainText('Sampled files match the source');
    // A file pair is offered file probes, not database ones.
    const kinds = form.getByLabel('Probe to add');
    await expect(kinds.locator('option')).toHaveText([
      'Sampled files match the source',
      'Required paths exist',
      'A TCP port answers',
      'A script exits 0',
    ]);

    await kinds.selectOption({ label: 'Required paths exist' });
    await form.getByRole('button', { name: 'Add probe' }).click();
    await form.getByLabel('Add: Probe 1: paths that must exist').fill('/srv/data/payroll.db');
    await form.getByRole('button', { name: 'Add to Probe 1: paths that must exist' }).click();
    await kinds.selectOption({ label: 'A TCP port answers' });
    await form.getByRole('button', { name: 'Add probe' }).click();
    await form.getByLabel('Probe 2: port', { exact: true }).fill('445');
    await form
      .getByRole('group', { name: 'How the test copy is made' })
      .getByRole('radio', { name: 'Always a plain copy' })
      .check();
    await expect(form.getByTestId('probes-defaults')).toHaveCount(0);
    await form.getByRole('button', { name: 'Save test settings' }).click();
    await expect(form.getByRole('status')).toHaveText('Test settings saved.');
    expect(await stored()).toEqual({
      probes: [
        { kind: 'paths-exist', paths: ['/srv/data/payroll.db'] },
        { kind: 'tcp', host: null, port: 445 },
      ],
      copyMethod: 'copy',
    });

    // A relative path is refused, naming the field; nothing changes.
    await form.getByLabel('Add: Probe 1: paths that must exist').fill('relative/file');
    await form.getByRole('button', { name: 'Add to Probe 1: paths that must exist' }).click();
    await form.getByRole('button', { name: 'Save test settings' }).click();
    await expect(page.getByTestId('settings-problems')).toContainText('Test failover probes: Use an absolute path');
    await form.getByRole('button', { name: 'Remove relative/file' }).click();

    // After a reload the saved probes are shown again.
    await open(page, `${pairPath}/edit`);
    const again = page.getByRole('form', { name: 'Test failover settings' });
    await expect(again.getByRole('list', { name: 'Probe 1: paths that must exist' })).toContainText('/srv/data/payroll.db');
    await expect(again.getByLabel('Probe 2: port', { exact: true })).toHaveValue('445');
    await expect(
      again.getByRole('group', { name: 'How the test copy is made' }).getByRole('radio', { name: 'Always a plain copy' }),
    ).toBeChecked();

    // Removing every probe goes back to the defaults.
    await again.getByRole('button', { name: 'Remove probe 2 (A TCP port answers)' }).click();
    await again.getByRole('button', { name: 'Remove probe 1 (Required paths exist)' }).click();
    await expect(again.getByTestId('probes-defaults')).toBeVisible();
    await again.getByRole('button', { name: 'Save test settings' }).click();
    await expect(again.getByRole('status')).toHaveText('Test settings saved.');
    expect(await stored()).toEqual({ probes: [], copyMethod: 'copy' });
    // The pair stayed protected throughout.
    expect(
      (await db.query<{ status: string }>(`SELECT status FROM "ProtectionPair" WHERE id = $1`, [pairId])).rows[0]!.status,
    ).toBe('protected');
  } finally {
    await db.query(`DELETE FROM "ProtectionPair" WHERE id = $1`, [pairId]);
    await db.end();
  }
});
