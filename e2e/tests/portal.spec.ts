import { expect, test } from '@playwright/test';
import { demoLogin, open, signIn, unique } from './helpers';

test('signed-out visitors are sent to sign-in; a wrong password is refused', async ({ page }) => {
  await page.goto('/customers');
  await expect(page).toHaveURL(/\/sign-in/);
  await signIn(page, `nobody-${unique()}@example.test`, 'not the password');
  await expect(page.getByText('Wrong e-mail or password.')).toBeVisible();
});

test('owner edits and deletes a customer with confirmation, and the audit page records it', async ({ page }) => {
  const name = `Initech ${unique()}`;
  await signIn(page, demoLogin.email, demoLogin.password);
  await open(page, '/customers');
  await page.getByRole('button', { name: 'New customer' }).click();
  await page.getByLabel('Name').fill(name);
  await page.getByRole('button', { name: 'Create customer' }).click();
  await page.getByRole('link', { name }).click();

  await page.getByRole('button', { name: 'Edit' }).click();
  await page.getByLabel('Notes').fill('Maintenance window: Sundays 02:00');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Maintenance window: Sundays 02:00')).toBeVisible();

  await page.getByRole('button', { name: `Delete ${name}…` }).click();
  const confirmButton = page.getByRole('button', { name: 'Delete permanently' });
  await expect(confirmButton).toBeDisabled();
  await page.getByLabel(`Type “${name}” to confirm`).fill(name);
  await confirmButton.click();
  await expect(page).toHaveURL(/\/customers$/);
  await expect(page.getByRole('link', { name })).toHaveCount(0);

  await open(page, '/audit');
  await page.getByLabel('Action').selectOption('customer.delete');
  await expect(page.getByTestId('audit-table')).toContainText(`Deleted customer "${name}"`);
  await expect(page.getByTestId('audit-table')).not.toContainText('Created customer');
});

test('invalid customer input shows a clear message and creates nothing', async ({ page }) => {
  await signIn(page, demoLogin.email, demoLogin.password);
  await open(page, '/customers');
  await page.getByRole('button', { name: 'New customer' }).click();
  await page.getByLabel('Name').fill('X');
  await page.getByRole('button', { name: 'Create customer' }).click();
  await expect(page.getByText('A customer name needs at least 2 characters')).toBeVisible();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('link', { name: 'X', exact: true })).toHaveCount(0);
});

test('organization switcher, dark mode and keyboard navigation', async ({ page }) => {
  await signIn(page, demoLogin.email, demoLogin.password);
  await expect(page.getByRole('link', { name: 'Northwind Traders' })).toBeVisible();

  await page.getByLabel('Organization').selectOption({ label: 'Sandbox MSP' });
  await page.getByRole('button', { name: 'Switch' }).click();
  await expect(page.getByRole('link', { name: 'Sandbox Customer' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Northwind Traders' })).toHaveCount(0);
  await page.getByLabel('Organization').selectOption({ label: 'Demo MSP' });
  await page.getByRole('button', { name: 'Switch' }).click();
  await expect(page.getByRole('link', { name: 'Northwind Traders' })).toBeVisible();

  const toggle = page.getByRole('button', { name: 'Dark mode' });
  const wasDark = await page.evaluate(() => document.documentElement.classList.contains('dark'));
  await toggle.click();
  expect(await page.evaluate(() => document.documentElement.classList.contains('dark'))).toBe(!wasDark);
  await page.reload();
  expect(await page.evaluate(() => document.documentElement.classList.contains('dark'))).toBe(!wasDark);

  // The first Tab reaches the skip link, Enter moves focus to the content.
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Skip to content' })).toBeFocused();
});
