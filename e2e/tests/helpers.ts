import { expect, type Page } from '@playwright/test';
import demoLogin from '../../packages/db/src/seed/demo-login.json' with { type: 'json' };

export { demoLogin };

export async function signIn(page: Page, email: string, password: string) {
  await page.goto('/sign-in');
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

export async function signOut(page: Page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/sign-in/);
}

export const unique = () => Math.random().toString(36).slice(2, 8);
