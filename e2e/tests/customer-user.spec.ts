import { expect, test } from '@playwright/test';
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
