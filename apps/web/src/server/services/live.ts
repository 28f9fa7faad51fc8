// Live updates for the browser: the process-wide Redis subscriber and the stream one
// subscription reads from it. The procedures (routers/*/live.ts) decide what a stream may see.
import { tracked, TRPCError } from '@trpc/server';
import { LiveHub, LiveInterrupted, liveNotices, type LiveNotice, type LiveTopic } from '@tandem/agent-bus/live';
import { env } from '@/env';

const globalForLive = globalThis as unknown as { tandemLiveHub?: LiveHub };

function liveHub(): LiveHub {
  globalForLive.tandemLiveHub ??= new LiveHub(env().REDIS_URL);
  return globalForLive.tandemLiveHub;
}

/**
 * The notices of `topic` that `accept` lets through, each tracked by its id (the client sends the
 * last one back when it reconnects; the stream then starts with a `sync` as always, which covers
 * whatever happened while it was away).
 */
export async function* liveStream(topic: LiveTopic, accept: (notice: LiveNotice) => boolean, signal: AbortSignal | undefined) {
  try {
    for await (const item of liveNotices(liveHub(), topic, accept, signal)) yield tracked(item.id, item);
  } catch (err) {
    // A retryable code: the client reconnects (polling meanwhile) and starts again with a sync.
    if (err instanceof LiveInterrupted) throw new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: 'Live updates are interrupted; reconnecting', cause: err });
    throw err;
  }
}
