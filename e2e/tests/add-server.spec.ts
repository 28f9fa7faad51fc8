import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { demoLogin, signIn, unique } from './helpers';

const bundle = process.env.TANDEM_AGENT_BUNDLE ?? path.resolve(import.meta.dirname, '../../apps/agent/dist/tandem-agent.mjs');

test('Add server: paste the command, the server appears online with its facts and applications', async ({ page }) => {
  const hostname = `e2e-${unique()}`;
  await signIn(page, demoLogin.email, demoLogin.password);
  await page.getByRole('link', { name: 'Contoso Dental' }).click();
  await page.getByRole('button', { name: 'Add server' }).click();
  const command = (await page.getByTestId('enroll-command').textContent()) ?? '';
  expect(command).toContain('/agent/tandem-agent.mjs');

  // The page's command downloads the agent from the portal; fetch it the same way.
  const download = await page.request.get('/agent/tandem-agent.mjs');
  expect(download.ok()).toBe(true);
  expect((await download.body()).length).toBe(fs.statSync(bundle).size);

  // Run the enrol part of the command as an operator would, on "another machine" (a temp dir).
  const enroll = /tandem-agent enroll --url (\S+) --token=(\S+)/.exec(command);
  expect(enroll).not.toBeNull();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-e2e-agent-'));
  const config = path.join(dir, 'agent.json');
  const res = spawnSync(process.execPath, [bundle, 'enroll', '--url', enroll![1]!, `--token=${enroll![2]!}`, '--config', config, '--hooks-dir', path.join(dir, 'hooks'), '--hostname', hostname], {
    encoding: 'utf8',
  });
  expect(res.stdout).toContain('Enrolled as agent');
  const agent = spawn(process.execPath, [bundle, 'run', '--config', config], { stdio: 'ignore' });
  try {
    // It appears in the list, online, without reloading the page.
    const row = page.getByRole('row', { name: new RegExp(hostname) });
    await expect(row).toBeVisible({ timeout: 20_000 });
    await expect(row.getByText('online')).toBeVisible({ timeout: 20_000 });

    await row.getByRole('link', { name: hostname }).click();
    await expect(page.getByRole('heading', { name: hostname, exact: true })).toBeVisible();
    await expect(page.getByRole('heading', { name: 'Host' })).toBeVisible({ timeout: 20_000 });
    await expect(page.getByRole('heading', { name: 'Volumes' })).toBeVisible();
    await expect(page.getByRole('heading', { name: 'Services' })).toBeVisible();
    await page.getByRole('button', { name: 'Refresh facts' }).click();
    await expect(page.getByRole('button', { name: 'Refresh facts' })).toBeEnabled({ timeout: 20_000 });

    // This machine runs PostgreSQL (the test database), so coverage lists it as not yet protected.
    await page.getByRole('link', { name: '← Contoso Dental' }).click();
    const coverage = page.getByTestId('coverage-table');
    await expect(coverage.getByRole('row', { name: new RegExp(`${hostname}.*PostgreSQL.*not protected`) }).first()).toBeVisible({ timeout: 20_000 });
  } finally {
    // The agent writes its status file until it exits: remove its directory only after that.
    const exited = new Promise((resolve) => agent.once('exit', resolve));
    agent.kill('SIGTERM');
    await exited;
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
});
