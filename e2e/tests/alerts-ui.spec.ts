import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { expect, test } from '@playwright/test';
import { demoLogin, open, signIn, unique } from './helpers';

// The Alerts page end to end: an owner creates a webhook channel pointing at a receiver this spec
// starts, copies the signing secret shown once, presses "Send test"; the worker's dispatcher and
// sender deliver it, signed with that secret, and the delivery log shows it delivered with HTTP
// 200. After a reload the secret is nowhere on the page.

interface Received {
  headers: Record<string, string>;
  body: string;
}

/** A bare HTTP receiver: it records every request and answers 200 (signatures are checked by the test). */
async function startReceiver() {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) headers[name] = String(req.headers[name] ?? '');
      received.push({ headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/tandem-hook`,
    received,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

test('an owner creates a webhook channel, sees its secret once, sends a test, and the log shows it delivered', async ({ page }) => {
  test.setTimeout(120_000);
  const receiver = await startReceiver();
  const name = `Hook ${unique()}`;
  try {
    await signIn(page, demoLogin.email, demoLogin.password);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Alerts' }).click();
    await expect(page.getByRole('heading', { name: 'Alerts', level: 1 })).toBeVisible();

    await page.getByRole('button', { name: 'New channel' }).click();
    const form = page.getByRole('form', { name: 'New channel' });
    await form.getByLabel('Kind').selectOption('webhook');
    await form.getByLabel('Name').fill(name);
    await form.getByLabel('Payload').selectOption('standard');
    await form.getByLabel('URL').fill(receiver.url);
    await form.getByRole('button', { name: 'Create channel' }).click();

    const secretBox = page.getByTestId('signing-secret');
    await expect(secretBox).toHaveText(/^whsec_[A-Za-z0-9+/=]+$/);
    const secret = (await secretBox.textContent())!.trim();
    await page.getByRole('button', { name: 'Done' }).click();
    await expect(page.getByTestId('signing-secret')).toHaveCount(0);

    const row = page.locator('tr[data-channel]', { hasText: name });
    await expect(row).toContainText(receiver.url);
    await row.getByRole('button', { name: `Send test to ${name}` }).click();
    await expect(page.getByText('Test queued.')).toBeVisible();

    // The worker delivers it: wait for the receiver to hear it, then check the signature.
    await expect.poll(() => receiver.received.length, { timeout: 30_000 }).toBeGreaterThan(0);
    const hit = receiver.received[0]!;
    expect(() => new Webhook(secret).verify(hit.body, hit.headers)).not.toThrow();
    const body = JSON.parse(hit.body) as { type: string; data: { channelId?: string } };
    expect(body.type).toBe('alert.test');

    // The log (filtered to this channel) shows the delivery delivered with the receiver's 200.
    const log = page.getByRole('table', { name: 'Delivery log' });
    await page.getByLabel('Filter by channel').selectOption({ label: name });
    const delivered = log.locator(`tr[data-delivery="${hit.headers['webhook-id']}"]`);
    await expect(delivered).toHaveAttribute('data-status', 'delivered', { timeout: 20_000 });
    await expect(delivered).toContainText('200');
    await expect(delivered).toContainText('alert.test');
    await expect(delivered.getByRole('button', { name: /Redeliver/ })).toBeVisible();

    // Shown once: after a reload the secret is not on the page.
    await open(page, '/alerts');
    await expect(page.locator('tr[data-channel]', { hasText: name })).toBeVisible();
    expect(await page.content()).not.toContain(secret);
  } finally {
    await receiver.stop();
    const db = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await db.connect();
    await db.query(`DELETE FROM "AlertChannel" WHERE name = $1`, [name]).finally(() => db.end());
  }
});
