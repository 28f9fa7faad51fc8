// A webhook receiver on 127.0.0.1 for alerting tests. It verifies every delivery's Standard
// Webhooks signature with the `standardwebhooks` package (which also refuses stale timestamps),
// refuses a webhook-id it has already accepted (a replay), and can fail the first N attempts of
// each message to exercise retries.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  json: unknown;
  /** 2xx answered (accepted), or the status we answered with. */
  status: number;
  verified: boolean;
  replay: boolean;
  receivedAt: number;
}

export interface WebhookReceiver {
  url: string;
  /** Every request, in order (failed and refused ones too). */
  requests: ReceivedWebhook[];
  /** Accepted deliveries only (verified, first time, not deliberately failed). */
  accepted: () => ReceivedWebhook[];
  /** Fail the first n attempts of each webhook-id with HTTP 503. */
  failFirst: (n: number) => void;
  waitForAccepted: (count: number, timeoutMs?: number) => Promise<ReceivedWebhook[]>;
  stop: () => Promise<void>;
}

/** `secret`: the channel's signing secret (whsec_…); null accepts unsigned bodies (Slack/Teams/PagerDuty presets). */
export async function startWebhookReceiver(secret: string | null, opts: { path?: string } = {}): Promise<WebhookReceiver> {
  const wh = secret ? new Webhook(secret) : null;
  const requests: ReceivedWebhook[] = [];
  const acceptedIds = new Set<string>();
  const attemptsById = new Map<string, number>();
  let failFirst = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const h = (name: string) => String(req.headers[name] ?? '');
      const id = h('webhook-id');
      const record: ReceivedWebhook = { id, timestamp: h('webhook-timestamp'), signature: h('webhook-signature'), body, json: null, status: 0, verified: false, replay: false, receivedAt: Date.now() };
      try {
        record.json = JSON.parse(body);
      } catch {
        record.json = null;
      }
      let status = 200;
      if (wh) {
        try {
          wh.verify(body, { 'webhook-id': id, 'webhook-timestamp': record.timestamp, 'webhook-signature': record.signature });
          record.verified = true;
        } catch {
          status = 401;
        }
      } else {
        record.verified = true;
      }
      if (status === 200 && id && acceptedIds.has(id)) {
        record.replay = true;
        status = 409;
      }
      if (status === 200) {
        const n = (attemptsById.get(id) ?? 0) + 1;
        attemptsById.set(id, n);
        if (n <= failFirst) status = 503;
      }
      if (status === 200 && id) acceptedIds.add(id);
      record.status = status;
      requests.push(record);
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const accepted = () => requests.filter((r) => r.status === 200);
  return {
    url: `http://127.0.0.1:${port}${opts.path ?? '/hook'}`,
    requests,
    accepted,
    failFirst: (n) => {
      failFirst = n;
    },
    async waitForAccepted(count, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (accepted().length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} accepted webhooks within ${timeoutMs} ms, got ${accepted().length} (${requests.length} requests)`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return accepted();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
