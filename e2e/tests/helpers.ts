import { expect, type Page } from '@playwright/test';
import demoLogin from '../../packages/db/src/seed/demo-login.json' with { type: 'json' };

export { demoLogin };

/** Waits until React has attached to the page: before that, buttons do nothing. */
export async function hydrated(page: Page) {
  await page.locator('html[data-hydrated="true"]').waitFor({ state: 'attached' });
}

/** Opens a page with a full load and waits until it is interactive. */
export async function open(page: Page, path: string) {
  await page.goto(path);
  await hydrated(page);
}

/** Signs in; on success waits for the next page to be interactive. */
export async function signIn(page: Page, email: string, password: string) {
  await open(page, '/sign-in');
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const left = await Promise.race([
    page.waitForURL((u) => !u.pathname.startsWith('/sign-in')).then(() => true),
    page.getByText(/Wrong e-mail|Too many|6-digit code/).waitFor().then(() => false),
  ]);
  if (left) await hydrated(page);
}

export async function signOut(page: Page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/sign-in/);
  await hydrated(page);
}

export const unique = () => Math.random().toString(36).slice(2, 8);
