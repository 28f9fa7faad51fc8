import { expect, test } from '@playwright/test';
import { demoLogin, open, signIn, signOut } from './helpers';

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
