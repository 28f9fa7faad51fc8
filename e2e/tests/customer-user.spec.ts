import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { expect, test } from '@playwright/test';
import { hashPassword } from '@tandem/security';
import { seedContosoPair } from './contoso-pair';
import { demoLogin, open, signIn, signOut, unique } from './helpers';

test('owner creates a customer, invites a customer user, who then sees only that customer', async ({ page }) => {
  const id = unique();
  const customerName = `Globex ${id}`;
  const inviteeEmail = `ciso-${id}@globex.test`;

  await signIn(page, demoLogin.email, demoLogin.password);
  await expect(page).toHaveURL(/\/dashboard$/);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Customers' }).click();
  await expect(page).toHaveURL(/\/customers$/);
  await expect(page.getByRole('link', { name: 'Northwind Traders' })).toBeVisible();

  // Create the customer.
  await page.getByRole('button', { name: 'New customer' }).click();
  await page.getByLabel('Name').fill(customerName);
  await page.getByLabel('Contact e-mail (optional)').fill(`it-${id}@globex.test`);
  await page.getByRole('button', { name: 'Create customer' }).click();
  await page.getByRole('link', { name: customerName }).click();
  await expect(page.getByRole('heading', { name: customerName, exact: true })).toBeVisible();

  // Invite a customer user (approver).
  await page.getByLabel('E-mail').fill(inviteeEmail);
  await page.getByLabel('Role').selectOption('approver');
  await page.getByRole('button', { name: 'Create invitation link' }).click();
  const link = await page.getByTestId('invitation-link').inputValue();
  expect(link).toMatch(/\/invite\/[A-Za-z0-9_-]{20,}$/);
  const customerUrl = page.url();
  await signOut(page);

  // Accept the invitation as a new person.
  await open(page, new URL(link).pathname);
  await expect(page.getByText(`invites you to follow ${customerName}`)).toBeVisible();
  await page.getByLabel('Your name').fill('Casey Globex');
  await page.getByLabel('Choose a password').fill('a long enough password');
  await page.getByRole('button', { name: 'Accept invitation' }).click();

  // Signed in as the customer user: lands on their own customer.
  await expect(page).toHaveURL(customerUrl);
  await expect(page.getByRole('heading', { name: customerName, exact: true })).toBeVisible();
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('link', { name: 'Customers' })).toHaveCount(0);
  await expect(nav.getByRole('link', { name: 'Dashboard' })).toHaveCount(0);
  await expect(nav.getByRole('link', { name: 'Users' })).toHaveCount(0);

  // The MSP pages send them back to their customer.
  await page.goto('/customers');
  await expect(page).toHaveURL(customerUrl);
  await page.goto('/users');
  await expect(page).toHaveURL(customerUrl);
  await page.goto('/dashboard');
  await expect(page).toHaveURL(customerUrl);

  // The API gives them only their own customer.
  const list = await page.request.get('/api/trpc/customer.list');
  const body = (await list.json()) as { result: { data: { name: string }[] } };
  expect(body.result.data.map((c) => c.name)).toEqual([customerName]);

  // Another customer's page is not found.
  await signOut(page);
  await signIn(page, inviteeEmail, 'a long enough password');
  await expect(page).toHaveURL(customerUrl);
  await page.goto('/customers/00000000-0000-4000-8000-000000000000');
  await expect(page.getByText(/could not be found|404/i).first()).toBeVisible();

  // Their audit trail shows their own customer's events only.
  await open(page, '/audit');
  const rows = page.getByTestId('audit-table').locator('tbody tr');
  await expect(rows.first()).toBeVisible();
  await expect(page.getByTestId('audit-table')).toContainText(`${inviteeEmail} joined customer "${customerName}"`);
  await expect(page.getByTestId('audit-table')).not.toContainText('Northwind');
});

test('a customer approver’s home: pairs with readiness, a decision waiting, test reports with their PDF, this month’s report as a page and a PDF, the audit trail; only a test failover to request, and a viewer not even that', async ({ page }) => {
  const db = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  const tag = unique();
  const pairId = randomUUID();
  const pairName = `Self-service ${tag}`;
  try {
    const ids = await seedContosoPair(db, { pairId, name: pairName, status: 'protected' });
    await db.query(`UPDATE "ProtectionPair" SET "readinessScore" = 87 WHERE id = $1`, [pairId]);
    // A finished test with its evidence report, and a failover waiting for the customer's answer.
    const testId = randomUUID();
    const at = new Date().toISOString();
    const report = {
      version: 1,
      operationId: testId,
      pair: { id: pairId, name: pairName, application: 'file_server', method: 'file', source: 'cd-files01', target: 'cd-files02' },
      customer: { id: ids.customer, name: 'Contoso Dental' },
      startedBy: { kind: 'user', name: 'Olivia Operator', email: null },
      startedAt: at,
      finishedAt: at,
      durationMs: 1_000,
      result: 'passed',
      error: null,
      copy: null,
      lag: { before: 1, during: 1, after: 1 },
      probes: [{ index: 0, kind: 'path', description: 'The share answers', passed: true, summary: 'ok', detail: '', durationMs: 5 }],
      timeline: [],
      cleanedUp: true,
      settings: {},
    };
    await db.query(
      `INSERT INTO "Operation" (id, "organizationId", "customerId", "pairId", kind, status, "dryRun", report, "startedAt", "finishedAt")
       VALUES ($1, $2, $3, $4, 'test_failover', 'succeeded', false, $5, now(), now())`,
      [testId, ids.org, ids.customer, pairId, report],
    );
    const { rows: ops } = await db.query<{ id: string }>(
      `INSERT INTO "Operation" (id, "organizationId", "customerId", "pairId", kind, status, options) VALUES (gen_random_uuid(), $1, $2, $3, 'failover', 'awaiting_approval', '{"mode":"immediate"}') RETURNING id`,
      [ids.org, ids.customer, pairId],
    );
    const { rows: approvals } = await db.query<{ id: string }>(
      `INSERT INTO "Approval" (id, "organizationId", "customerId", "operationId", "pairId", policy, "deadlineAt") VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, now() + interval '1 hour') RETURNING id`,
      [ids.org, ids.customer, ops[0]!.id, pairId, { approvers: 'customer', fourEyes: false, deadlineMinutes: 60, escalate: false, escalationEmails: [], onDeadline: 'abandon' }],
    );
    const person = async (role: 'approver' | 'viewer') => {
      const email = `${role}-${tag}@contoso.test`;
      const { rows } = await db.query<{ id: string }>(`INSERT INTO "User" (id, email, name, "passwordHash", "updatedAt") VALUES (gen_random_uuid(), $1, $2, $3, now()) RETURNING id`, [
        email,
        `Contoso ${role}`,
        await hashPassword('a long enough password'),
      ]);
      await db.query(`INSERT INTO "CustomerMembership" (id, "organizationId", "customerId", "userId", role) VALUES (gen_random_uuid(), $1, $2, $3, $4)`, [ids.org, ids.customer, rows[0]!.id, role]);
      return email;
    };
    const approver = await person('approver');
    const viewer = await person('viewer');

    // The approver lands on their company's page.
    await signIn(page, approver, 'a long enough password');
    await expect(page).toHaveURL(new RegExp(`/customers/${ids.customer}$`));
    const banner = page.getByTestId('decision-needed');
    await expect(banner).toContainText(`The failover of ${pairName} waits for approval`);
    await expect(banner.getByRole('link', { name: 'Review and decide' })).toHaveAttribute('href', `/approvals/${approvals[0]!.id}`);
    const row = page.getByTestId('pair-row').filter({ hasText: pairName });
    await expect(row.locator('[data-pair-status="protected"]')).toBeVisible();
    await expect(row.getByTestId('readiness-score')).toHaveText('Readiness 87/100');
    const nav = page.getByRole('navigation', { name: 'Main' });
    await expect(nav.getByRole('link', { name: 'Approvals' })).toBeVisible();
    await expect(nav.getByRole('link', { name: 'Audit' })).toBeVisible();
    await expect(nav.getByRole('link', { name: 'Reports' })).toHaveAttribute('href', `/customers/${ids.customer}/reports`);
    await expect(page.getByRole('list', { name: 'Your service' }).getByRole('link', { name: 'Monthly reports' })).toHaveAttribute('href', `/customers/${ids.customer}/reports`);
    await expect(page.getByRole('button', { name: 'Edit' })).toHaveCount(0);
    await expect(page.getByRole('link', { name: 'New protection' })).toHaveCount(0);

    // Their test reports, the page and the PDF.
    const tests = page.getByTestId('customer-test-reports').locator('tr').filter({ hasText: pairName });
    await expect(tests).toContainText('passed');
    const pdf = await page.request.get(`/api/reports/test/${testId}`);
    expect(pdf.status()).toBe(200);
    expect(pdf.headers()['content-type']).toContain('application/pdf');
    await tests.getByRole('link', { name: 'Open' }).click();
    await expect(page).toHaveURL(new RegExp(`/pairs/${pairId}/tests/${testId}$`));
    await expect(page.getByText(pairName).first()).toBeVisible();

    // Their monthly reports: this month's so far, as a page (the pair, the test with its outcome) and as a PDF.
    await open(page, `/customers/${ids.customer}`);
    await page.getByRole('list', { name: 'Your service' }).getByRole('link', { name: 'Monthly reports' }).click();
    const month = new Date().toISOString().slice(0, 7);
    const monthRow = page.getByRole('table', { name: 'Monthly reports' }).locator(`tr[data-month="${month}"]`);
    await expect(monthRow).toContainText('(so far)');
    const monthly = await page.request.get(`/api/reports/monthly/${ids.customer}/${month}`);
    expect(monthly.status()).toBe(200);
    expect(monthly.headers()['content-type']).toContain('application/pdf');
    expect((await monthly.body()).subarray(0, 5).toString()).toBe('%PDF-');
    await monthRow.getByRole('link').first().click();
    await expect(page).toHaveURL(new RegExp(`/customers/${ids.customer}/reports/${month}$`));
    const monthlyReport = page.getByTestId('monthly-report');
    await expect(monthlyReport.getByRole('heading', { level: 1 })).toContainText('Monthly report');
    await expect(monthlyReport.getByRole('table', { name: 'Pairs' })).toContainText(pairName);
    const testRun = monthlyReport.getByRole('table', { name: 'Failovers and tests' }).locator(`tr[data-kind="test_failover"][data-outcome="succeeded"]`).filter({ hasText: pairName });
    await expect(testRun).toHaveCount(1);
    await expect(monthlyReport.getByRole('link', { name: 'Download PDF' })).toHaveAttribute('href', `/api/reports/monthly/${ids.customer}/${month}`);
    // Another company's report is not theirs to read.
    expect((await page.request.get(`/api/reports/monthly/00000000-0000-4000-8000-000000000000/${month}`)).status()).toBe(404);

    // The pair page: a test failover to request, none of the MSP's controls.
    await open(page, `/customers/${ids.customer}/pairs/${pairId}`);
    const testRegion = page.getByRole('region', { name: 'Test failover' });
    // Not while the failover waits for its answer (the API refuses a second operation too)…
    await expect(testRegion.getByRole('button', { name: 'Request a test failover' })).toBeDisabled();
    await expect(testRegion).toContainText('Another operation is running on this pair.');
    // …and offered once nothing else runs on the pair.
    await db.query(`DELETE FROM "Approval" WHERE "pairId" = $1`, [pairId]);
    await db.query(`DELETE FROM "Operation" WHERE "pairId" = $1 AND kind = 'failover'`, [pairId]);
    await open(page, `/customers/${ids.customer}/pairs/${pairId}`);
    await testRegion.getByRole('button', { name: 'Request a test failover' }).click();
    // The dialog's dry run is requested in the approver's name (the test itself is not started here).
    const dialog = page.getByRole('dialog');
    await expect(dialog.getByRole('region', { name: 'Dry run' })).toBeVisible();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(page.getByRole('region', { name: 'Failover controls' })).toHaveCount(0);
    await expect(page.getByRole('button', { name: /Disable protection|Enable protection/ })).toHaveCount(0);
    await expect(page.getByRole('link', { name: /Edit configuration/ })).toHaveCount(0);

    // Their audit trail: their own company only.
    await open(page, '/audit');
    await expect(page.getByTestId('audit-table')).toContainText(`Previewed a test failover of "${pairName}"`);
    await expect(page.getByTestId('audit-table')).toContainText(approver);
    await expect(page.getByTestId('audit-table')).not.toContainText('Northwind');
    await signOut(page);

    // A viewer sees the same home (no decision waits any more) and requests no tests.
    await signIn(page, viewer, 'a long enough password');
    await expect(page.getByTestId('pair-row').filter({ hasText: pairName })).toBeVisible();
    await expect(page.getByTestId('decision-needed')).toHaveCount(0);
    await open(page, `/customers/${ids.customer}/pairs/${pairId}`);
    await expect(page.getByTestId('pair-status')).toBeVisible();
    await expect(page.getByRole('button', { name: 'Request a test failover' })).toHaveCount(0);
  } finally {
    await db.query(`DELETE FROM "Approval" WHERE "pairId" = $1`, [pairId]);
    await db.query(`DELETE FROM "Operation" WHERE "pairId" = $1`, [pairId]);
    await db.query(`DELETE FROM "ProtectionPair" WHERE id = $1`, [pairId]);
    await db.end();
  }
});
