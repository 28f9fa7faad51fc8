// The alert dispatcher: turns committed outbox events into deliveries, once each. It wakes on
// LISTEN tandem_alerts (the outbox and delivery triggers NOTIFY at commit; a rolled-back event
// never notifies and is never seen) and polls every second in case a notification was missed.
//
// Each claimed event is fanned out in one transaction of its organization: the condition's alert
// is opened, touched or resolved, the rules, channels and maintenance windows in force decide the
// targets (engine planDelivery), each target's message is rendered and stored as an AlertDelivery,
// and the event is marked processed. The event row is locked first, so two dispatchers that both
// hold it (a claim that ran out) fan it out once; the deliveries' unique (event, channel, recipient)
// index with skipDuplicates is the second guard. The sender then sends whatever is due.
//
// The transaction is organization-wide (customerId null in the scope) although most events belong
// to a customer: channels are the organization's own rows, and the organization's default rules
// (customerId null) must be visible next to the customer's. Everything written carries the event's
// customerId explicitly.
import pg from 'pg';
import { withTenant, type Db, type TenantTx } from '@tandem/db';
import {
  eventTypes,
  planDelivery,
  renderMessage,
  severitySchema,
  tenantEventPayloadSchema,
  type ConditionEffect,
  type EventType,
  type OpenAlertRow,
  type TenantEvent,
} from '@tandem/engine';

/** An outbox row as claim_outbox_events returns it. */
export interface ClaimedEvent {
  id: bigint;
  organizationId: string;
  customerId: string | null;
  pairId: string | null;
  type: string;
  severity: string;
  message: string;
  payload: unknown;
  createdAt: Date;
}

export interface FanOutResult {
  eventId: string;
  /** Not fanned out: already done by someone else, or unreadable (marked processed, logged). */
  skipped?: 'already-processed' | 'invalid' | 'deferred';
  condition: ConditionEffect['kind'];
  alertId: string | null;
  deliveries: number;
  /** Maintenance windows that muted channel messages, and how many messages they held back. */
  mutedBy: string[];
  mutedTargets: number;
}

export interface FanOutOptions {
  /** The portal's public URL (links in messages). */
  portalUrl: string;
  batch?: number;
  leaseSeconds?: number;
  /**
   * Tests only: claim only these organizations' events, so test files sharing a database never
   * fan out each other's (nor wait behind them).
   */
  organizationIds?: string[];
  /** Called after each fan-out transaction has committed. */
  afterCommit?: (r: FanOutResult) => void;
}

const eventTypeSet = new Set<string>(eventTypes);

/** Claims up to `limit` unprocessed events (any tenant, or only `organizationIds`') for `leaseSeconds`. */
export async function claimEvents(db: Db, limit: number, leaseSeconds: number, organizationIds?: string[]): Promise<ClaimedEvent[]> {
  if (organizationIds) {
    return db.$queryRaw<ClaimedEvent[]>`SELECT * FROM claim_outbox_events_of(${organizationIds}::text[], ${limit}::int, ${leaseSeconds}::int)`;
  }
  return db.$queryRaw<ClaimedEvent[]>`SELECT * FROM claim_outbox_events(${limit}::int, ${leaseSeconds}::int)`;
}

/** The engine's view of a claimed row, or why it cannot be read. */
export function toTenantEvent(row: ClaimedEvent): TenantEvent | string {
  if (!eventTypeSet.has(row.type)) return `unknown event type ${JSON.stringify(row.type)}`;
  const severity = severitySchema.safeParse(row.severity);
  if (!severity.success) return `unknown severity ${JSON.stringify(row.severity)}`;
  const payload = tenantEventPayloadSchema.safeParse(row.payload ?? {});
  if (!payload.success)
    return `unreadable payload: ${payload.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`;
  return {
    id: row.id,
    organizationId: row.organizationId,
    customerId: row.customerId,
    pairId: row.pairId,
    type: row.type as EventType,
    severity: severity.data,
    message: row.message,
    payload: payload.data,
    createdAt: row.createdAt,
  };
}

async function openAlertFor(tx: TenantTx, key: string | undefined): Promise<OpenAlertRow | null> {
  if (!key) return null;
  const alert = await tx.alert.findFirst({
    where: { conditionKey: key, resolvedAt: null },
    select: { id: true, openedEventId: true },
  });
  if (!alert) return null;
  const opened =
    alert.openedEventId === null
      ? []
      : await tx.alertDelivery.findMany({
          where: { eventId: alert.openedEventId, channelId: { not: null } },
          select: { channelId: true },
          distinct: ['channelId'],
        });
  return { id: alert.id, conditionKey: key, openedChannelIds: opened.map((d) => d.channelId!) };
}

async function markProcessed(tx: TenantTx, id: bigint) {
  await tx.outboxEvent.updateMany({ where: { id }, data: { processedAt: new Date(), claimedUntil: null } });
}

/** Fans one claimed event out in one transaction of its organization. */
export async function fanOutEvent(db: Db, row: ClaimedEvent, opts: Pick<FanOutOptions, 'portalUrl'>): Promise<FanOutResult> {
  const result: FanOutResult = {
    eventId: String(row.id),
    condition: 'none',
    alertId: null,
    deliveries: 0,
    mutedBy: [],
    mutedTargets: 0,
  };
  return withTenant(
    { organizationId: row.organizationId, userId: null, customerId: null },
    async (tx) => {
      // Lock the event: a second dispatcher holding the same event waits here, then sees it done.
      const locked = await tx.$queryRaw<
        { processedAt: Date | null }[]
      >`SELECT "processedAt" FROM "OutboxEvent" WHERE id = ${row.id} FOR UPDATE`;
      if (!locked[0] || locked[0].processedAt) return { ...result, skipped: 'already-processed' as const };

      const event = toTenantEvent(row);
      if (typeof event === 'string') {
        console.error(`[alerts] event ${row.id} (${row.type}) not fanned out: ${event}`);
        await markProcessed(tx, row.id);
        return { ...result, skipped: 'invalid' as const };
      }

      // A condition's events must apply in order (a clear handled before its open would leave the
      // alert open for good). Another dispatcher may hold an earlier event of the same condition:
      // then this one waits (released, picked up again by a later round).
      const key = event.payload.condition?.key;
      if (key) {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${key}))`;
        const earlier = await tx.$queryRaw<{ id: bigint }[]>`
          SELECT id FROM "OutboxEvent"
          WHERE "processedAt" IS NULL AND id < ${row.id} AND payload -> 'condition' ->> 'key' = ${key}
          LIMIT 1`;
        if (earlier.length > 0) {
          await tx.outboxEvent.updateMany({ where: { id: row.id }, data: { claimedUntil: null } });
          return { ...result, skipped: 'deferred' as const };
        }
      }

      const at = event.createdAt;
      const customers = event.customerId ? [{ customerId: null }, { customerId: event.customerId }] : [{ customerId: null }];
      const [openAlert, rules, channels, windows] = await Promise.all([
        openAlertFor(tx, event.payload.condition?.key),
        tx.alertRule.findMany({
          where: { enabled: true, OR: customers },
          select: { id: true, customerId: true, channelId: true, events: true, minSeverity: true, enabled: true },
        }),
        tx.alertChannel.findMany({ select: { id: true, kind: true, name: true, config: true, enabled: true } }),
        event.customerId
          ? tx.maintenanceWindow.findMany({
              where: { customerId: event.customerId, startsAt: { lte: at }, endsAt: { gt: at } },
              select: { id: true, customerId: true, pairId: true, startsAt: true, endsAt: true },
            })
          : Promise.resolve([]),
      ]);
      const plan = planDelivery({ event, rules, channels, openAlert, windows });

      let alertId: string | null = null;
      const c = plan.condition;
      if (c.kind === 'open') {
        const alert = await tx.alert.create({
          data: {
            organizationId: event.organizationId,
            customerId: event.customerId,
            pairId: event.pairId,
            conditionKey: c.key,
            type: event.type,
            severity: event.severity,
            message: event.message,
            openedAt: at,
            openedEventId: row.id,
            lastEventAt: at,
          },
          select: { id: true },
        });
        alertId = alert.id;
      } else if (c.kind === 'duplicate') {
        await tx.alert.updateMany({ where: { id: c.alertId }, data: { lastEventAt: at } });
        alertId = c.alertId;
      } else if (c.kind === 'resolve') {
        await tx.alert.updateMany({
          where: { id: c.alertId, resolvedAt: null },
          data: { resolvedAt: at, resolvedEventId: row.id },
        });
        alertId = c.alertId;
      }

      const data = plan.targets.map((t) => ({
        organizationId: event.organizationId,
        customerId: event.customerId,
        eventId: row.id,
        alertId,
        channelId: t.channelId,
        kind: t.kind,
        recipient: t.recipient,
        event: event.type,
        // Through JSON: the stored message is exactly what a later attempt reads back.
        payload: JSON.parse(
          JSON.stringify(renderMessage(event, t, { portalUrl: opts.portalUrl, resolved: plan.resolved })),
        ) as object,
        linkEnc: t.linkEnc ?? null,
      }));
      const created = data.length ? (await tx.alertDelivery.createMany({ data, skipDuplicates: true })).count : 0;
      await markProcessed(tx, row.id);
      return {
        ...result,
        condition: c.kind,
        alertId,
        deliveries: created,
        mutedBy: plan.mutedBy,
        mutedTargets: plan.mutedTargets,
      };
    },
    db,
  );
}

/** Claims one batch and fans each event out in order. An event that fails stays claimed until its lease runs out, then is retried. */
export async function fanOutOnce(
  db: Db,
  opts: FanOutOptions,
): Promise<{ claimed: number; results: FanOutResult[]; failed: number }> {
  const rows = await claimEvents(db, opts.batch ?? 100, opts.leaseSeconds ?? 30, opts.organizationIds);
  const results: FanOutResult[] = [];
  let failed = 0;
  for (const row of rows) {
    try {
      const r = await fanOutEvent(db, row, opts);
      results.push(r);
      if (r.mutedBy.length)
        console.log(
          `[alerts] event ${r.eventId} (${row.type}): ${r.mutedTargets} channel message(s) muted by maintenance window ${r.mutedBy.join(', ')}`,
        );
      opts.afterCommit?.(r);
    } catch (err) {
      failed += 1;
      console.error(`[alerts] fanning out event ${row.id} (${row.type}) failed; retried when its claim runs out:`, err);
    }
  }
  return { claimed: rows.length, results, failed };
}

/**
 * TEST ONLY: with NODE_ENV=test and TANDEM_TEST_CRASH_AT=alerts.after-fanout the worker dies hard
 * (as kill -9 would) right after a fan-out that created deliveries has committed, before anything
 * is sent, so a test can check that the restarted worker delivers each message once.
 */
export function alertsCrashPoint(r: FanOutResult) {
  if (process.env.NODE_ENV !== 'test' || process.env.TANDEM_TEST_CRASH_AT !== 'alerts.after-fanout') return;
  if (r.deliveries > 0) process.kill(process.pid, 'SIGKILL');
}

/** Runs `fn` one at a time; wakes during a run coalesce into one more run after it. */
function lane(name: string, fn: () => Promise<void>) {
  let running: Promise<void> | null = null;
  let again = false;
  let closed = false;
  const wake = (): void => {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = fn()
      .catch((err: unknown) => console.error(`[alerts] ${name} failed:`, err))
      .finally(() => {
        running = null;
        if (again) {
          again = false;
          wake();
        }
      });
  };
  const close = async () => {
    closed = true;
    again = false;
    while (running) await running;
  };
  return { wake, close };
}

/** The LISTEN connection's application_name (per process: a test can find and cut its own). */
export const listenerName = () => `tandem-alerts:${process.pid}`;

export interface DispatcherOptions {
  /** APP_DATABASE_URL: the LISTEN connection. */
  databaseUrl: string;
  portalUrl: string;
  /** Fallback poll (default 1 s); it also picks up retries whose time has come. */
  pollMs?: number;
  batch?: number;
  leaseSeconds?: number;
  /** Sends due deliveries (the sender); called after fan-outs and on delivery notifications. */
  send?: (db: Db) => Promise<unknown>;
  /** Tests only (see FanOutOptions.organizationIds). */
  organizationIds?: string[];
}

export interface AlertDispatcher {
  /** Look for work now (fan-out, then sending). */
  wake(): void;
  /** Resolves once the first LISTEN is in place (from then on commits wake the loop). */
  listening: Promise<void>;
  stop(): Promise<void>;
}

export function startAlertDispatcher(db: Db, opts: DispatcherOptions): AlertDispatcher {
  let stopped = false;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;
  const sending = lane('sending', async () => {
    if (!opts.send) return;
    const r = (await opts.send(db)) as { nextRetryAt?: Date | null } | undefined;
    // A retry due before the next poll is sent on time rather than at the poll.
    const due = r?.nextRetryAt instanceof Date ? r.nextRetryAt.getTime() - Date.now() : null;
    if (due !== null && due < (opts.pollMs ?? 1000) && !stopped && !retryTimer) {
      retryTimer = setTimeout(
        () => {
          retryTimer = null;
          sending.wake();
        },
        Math.max(0, due),
      );
    }
  });
  const fanning = lane('fan-out', async () => {
    const batch = opts.batch ?? 100;
    let created = 0;
    for (;;) {
      const r = await fanOutOnce(db, {
        portalUrl: opts.portalUrl,
        batch,
        leaseSeconds: opts.leaseSeconds,
        organizationIds: opts.organizationIds,
        afterCommit: alertsCrashPoint,
      });
      created += r.results.reduce((n, x) => n + x.deliveries, 0);
      if (stopped || r.claimed < batch) break;
    }
    if (created > 0) sending.wake();
  });
  const wake = () => {
    fanning.wake();
    sending.wake();
  };

  let listener: pg.Client | null = null;
  let markListening!: () => void;
  const listening = new Promise<void>((resolve) => (markListening = resolve));
  let retry: ReturnType<typeof setTimeout> | null = null;
  const dropListener = (client: pg.Client, why: unknown) => {
    if (listener === client) listener = null;
    client.removeAllListeners();
    client.on('error', () => {}); // a late error on a dropped connection must not crash the worker
    void client.end().catch(() => {});
    if (stopped || retry) return;
    console.error('[alerts] LISTEN connection lost, reconnecting in 1 s:', why instanceof Error ? why.message : why);
    retry = setTimeout(() => {
      retry = null;
      void listen();
    }, 1000);
  };
  const listen = async () => {
    if (stopped) return;
    const client = new pg.Client({ connectionString: opts.databaseUrl, application_name: listenerName() });
    client.on('notification', (n) => {
      if (n.payload === 'AlertDelivery') sending.wake();
      else fanning.wake();
    });
    client.on('error', (err) => dropListener(client, err));
    client.on('end', () => dropListener(client, 'connection ended'));
    try {
      await client.connect();
      await client.query('LISTEN tandem_alerts');
      if (stopped) {
        dropListener(client, 'stopped');
        return;
      }
      listener = client;
      markListening();
      wake(); // whatever committed while nobody listened
    } catch (err) {
      dropListener(client, err);
    }
  };
  void listen();
  const poll = setInterval(wake, opts.pollMs ?? 1000);
  wake();

  return {
    wake,
    listening,
    async stop() {
      stopped = true;
      clearInterval(poll);
      if (retry) clearTimeout(retry);
      if (retryTimer) clearTimeout(retryTimer);
      if (listener) dropListener(listener, 'stopped');
      await Promise.all([fanning.close(), sending.close()]);
    },
  };
}
