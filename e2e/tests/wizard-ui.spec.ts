import pg from 'pg';
import { expect, test, type Page } from '@playwright/test';
import { demoLogin, hydrated, signIn, unique } from './helpers';

// The new-protection wizard without agents: the demo seed's Contoso Dental servers cd-files01
// (Linux, an SMB share, facts reported) and cd-files02 (Linux) are a valid pair; cd-win01
// (Windows) is greyed out as a target and cd-db01 (no agent) as a source.

async function pairCount(db: pg.Client, name: string) {
  const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM "ProtectionPair" WHERE name = $1`, [name]);
  return Number(rows[0]!.n);
}

async function openWizard(page: Page) {
  await signIn(page, demoLogin.email, demoLogin.password);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Customers' }).click();
  await expect(page).toHaveURL(/\/customers$/);
  await page.getByRole('link', { name: 'Contoso Dental' }).click();
  await expect(page.getByRole('heading', { name: 'Contoso Dental', exact: true })).toBeVisible();
  await page.getByRole('link', { name: 'New protection' }).click();
  await expect(page.getByRole('heading', { name: 'New protection' })).toBeVisible();
  await hydrated(page);
}

test('the wizard creates an unprotected pair and refuses invalid settings', async ({ page }) => {
  const db = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  const name = `e2e-wizard-${unique()}`;
  try {
    await openWizard(page);

    // Step 1: sources. A server without an agent is listed but cannot be chosen.
    const sources = page.getByRole('radiogroup', { name: 'Source server' });
    await expect(sources.getByRole('radio', { name: 'cd-files01' })).toBeEnabled();
    await expect(sources.getByRole('radio', { name: 'cd-db01' })).toBeDisabled();
    await expect(page.locator('[data-server="cd-db01"]')).toContainText('No agent enrolled');
    await sources.getByRole('radio', { name: 'cd-files01' }).check();
    await page.getByRole('button', { name: 'Next', exact: true }).click();

    // Step 2: the discovered application.
    const apps = page.getByRole('radiogroup', { name: 'Application' });
    await expect(apps.getByRole('radio', { name: 'PostgreSQL' })).toBeDisabled();
    await apps.getByRole('radio', { name: 'File server' }).check();
    await expect(page.locator('[data-application="file_server"]')).toContainText('practice');
    await page.getByRole('button', { name: 'Next', exact: true }).click();

    // Step 3: targets; the Windows server is greyed out with the reason.
    const targets = page.getByRole('radiogroup', { name: 'Target server' });
    await expect(targets.getByRole('radio', { name: 'cd-win01' })).toBeDisabled();
    await expect(page.locator('[data-server="cd-win01"]')).toContainText('Runs Windows; the source runs Linux');
    await targets.getByRole('radio', { name: 'cd-files02' }).check();
    await page.getByRole('button', { name: 'Next', exact: true }).click();

    // Step 4: settings pre-filled from the defaults.
    await expect(page.getByLabel('Name', { exact: true })).toHaveValue('File server on cd-files01');
    await expect(page.getByLabel('Interval (seconds)')).toHaveValue('5');
    await expect(page.getByLabel('Missed probes')).toHaveValue('5');
    await expect(page.getByLabel('Replication route (target address)')).toHaveValue('10.20.2.20');
    await expect(page.getByRole('list', { name: 'Directories to protect' })).toContainText('/srv/practice');
    await expect(page.getByRole('list', { name: 'Services to start on the target' })).toContainText('smbd');
    await expect(page.getByRole('radio', { name: 'DNS' })).toBeChecked();
    await expect(page.getByText(/TTL Tandem sets on the source’s records/)).toBeVisible(); // help text from settingsHelp

    // The zone is proposed from the source's domain.
    await expect(page.getByLabel('DNS zone')).toHaveValue('contoso-dental.test');

    await page.getByLabel('Name', { exact: true }).fill(name);
    // DNS failover without a zone, and an interval of 0: refused with the field messages.
    await page.getByLabel('DNS zone').fill('');
    await page.getByLabel('Interval (seconds)').fill('0');
    await page.getByRole('button', { name: 'Next', exact: true }).click();
    await expect(page.getByText('The interval is at least 1 second').first()).toBeVisible();
    await expect(page.getByText('DNS failover needs the zone that holds the source’s records').first()).toBeVisible();
    await expect(page.getByLabel('DNS zone')).toHaveAttribute('aria-invalid', 'true');
    await expect(page.getByRole('heading', { name: 'Review' })).toHaveCount(0);
    expect(await pairCount(db, name)).toBe(0);

    // Target-only detection warns.
    await page.getByRole('radio', { name: 'Target only' }).check();
    await expect(page.getByTestId('target-only-warning')).toContainText('Manual intervention');
    await page.getByRole('radio', { name: /Target and control plane/ }).check();
    await expect(page.getByTestId('target-only-warning')).toHaveCount(0);

    // Fix them: a sane interval, a DNS server and the zone.
    await page.getByLabel('Interval (seconds)').fill('5');
    await page.getByRole('textbox', { name: 'Add DNS server: DNS servers' }).fill('10.20.1.2');
    await page.getByRole('button', { name: 'Add DNS server to DNS servers' }).click();
    await page.getByLabel('DNS zone').fill('contoso-dental.test');
    // The data route: through the gateway relay, the target's address and data port are not asked for.
    await page.getByRole('radio', { name: /Relay through Tandem/ }).check();
    await expect(page.getByTestId('relay-note')).toBeVisible();
    await expect(page.getByLabel('Replication route (target address)')).toHaveCount(0);
    await expect(page.getByLabel('Data port (TCP)')).toHaveCount(0);
    await page.getByRole('button', { name: 'Next', exact: true }).click();

    // Step 5: review and create.
    await expect(page.getByRole('heading', { name: 'Review' })).toBeVisible();
    await expect(page.getByTestId('review')).toContainText('cd-files01 → cd-files02');
    await expect(page.getByTestId('review')).toContainText('contoso-dental.test');
    await expect(page.getByTestId('review')).toContainText('through the Tandem gateway relay');
    await page.getByRole('button', { name: 'Create protection' }).click();

    // Lands on the new pair's page, unprotected.
    await expect(page).toHaveURL(/\/customers\/[0-9a-f-]+\/pairs\/[0-9a-f-]{36}$/);
    await expect(page.getByRole('heading', { name, exact: true })).toBeVisible();
    await expect(page.getByTestId('pair-status').locator('[data-pair-status="unprotected"]')).toHaveText('Unprotected');
    await expect(page.getByTestId('pair-status').locator('[data-monitoring-status="off"]')).toBeVisible();
    await expect(page.getByRole('button', { name: 'Enable protection' })).toBeEnabled();
    await expect(page.getByRole('link', { name: 'Edit configuration' })).toBeVisible();
    await expect(page.locator('[data-event="configuration"]').first()).toContainText('cd-files01 → cd-files02');
    expect(await pairCount(db, name)).toBe(1);
    const route = await db.query<{ mode: string }>(`SELECT "connectionSettings"->>'routeMode' AS mode FROM "ProtectionPair" WHERE name = $1`, [name]);
    expect(route.rows[0]?.mode).toBe('relay');

    // The enable dialog offers monitoring, on by default (not started here: no agents).
    await page.getByRole('button', { name: 'Enable protection' }).click();
    await expect(page.getByRole('checkbox', { name: /With failure monitoring/ })).toBeChecked();
    await page.getByRole('button', { name: 'Cancel' }).click();

    // The same form edits it: a bad TTL is refused, a good one saved.
    await page.getByRole('link', { name: 'Edit configuration' }).click();
    await expect(page.getByRole('heading', { name: 'Edit configuration' })).toBeVisible();
    await hydrated(page);
    await expect(page.getByLabel('DNS zone')).toHaveValue('contoso-dental.test');
    await page.getByLabel('TTL (seconds)').fill('-1');
    await page.getByRole('button', { name: 'Save configuration' }).click();
    await expect(page.getByText('The TTL cannot be negative').first()).toBeVisible();
    await page.getByLabel('TTL (seconds)').fill('60');
    // Big files updated in place: the threshold appears with a proposal, a bad one is refused.
    await expect(page.getByLabel('In place from (MiB)')).toHaveCount(0);
    await page.getByLabel('Changed files on the target').selectOption('in-place');
    await expect(page.getByLabel('In place from (MiB)')).toHaveValue('64');
    await page.getByLabel('In place from (MiB)').fill('0');
    await page.getByRole('button', { name: 'Save configuration' }).click();
    await expect(page.getByText('At least 1 MiB').first()).toBeVisible();
    await page.getByLabel('In place from (MiB)').fill('128');
    await page.getByRole('button', { name: 'Save configuration' }).click();
    await expect(page.getByRole('heading', { name, exact: true })).toBeVisible();
    await expect(page.locator('[data-event="configuration"]').first()).toContainText('Configuration changed');
    const { rows } = await db.query<{ ttl: number }>(
      `SELECT ("dnsSettings"->>'ttlSeconds')::int AS ttl FROM "ProtectionPair" WHERE name = $1`,
      [name],
    );
    expect(rows[0]!.ttl).toBe(60);
    const inPlace = await db.query<{ mib: number }>(`SELECT ("connectionSettings"->>'inPlaceFromMiB')::int AS mib FROM "ProtectionPair" WHERE name = $1`, [name]);
    expect(inPlace.rows[0]!.mib).toBe(128);
  } finally {
    await db.query(`DELETE FROM "ProtectionPair" WHERE name = $1`, [name]);
    await db.end();
  }
});
