// The alert sender: claims due deliveries (every tenant, via claim_alert_deliveries), sends them
// concurrently — e-mail through the organization's mail server, webhooks signed the Standard
// Webhooks way — and records every attempt in one statement per batch. A failed attempt is tried
// again with backoff (engine nextAttemptAt) for up to a day.
//
// Webhook answers: 2xx delivered. 408, 429, 5xx, no answer, a network error or 10 s without an
// answer: tried again. 410 Gone and every other 4xx (and 3xx: redirects are not followed) fail at
// once — the receiver has told us the message will never be accepted as sent, so repeating it for
// a day only adds noise; a person can redeliver it once the receiver is fixed.
// E-mail: SMTP 5xx replies (mailbox unknown, message refused) fail at once, except login failures
// (530/534/535/538), which like 4xx replies and connection errors are tried again — someone may fix
// the settings. With no mail server set up the delivery waits (and retries) for one.
//
// Secrets: the channel's signing secret / PagerDuty routing key (sealed with
// `alert-channel:<channelId>`), the mail password (`smtp:<organizationId>`) and a person's one-time
// link (`delivery-link`) are opened here, used, and never stored opened or logged.
import { performance } from 'node:perf_hooks';
import { readMonthlyReport, withTenant, type Db } from '@tandem/db';
import { LINK_PLACEHOLDER, nextAttemptAt, renderedMessageSchema, type EmailAttachment, type RenderedEmail, type RenderedWebhook } from '@tandem/engine';
import { monthlyReportFileName, renderMonthlyReportPdf } from '@tandem/reports';
import { openSecret } from '@tandem/security';
import { Webhook } from 'standardwebhooks';
import type { PrivateAddressPolicy } from './address-policy.ts';
import { mailerFor, postJson, smtpFingerprint, type SmtpConfig } from './transports.ts';

export const channelSecretContext = (channelId: string) => `alert-channel:${channelId}`;
export const smtpPasswordContext = (organizationId: string) => `smtp:${organizationId}`;
export const DELIVERY_LINK_CONTEXT = 'delivery-link';
export const NO_MAIL_SERVER = 'No mail server is set up for this organization';

export interface SendOptions {
  /** The portal's address: a link stored as a path is made absolute with it. */
  portalUrl?: string;
  /** Backoff base (default 30 s; tests pass a few milliseconds). */
  retryBaseMs?: number;
  /** Deliveries in flight at once (default 32). */
  concurrency?: number;
  /** Hand back, untried, a claimed delivery whose turn comes this long after the claim (default 30 s; tests shorten it). */
  releaseAfterMs?: number;
  /** Deliveries claimed at a time (default 200). */
  batch?: number;
  /** Keep claiming batches while they come back full, for up to this long (default 20 s). */
  budgetMs?: number;
  /** Whether webhooks may reach private and reserved addresses (address-policy.ts; default allow, the worker passes its setting). */
  privateAddresses?: PrivateAddressPolicy;
  /** Tests only: send these organizations' deliveries and no others (test files share a database). */
  organizationIds?: string[];
}

export interface SendResult {
  sent: number;
  retried: number;
  failed: number;
  /** The earliest retry scheduled by this call (the caller may wake up for it). */
  nextRetryAt: Date | null;
}

interface Claimed {
  id: string;
  organizationId: string;
  customerId: string | null;
  channelId: string | null;
  kind: 'email' | 'webhook';
  recipient: string;
  event: string;
  payload: unknown;
  linkEnc: string | null;
  attempts: number;
  createdAt: Date;
}

type Verdict = 'delivered' | 'retry' | 'failed';
interface Attempt {
  verdict: Verdict;
  statusCode?: number;
  error?: string;
}

/** What one organization's deliveries in a batch need: its mail server and its channels' secrets. */
interface OrgContext {
  smtp: SmtpConfig | null;
  smtpError: string | null;
  secrets: Map<string, { secret: string | null; error: string | null }>;
  /** Channels turned off since their deliveries were queued: those are not sent. */
  disabled: Set<string>;
}

export const CHANNEL_OFF = 'Not sent: the channel was turned off before this message went out';

// A claim outlives the slowest attempt (10 s) with room to record it; a crashed sender's rows come
// back after this.
const LEASE_SECONDS = 60;
// A claimed delivery whose turn comes this late in its batch (slow receivers ahead of it, or a
// batch claimed ahead while the last was out) is not tried but handed back: an attempt started
// later could outlast the lease, and another sender could then send the same message as well.
const RELEASE_AFTER_MS = 30_000;

export async function sendDueDeliveries(db: Db, opts: SendOptions = {}): Promise<SendResult> {
  const batch = opts.batch ?? 200;
  const budgetMs = opts.budgetMs ?? 20_000;
  const started = performance.now();
  const total: SendResult = { sent: 0, retried: 0, failed: 0, nextRetryAt: null };
  const orgs = opts.organizationIds;
  const claim = async (): Promise<ClaimedBatch> => {
    const rows = await (orgs
      ? db.$queryRaw<Claimed[]>`SELECT * FROM claim_alert_deliveries_of(${orgs}::text[], ${batch}::int, ${LEASE_SECONDS}::int)`
      : db.$queryRaw<Claimed[]>`SELECT * FROM claim_alert_deliveries(${batch}::int, ${LEASE_SECONDS}::int)`);
    return Object.assign(rows, { claimedAt: performance.now() });
  };
  // A pipeline: the next batch is claimed, and the last one recorded, while this one is out.
  let next: Promise<ClaimedBatch> | null = claim();
  let recording: Promise<unknown> = Promise.resolve();
  try {
    while (next) {
      const claimed = await next;
      next = null;
      if (claimed.length === 0) break;
      // A full batch suggests more are due.
      if (claimed.length === batch && performance.now() - started < budgetMs) {
        next = claim();
        next.catch(() => {}); // awaited (and its error thrown) on the next turn
      }
      const { result, rows } = await sendBatch(db, claimed, opts);
      total.sent += result.sent;
      total.retried += result.retried;
      total.failed += result.failed;
      if (result.nextRetryAt && (!total.nextRetryAt || result.nextRetryAt < total.nextRetryAt)) total.nextRetryAt = result.nextRetryAt;
      await recording;
      recording = db.$queryRaw`SELECT record_alert_delivery_results(${JSON.stringify(rows)}::jsonb)`;
      recording.catch(() => {}); // awaited below
    }
  } finally {
    await recording;
  }
  return total;
}

/** Claimed rows, with when the claim came back (its lease runs from about then). */
type ClaimedBatch = Claimed[] & { claimedAt: number };

/** Sends one claimed batch; returns the counts and the rows for record_alert_delivery_results. */
async function sendBatch(db: Db, claimed: ClaimedBatch, opts: SendOptions): Promise<{ result: SendResult; rows: object[] }> {
  const contexts = await loadContexts(db, claimed);
  // One rendering per document and batch: a report mailed to ten addresses is made once.
  const files = new Map<string, Promise<File | null>>();
  const fileOf = (organizationId: string, a: EmailAttachment) => {
    const key = `${organizationId}:${a.kind}:${a.customerId}:${a.month}`;
    let f = files.get(key);
    if (!f) {
      f = makeAttachment(db, organizationId, a);
      files.set(key, f);
    }
    return f;
  };
  const webhooks = new Map<string, Webhook>();
  // null: handed back untried (RELEASE_AFTER_MS).
  const results = new Array<{ attempt: Attempt; at: Date; ms: number } | null>(claimed.length);
  let next = 0;
  const lanes = Math.max(1, Math.min(opts.concurrency ?? 32, claimed.length));
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < claimed.length) {
        const i = next++;
        const d = claimed[i]!;
        if (performance.now() - claimed.claimedAt > (opts.releaseAfterMs ?? RELEASE_AFTER_MS)) {
          results[i] = null;
          continue;
        }
        const at = new Date();
        const t0 = performance.now();
        let attempt: Attempt;
        try {
          const ctx = contexts.get(d.organizationId)!;
          // A channel's own test goes out even while it is off (that is how it is checked before it is turned on).
          if (d.channelId && ctx.disabled.has(d.channelId) && d.event !== 'alert.test') attempt = { verdict: 'failed', error: CHANNEL_OFF };
          else attempt = d.kind === 'email' ? await sendEmail(d, ctx, opts, fileOf) : await sendWebhook(d, ctx, webhooks, opts);
        } catch (err) {
          // A bug or an unexpected library error: keep the delivery, try again later.
          attempt = { verdict: 'retry', error: `Unexpected error: ${err instanceof Error ? err.message : String(err)}` };
        }
        results[i] = { attempt, at, ms: Math.round(performance.now() - t0) };
      }
    }),
  );

  const out: SendResult = { sent: 0, retried: 0, failed: 0, nextRetryAt: null };
  const rows = claimed.map((d, i) => {
    const result = results[i];
    // Untried: the claim and its count are undone, so it is due again at once for any sender.
    if (!result) return { id: d.id, attempt: d.attempts, status: 'released', nextAttemptAt: null, statusCode: null, error: null, entry: null };
    const { attempt, at, ms } = result;
    let status: Verdict | 'pending' = attempt.verdict;
    let retryAt: Date | null = null;
    if (attempt.verdict === 'retry') {
      retryAt = nextAttemptAt(d.attempts, new Date(d.createdAt), new Date(), { baseMs: opts.retryBaseMs });
      status = retryAt ? 'pending' : 'failed';
    }
    if (status === 'delivered') out.sent++;
    else if (status === 'pending') {
      out.retried++;
      if (retryAt && (!out.nextRetryAt || retryAt < out.nextRetryAt)) out.nextRetryAt = retryAt;
    } else out.failed++;
    const error = attempt.error ? attempt.error.slice(0, 500) : undefined;
    const lastError = status === 'failed' && attempt.verdict === 'retry' ? `${error ?? 'Not delivered'} (gave up: retried for a day)` : (error ?? null);
    return {
      id: d.id,
      attempt: d.attempts,
      status,
      nextAttemptAt: retryAt?.toISOString() ?? null,
      statusCode: attempt.statusCode ?? null,
      error: lastError,
      entry: { at: at.toISOString(), ms, ...(attempt.statusCode !== undefined ? { statusCode: attempt.statusCode } : {}), ...(error ? { error } : {}) },
    };
  });
  return { result: out, rows };
}

async function loadContexts(db: Db, claimed: Claimed[]): Promise<Map<string, OrgContext>> {
  const byOrg = new Map<string, { email: boolean; channels: Set<string> }>();
  for (const d of claimed) {
    const o = byOrg.get(d.organizationId) ?? { email: false, channels: new Set<string>() };
    if (d.kind === 'email') o.email = true;
    if (d.channelId) o.channels.add(d.channelId);
    byOrg.set(d.organizationId, o);
  }
  const contexts = new Map<string, OrgContext>();
  await Promise.all(
    [...byOrg].map(async ([organizationId, need]) => {
      const { smtp, channels } = await withTenant(
        { organizationId, customerId: null, userId: null },
        async (tx) => ({
          smtp: need.email ? await tx.smtpSettings.findUnique({ where: { organizationId } }) : null,
          channels: need.channels.size ? await tx.alertChannel.findMany({ where: { id: { in: [...need.channels] } }, select: { id: true, secretEnc: true, enabled: true } }) : [],
        }),
        db,
      );
      const ctx: OrgContext = { smtp: null, smtpError: need.email ? NO_MAIL_SERVER : null, secrets: new Map(), disabled: new Set(channels.filter((c) => !c.enabled).map((c) => c.id)) };
      if (smtp) {
        try {
          ctx.smtp = {
            host: smtp.host,
            port: smtp.port,
            security: smtp.security,
            username: smtp.username,
            password: smtp.passwordEnc ? openSecret(smtp.passwordEnc, smtpPasswordContext(organizationId)) : null,
            fromAddress: smtp.fromAddress,
            fromName: smtp.fromName,
            fingerprint: smtpFingerprint(smtp),
          };
          ctx.smtpError = null;
        } catch {
          ctx.smtpError = "The mail server's password could not be opened; enter it again in the mail settings";
        }
      }
      for (const c of channels) {
        if (!c.secretEnc) ctx.secrets.set(c.id, { secret: null, error: null });
        else {
          try {
            ctx.secrets.set(c.id, { secret: openSecret(c.secretEnc, channelSecretContext(c.id)), error: null });
          } catch {
            ctx.secrets.set(c.id, { secret: null, error: "The channel's secret could not be opened; set it again" });
          }
        }
      }
      contexts.set(organizationId, ctx);
    }),
  );
  return contexts;
}

function openLink(d: Claimed, opts: SendOptions): string | null {
  if (!d.linkEnc) return null;
  const link = openSecret(d.linkEnc, DELIVERY_LINK_CONTEXT);
  if (link.startsWith('/') && opts.portalUrl) return `${opts.portalUrl.replace(/\/+$/, '')}${link}`;
  return link;
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

interface File {
  filename: string;
  content: Buffer;
  contentType: string;
}

/** The document an attachment names, made now (null: it no longer exists, e.g. the customer was deleted). */
async function makeAttachment(db: Db, organizationId: string, a: EmailAttachment): Promise<File | null> {
  const report = await withTenant({ organizationId, customerId: null, userId: null }, (tx) => readMonthlyReport(tx, a.customerId, a.month, new Date()), db);
  if (!report) return null;
  return { filename: monthlyReportFileName(report), content: await renderMonthlyReportPdf(report), contentType: 'application/pdf' };
}

async function sendEmail(d: Claimed, ctx: OrgContext, opts: SendOptions, fileOf: (organizationId: string, a: EmailAttachment) => Promise<File | null>): Promise<Attempt> {
  const parsed = renderedMessageSchema.safeParse(d.payload);
  if (!parsed.success || parsed.data.kind !== 'email') return { verdict: 'failed', error: 'The stored message is not an e-mail' };
  const msg: RenderedEmail = parsed.data;
  if (!ctx.smtp) return { verdict: 'retry', error: ctx.smtpError ?? NO_MAIL_SERVER };
  const attachments: File[] = [];
  for (const a of msg.attachments ?? []) {
    // A failure to make it (the database away) is tried again like any other; a report that is gone fails the message.
    const file = await fileOf(d.organizationId, a);
    if (!file) return { verdict: 'failed', error: `The monthly report it carries (${a.month}) no longer exists` };
    attachments.push(file);
  }
  let link: string | null;
  try {
    link = openLink(d, opts);
  } catch {
    return { verdict: 'failed', error: 'The link for this message could not be opened' };
  }
  const fill = (s: string, html: boolean) => {
    if (!s.includes(LINK_PLACEHOLDER)) return s;
    const value = link ?? opts.portalUrl ?? '';
    return s.split(LINK_PLACEHOLDER).join(html ? escapeHtml(value) : value);
  };
  const smtp = ctx.smtp;
  try {
    await mailerFor(d.organizationId, smtp).sendMail({
      from: { name: smtp.fromName, address: smtp.fromAddress },
      to: d.recipient,
      subject: fill(msg.subject, false),
      text: fill(msg.text, false),
      html: fill(msg.html, true),
      ...(attachments.length ? { attachments } : {}),
      messageId: `<${d.id}@tandem>`,
    });
    return { verdict: 'delivered', statusCode: 250 };
  } catch (err) {
    const e = err as { responseCode?: number; code?: string; message?: string };
    const code = typeof e.responseCode === 'number' ? e.responseCode : undefined;
    const permanent = code !== undefined && code >= 500 && code < 600 && ![530, 534, 535, 538].includes(code);
    // nodemailer's messages quote the server's reply (and never the password); EAUTH reads better.
    const error = e.code === 'EAUTH' ? `The mail server refused the login${code ? ` (${code})` : ''}` : (e.message ?? 'Sending failed');
    return { verdict: permanent ? 'failed' : 'retry', statusCode: code, error };
  }
}

async function sendWebhook(d: Claimed, ctx: OrgContext, webhooks: Map<string, Webhook>, opts: SendOptions): Promise<Attempt> {
  const parsed = renderedMessageSchema.safeParse(d.payload);
  if (!parsed.success || parsed.data.kind !== 'webhook') return { verdict: 'failed', error: 'The stored message is not a webhook message' };
  const msg: RenderedWebhook = parsed.data;
  const stored = d.channelId ? ctx.secrets.get(d.channelId) : undefined;
  if (stored?.error) return { verdict: 'retry', error: stored.error };
  const secret = stored?.secret ?? null;
  let body: Record<string, unknown> = msg.body;
  if (msg.preset === 'pagerduty') {
    // Events v2 authenticates by the routing key in the body; it is not a signing secret.
    if (!secret) return { verdict: 'failed', error: 'The PagerDuty channel has no routing key' };
    body = { ...body, routing_key: secret };
  }
  let text = JSON.stringify(body);
  if (d.linkEnc && text.includes(LINK_PLACEHOLDER)) {
    try {
      text = text.split(LINK_PLACEHOLDER).join(JSON.stringify(openLink(d, opts) ?? '').slice(1, -1));
    } catch {
      return { verdict: 'failed', error: 'The link for this message could not be opened' };
    }
  }
  const now = new Date();
  // The delivery id is the message id: the same across retries, so receivers can drop duplicates.
  const headers: Record<string, string> = { 'webhook-id': d.id, 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)) };
  if (secret && msg.preset !== 'pagerduty' && d.channelId) {
    let signer = webhooks.get(d.channelId);
    try {
      signer ??= new Webhook(secret);
    } catch {
      return { verdict: 'failed', error: "The channel's signing secret is not a valid Standard Webhooks secret (whsec_…)" };
    }
    webhooks.set(d.channelId, signer);
    headers['webhook-signature'] = signer.sign(d.id, now, text);
  }
  const res = await postJson(d.recipient, headers, text, undefined, opts.privateAddresses);
  if (res.refused) return { verdict: 'failed', error: res.error };
  if (res.statusCode === undefined) return { verdict: 'retry', error: res.error ?? 'No answer' };
  const code = res.statusCode;
  if (code >= 200 && code < 300) return { verdict: 'delivered', statusCode: code };
  if (code === 408 || code === 429 || code >= 500) return { verdict: 'retry', statusCode: code, error: `The receiver answered HTTP ${code}` };
  if (code === 410) return { verdict: 'failed', statusCode: code, error: 'The receiver answered 410 Gone: the webhook no longer exists' };
  return { verdict: 'failed', statusCode: code, error: `The receiver refused the message (HTTP ${code}); not retried` };
}
