// How the sender reaches the outside world: HTTP(S) POSTs over kept-alive connections, and one
// pooled nodemailer transport per organization's mail server. Nothing here logs a message body,
// a link or a password.
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import nodemailer, { type Transporter } from 'nodemailer';
import { literalAddressRefusal, PrivateAddressError, publicOnlyLookup, type PrivateAddressPolicy } from './address-policy.ts';

export const REQUEST_TIMEOUT_MS = 10_000;

// Kept-alive sockets: a burst of deliveries to one receiver reuses a few connections instead of
// a TCP (and TLS) handshake per message.
const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 64, maxFreeSockets: 64 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 64, maxFreeSockets: 64 }),
};

export interface HttpOutcome {
  /** The response status; absent when no response came (refused, reset, timed out, not allowed). */
  statusCode?: number;
  error?: string;
  /** The address is one webhooks may not reach (address-policy.ts): trying again will not help. */
  refused?: boolean;
}

/**
 * POSTs a JSON body; resolves with the status or the network error, never rejects. With the
 * policy "deny", private and reserved addresses are refused before any connection.
 */
export function postJson(url: string, headers: Record<string, string>, body: string, timeoutMs = REQUEST_TIMEOUT_MS, policy: PrivateAddressPolicy = 'allow'): Promise<HttpOutcome> {
  return new Promise((resolve) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      resolve({ error: 'The webhook URL is not valid' });
      return;
    }
    const secure = target.protocol === 'https:';
    if (!secure && target.protocol !== 'http:') {
      resolve({ error: 'The webhook URL must start with http:// or https://' });
      return;
    }
    const literal = literalAddressRefusal(target, policy);
    if (literal) {
      resolve({ error: literal, refused: true });
      return;
    }
    let settled = false;
    const finish = (o: HttpOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(o);
    };
    const req = (secure ? https : http).request(target, {
      method: 'POST',
      agent: secure ? agents.https : agents.http,
      ...(policy === 'deny' ? { lookup: publicOnlyLookup } : {}),
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'Tandem-Webhooks/1', ...headers },
    });
    // One deadline for the whole exchange (connect, send, answer), not just socket idleness.
    const timer = setTimeout(() => {
      finish({ error: `No answer within ${timeoutMs / 1000} s` });
      req.destroy();
    }, timeoutMs);
    req.on('response', (res) => {
      // Drain the answer so the socket goes back to the pool; its content is not kept.
      res.resume();
      res.on('end', () => finish({ statusCode: res.statusCode ?? 0 }));
      res.on('error', () => finish({ statusCode: res.statusCode ?? 0 }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => finish(err instanceof PrivateAddressError ? { error: err.message, refused: true } : { error: describeNetworkError(err) }));
    req.end(body);
  });
}

function describeNetworkError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'Connection refused';
    case 'ECONNRESET':
      return 'Connection reset by the receiver';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'The host name could not be resolved';
    case 'ETIMEDOUT':
      return 'Connection timed out';
    default:
      // Node's network messages carry addresses and codes, never the request body.
      return err.message || 'Network error';
  }
}

/** The organization's mail server settings, with the password opened (never stored opened). */
export interface SmtpConfig {
  host: string;
  port: number;
  security: string;
  username: string | null;
  password: string | null;
  fromAddress: string;
  fromName: string;
  /** Changes whenever any setting changes (computed from the stored row, sealed password included). */
  fingerprint: string;
}

export function smtpFingerprint(row: { host: string; port: number; security: string; username: string | null; passwordEnc: string | null }): string {
  return createHash('sha256').update(JSON.stringify([row.host, row.port, row.security, row.username, row.passwordEnc])).digest('hex');
}

type Mailer = Transporter;
const mailers = new Map<string, { fingerprint: string; mailer: Mailer }>();

/** The organization's pooled SMTP transport; rebuilt when its settings change. */
export function mailerFor(organizationId: string, cfg: SmtpConfig): Mailer {
  const cached = mailers.get(organizationId);
  if (cached && cached.fingerprint === cfg.fingerprint) return cached.mailer;
  cached?.mailer.close();
  const mailer = nodemailer.createTransport({
    pool: true,
    maxConnections: 3,
    host: cfg.host,
    port: cfg.port,
    secure: cfg.security === 'tls',
    requireTLS: cfg.security === 'starttls',
    ignoreTLS: cfg.security === 'none',
    auth: cfg.username ? { user: cfg.username, pass: cfg.password ?? '' } : undefined,
    connectionTimeout: REQUEST_TIMEOUT_MS,
    greetingTimeout: REQUEST_TIMEOUT_MS,
    socketTimeout: REQUEST_TIMEOUT_MS,
    logger: false,
    debug: false,
  });
  mailers.set(organizationId, { fingerprint: cfg.fingerprint, mailer });
  return mailer;
}

/** Closes every pooled connection (worker shutdown, tests). */
export function closeTransports() {
  for (const { mailer } of mailers.values()) mailer.close();
  mailers.clear();
  agents.http.destroy();
  agents.https.destroy();
  agents.http = new http.Agent({ keepAlive: true, maxSockets: 64, maxFreeSockets: 64 });
  agents.https = new https.Agent({ keepAlive: true, maxSockets: 64, maxFreeSockets: 64 });
}
