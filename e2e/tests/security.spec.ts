import { expect, test } from '@playwright/test';
import { demoLogin, hydrated, open, signIn, signOut, unique } from './helpers';

test('pages carry a Content-Security-Policy and Permissions-Policy, and the portal works under them', async ({ page }) => {
  const violations: string[] = [];
  page.on('console', (msg) => {
    if (/Content[- ]Security[- ]Policy|Refused to (load|execute|apply|connect|frame)/i.test(msg.text())) violations.push(msg.text());
  });
  const res = await page.goto('/sign-in');
  const headers = res!.headers();
  expect(headers['content-security-policy']).toContain("default-src 'self'");
  expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
  expect(headers['content-security-policy']).toContain("object-src 'none'");
  expect(headers['permissions-policy']).toContain('camera=()');
  await signIn(page, demoLogin.email, demoLogin.password);
  await open(page, '/dashboard');
  await open(page, '/customers');
  await open(page, '/account');
  await expect(page.getByRole('heading', { name: /Two-factor sign-in/ })).toBeVisible();
  expect(violations).toEqual([]);
});

test('signing out ends the session on the server: a copy of the old cookies no longer opens the portal', async ({ page, browser }) => {
  await signIn(page, demoLogin.email, demoLogin.password);
  await open(page, '/customers');
  const copied = await page.context().cookies();
  await signOut(page);

  const other = await browser.newContext({ baseURL: test.info().project.use.baseURL });
  try {
    await other.addCookies(copied);
    const stolen = await other.newPage();
    await stolen.goto('/customers');
    await expect(stolen).toHaveURL(/\/sign-in/);
    const session = await stolen.request.get('/api/auth/session');
    expect(await session.json()).toBeNull();
  } finally {
    await other.close();
  }
});

test('someone who already has an account accepts an invitation by signing in, never by typing a password on the invite page', async ({ page }) => {
  const email = `two-customers-${unique()}@example.test`;
  const password = 'a long enough password';

  /** As the demo owner: invites `email` to a demo customer as viewer; returns the link's path and the customer page. */
  async function invite(customer: string) {
    await signIn(page, demoLogin.email, demoLogin.password);
    await open(page, '/customers');
    await page.getByRole('link', { name: customer }).click();
    await expect(page.getByRole('heading', { name: customer, exact: true })).toBeVisible();
    const customerUrl = page.url();
    await page.getByLabel('E-mail').fill(email);
    await page.getByLabel('Role').selectOption('viewer');
    await page.getByRole('button', { name: 'Create invitation link' }).click();
    const link = await page.getByTestId('invitation-link').inputValue();
    await signOut(page);
    return { path: new URL(link).pathname, customerUrl };
  }

  // The account is made through a first invitation.
  const first = await invite('Northwind Traders');
  await open(page, first.path);
  await page.getByLabel('Your name').fill('Dana Twocustomers');
  await page.getByLabel('Choose a password').fill(password);
  await page.getByRole('button', { name: 'Accept invitation' }).click();
  await expect(page).toHaveURL(first.customerUrl);
  await hydrated(page);
  await signOut(page);

  // The second invitation, opened signed out, offers "sign in as", and asks for no password.
  const second = await invite('Fabrikam Legal');
  await open(page, second.path);
  await expect(page.getByText(`Already have a Tandem account with ${email}?`)).toBeVisible();
  await expect(page.getByLabel('Your current password')).toHaveCount(0);
  await page.getByRole('link', { name: `Sign in as ${email}` }).click();
  await expect(page).toHaveURL(/\/sign-in\?next=/);
  await hydrated(page);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();

  // Back on the invitation, signed in as the invited address: one click.
  await expect(page).toHaveURL(new RegExp(`${second.path}$`));
  await hydrated(page);
  await expect(page.getByText('You are signed in as')).toBeVisible();
  await page.getByRole('button', { name: 'Accept invitation' }).click();
  await expect(page).not.toHaveURL(/\/invite\//);
  await hydrated(page);
  // Now a user of both customers: switching to the new one opens its page.
  await page.getByLabel('Organization').selectOption({ label: 'Fabrikam Legal (Demo MSP)' });
  await page.getByRole('button', { name: 'Switch' }).click();
  await expect(page).toHaveURL(second.customerUrl);
  await expect(page.getByRole('heading', { name: 'Fabrikam Legal', exact: true })).toBeVisible();
});

test('changing the password signs out the other browsers; the new password signs in and the old one not', async ({ page, browser }) => {
  const email = `password-change-${unique()}@example.test`;
  const oldPassword = 'a long enough password';
  const newPassword = 'another long enough password';

  // An account of its own (made through an invitation), so the demo login keeps its password.
  await signIn(page, demoLogin.email, demoLogin.password);
  await open(page, '/customers');
  await page.getByRole('link', { name: 'Northwind Traders' }).click();
  await expect(page.getByRole('heading', { name: 'Northwind Traders', exact: true })).toBeVisible();
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Role').selectOption('viewer');
  await page.getByRole('button', { name: 'Create invitation link' }).click();
  const link = await page.getByTestId('invitation-link').inputValue();
  await signOut(page);
  await open(page, new URL(link).pathname);
  await page.getByLabel('Your name').fill('Pat Passwordchange');
  await page.getByLabel('Choose a password').fill(oldPassword);
  await page.getByRole('button', { name: 'Accept invitation' }).click();
  await expect(page).not.toHaveURL(/\/invite\//);
  await hydrated(page);

  // A second browser signed in as the same person.
  const other = await browser.newContext({ baseURL: test.info().project.use.baseURL });
  try {
    const elsewhere = await other.newPage();
    await signIn(elsewhere, email, oldPassword);
    await open(elsewhere, '/account');
    await expect(elsewhere.getByRole('heading', { name: 'Password' })).toBeVisible();

    await open(page, '/account');
    await page.getByLabel('Current password').fill('not the password at all');
    await page.getByLabel('New password').fill(newPassword);
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect(page.getByText('Wrong password')).toBeVisible();
    await page.getByLabel('Current password').fill(oldPassword);
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect(page.getByText(/Password changed\. 1 other session signed out\./)).toBeVisible();

    // This browser stays signed in; the other one is out.
    await open(page, '/account');
    await expect(page.getByRole('heading', { name: 'Password' })).toBeVisible();
    await elsewhere.goto('/account');
    await expect(elsewhere).toHaveURL(/\/sign-in/);
    await signIn(elsewhere, email, oldPassword);
    await expect(elsewhere.getByText(/Wrong e-mail or password/)).toBeVisible();
    await signIn(elsewhere, email, newPassword);
    await expect(elsewhere).not.toHaveURL(/\/sign-in/);
  } finally {
    await other.close();
  }
});
