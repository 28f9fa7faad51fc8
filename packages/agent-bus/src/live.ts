// Live updates: a process that changes a pair or a server publishes a small notice through Redis
// pub/sub; the web app's subscriptions hand it to the browsers showing that pair or server, which
// then refetch their queries. A notice carries ids and a kind of change only, never data.
//
//   tandem:live:<organizationId>:<customerId>   one channel per customer of an organization
//
// A subscriber listens to exactly the channels of what it was allowed to see (one customer's
// channel, or the pattern of its organization's), so another tenant's notices never reach it.
// Publishing is best effort: a lost notice leaves a page stale until its next change (or its
// polling fallback), and must never fail the write that caused it.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { z } from 'zod';

export const pairChanges = ['status', 'operation', 'event', 'lag', 'monitor', 'settings'] as const;
export type PairChange = (typeof pairChanges)[number];
export const serverChanges = ['agent', 'facts'] as const;
export type ServerChange = (typeof serverChanges)[number];

export const liveNoticeSchema = z.discriminatedUnion('kind', [
  z.object({ id: z.string().min(1).max(64), kind: z.literal('pair'), customerId: z.uuid(), pairId: z.uuid(), change: z.enum(pairChanges) }),
  z.object({ id: z.string().min(1).max(64), kind: z.literal('server'), customerId: z.uuid(), serverId: z.uuid(), change: z.enum(serverChanges) }),
]);
export type LiveNotice = z.infer<typeof liveNoticeSchema>;

/** Whose change it is: the channel is chosen from these, never from anything a client says. */
export interface LiveTenant {
  organizationId: string;
  customerId: string;
}

const tenantSchema = z.object({ organizationId: z.uuid(), customerId: z.uuid() });

export const liveChannels = {
  customer: (t: LiveTenant) => `tandem:live:${t.organizationId}:${t.customerId}`,
  /** Every customer of the organization (a uuid holds no glob characters). */
  organization: (organizationId: string) => `tandem:live:${organizationId}:*`,
};

// ---------------------------------------------------------------------------------------------
// Publishing (gateway, worker, web)

const globalForLive = globalThis as unknown as { tandemLivePublisher?: Redis | null };

function publisher(): Redis | null {
  if (globalForLive.tandemLivePublisher === undefined) {
    const url = process.env.REDIS_URL;
    if (!url) {
      console.warn('[live] REDIS_URL is not set: live updates are not published');
      globalForLive.tandemLivePublisher = null;
    } else {
      // Few retries: a notice that cannot go out soon is worth nothing later.
      const redis = new Redis(url, { maxRetriesPerRequest: 1 });
      redis.on('error', (err: Error) => console.error('[live] publisher:', err.message));
      globalForLive.tandemLivePublisher = redis;
    }
  }
  return globalForLive.tandemLivePublisher;
}

type NoticeBody = LiveNotice extends infer U ? (U extends LiveNotice ? Omit<U, 'id'> : never) : never;

function publish(tenant: LiveTenant, body: NoticeBody): Promise<void> {
  const redis = publisher();
  if (!redis) return Promise.resolve();
  const checkedTenant = tenantSchema.safeParse(tenant);
  const notice = liveNoticeSchema.safeParse({ ...body, id: noticeId() });
  if (!checkedTenant.success || !notice.success) {
    console.error('[live] refused a malformed notice', body);
    return Promise.resolve();
  }
  return redis.publish(liveChannels.customer(checkedTenant.data), JSON.stringify(notice.data)).then(
    () => undefined,
    (err: unknown) => console.error('[live] publish failed:', err instanceof Error ? err.message : err),
  );
}

/**
 * Announces a change of a pair (status, an operation's steps, a new event, a replication sample,
 * the target's monitor report, its settings). The promise never rejects; callers need not wait.
 */
export function publishPairChange(tenant: LiveTenant, pairId: string, change: PairChange): Promise<void> {
  return publish(tenant, { kind: 'pair', customerId: tenant.customerId, pairId, change });
}

/** Announces a change of a server: its agent came or went (or was revoked), or new facts. */
export function publishServerChange(tenant: LiveTenant, serverId: string, change: ServerChange): Promise<void> {
  return publish(tenant, { kind: 'server', customerId: tenant.customerId, serverId, change });
}

/** Closes this process's publishing connection (a shutting-down process). */
export function closeLivePublisher() {
  globalForLive.tandemLivePublisher?.disconnect();
  globalForLive.tandemLivePublisher = undefined;
}

let sequence = 0;
/** Unique and increasing within a process; used as the SSE event id. */
function noticeId() {
  sequence = (sequence + 1) % 1e9;
  return `${Date.now().toString(36)}-${sequence.toString(36)}-${randomUUID().slice(0, 8)}`;
}

// ---------------------------------------------------------------------------------------------
// Subscribing (web): one Redis connection per process, fanned out to every open stream

export type LiveTopic = { channel: string } | { pattern: string };
type Listener = (notice: LiveNotice) => void;

/**
 * The stream cannot promise its notices any more (the Redis connection dropped, or the
 * subscription could not be made): its reader should reconnect, and refetch once it is back.
 */
export class LiveInterrupted extends Error {
  constructor(message = 'Live updates are interrupted') {
    super(message);
    this.name = 'LiveInterrupted';
  }
}

export class LiveHub {
  private readonly sub: Redis;
  /** Per channel or pattern: its listeners, and the subscription they wait for. */
  private readonly topics = new Map<string, { listeners: Set<Listener>; ready: Promise<unknown> }>();
  private readonly dropWatchers = new Set<() => void>();

  constructor(redisUrl: string) {
    this.sub = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
    this.sub.on('error', (err: Error) => console.error('[live] subscriber:', err.message));
    // Notices published while the connection is down are lost for good: every open stream is
    // told, so its reader falls back to polling and resyncs when it reconnects.
    this.sub.on('close', () => {
      for (const fn of [...this.dropWatchers]) fn();
    });
    this.sub.on('message', (channel: string, raw: string) => this.deliver(`c:${channel}`, raw));
    this.sub.on('pmessage', (pattern: string, _channel: string, raw: string) => this.deliver(`p:${pattern}`, raw));
  }

  private deliver(key: string, raw: string) {
    const topic = this.topics.get(key);
    if (!topic) return;
    const parsed = liveNoticeSchema.safeParse(safeJson(raw));
    if (!parsed.success) return;
    for (const fn of topic.listeners) fn(parsed.data);
  }

  /**
   * Calls `fn` for every notice on the topic until the returned function is called. Resolves
   * once Redis confirms the subscription: nothing published after that is missed.
   */
  async listen(topic: LiveTopic, fn: Listener): Promise<() => Promise<void>> {
    const key = 'channel' in topic ? `c:${topic.channel}` : `p:${topic.pattern}`;
    let entry = this.topics.get(key);
    if (!entry) {
      const ready = 'channel' in topic ? this.sub.subscribe(topic.channel) : this.sub.psubscribe(topic.pattern);
      entry = { listeners: new Set(), ready };
      this.topics.set(key, entry);
    }
    entry.listeners.add(fn);
    const unlisten = async () => {
      const current = this.topics.get(key);
      if (!current?.listeners.delete(fn) || current.listeners.size > 0) return;
      this.topics.delete(key);
      if ('channel' in topic) await this.sub.unsubscribe(topic.channel).catch(() => undefined);
      else await this.sub.punsubscribe(topic.pattern).catch(() => undefined);
    };
    try {
      await entry.ready;
    } catch (err) {
      await unlisten();
      throw err;
    }
    return unlisten;
  }

  /** Calls `fn` when the connection drops, until the returned function is called. */
  onDrop(fn: () => void): () => void {
    this.dropWatchers.add(fn);
    return () => void this.dropWatchers.delete(fn);
  }

  close() {
    this.sub.disconnect();
  }
}

/** A stream handed to a slow reader collapses into one `sync` once this many notices wait. */
const MAX_WAITING = 100;

/** A notice, or `sync`: refetch everything (sent first on every stream, see liveNotices). */
export type LiveItem = LiveNotice | { kind: 'sync'; id: string };

/**
 * The notices of one topic that `accept` lets through, as an async generator that ends when
 * `signal` aborts. The first item is always a `sync`, yielded once Redis confirmed the
 * subscription: a reader that refetches on it has missed nothing, whether it just opened the
 * page or reconnected after a drop (notices are not stored, so a gap cannot be replayed). If
 * the reader falls far behind, the waiting notices collapse into one `sync`, so memory stays
 * bounded. If the Redis connection drops (or the subscription cannot be made), it throws
 * LiveInterrupted.
 */
export async function* liveNotices(hub: LiveHub, topic: LiveTopic, accept: (n: LiveNotice) => boolean, signal: AbortSignal | undefined): AsyncGenerator<LiveItem> {
  const waiting: LiveItem[] = [];
  let wake: (() => void) | null = null;
  let dropped = false;
  const stopWatching = hub.onDrop(() => {
    dropped = true;
    wake?.();
  });
  let unlisten: () => Promise<void>;
  try {
    unlisten = await hub.listen(topic, (n) => {
      if (!accept(n)) return;
      if (waiting.length >= MAX_WAITING) waiting.splice(0, waiting.length, { kind: 'sync', id: n.id });
      else waiting.push(n);
      wake?.();
    });
  } catch (err) {
    stopWatching();
    throw new LiveInterrupted(`Live updates are not available: ${err instanceof Error ? err.message : String(err)}`);
  }
  waiting.unshift({ kind: 'sync', id: `sync-${noticeId()}` });
  const onAbort = () => wake?.();
  signal?.addEventListener('abort', onAbort);
  try {
    while (!signal?.aborted) {
      const item = waiting.shift();
      if (item) {
        yield item;
        continue;
      }
      if (dropped) throw new LiveInterrupted();
      await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
    }
  } finally {
    stopWatching();
    signal?.removeEventListener('abort', onAbort);
    await unlisten();
  }
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return null;
  }
}
