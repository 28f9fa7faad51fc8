'use client';

// Pages stay current through a live subscription (server-sent events): on each notice they
// refetch what it concerns. Polling is only the fallback while the stream is down.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';

type SubscriptionStatus = 'idle' | 'connecting' | 'pending' | 'error';

/**
 * Whether a page's live stream is really up: connected, and its first item (a `sync`, sent once
 * the server listens) arrived since it last (re)connected. Until then, and whenever the stream
 * drops, the page polls. Pass `handlers` to the subscription, then ask `up(status)`.
 */
export function useStreamUp() {
  const [synced, setSynced] = useState(false);
  const handlers = useMemo(
    () => ({
      onConnectionStateChange: (state: { state: string }) => {
        if (state.state !== 'pending') setSynced(false);
      },
      onError: () => setSynced(false),
      /** Call with every item: a `sync` marks the stream as up. */
      seen: (item: { kind: string }) => {
        if (item.kind === 'sync') setSynced(true);
      },
    }),
    [],
  );
  const up = useCallback((status: SubscriptionStatus) => synced && status === 'pending', [synced]);
  return { handlers, up };
}

/**
 * Collects the keys named by notices and hands them to `refresh` once per `delayMs`, so a burst
 * of notices (samples of many pairs, an operation's steps) costs one refetch of each query.
 */
export function useBatchedRefresh<K extends string>(refresh: (keys: Set<K>) => void, delayMs: number): (keys: readonly K[]) => void {
  const pending = useRef(new Set<K>());
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const latest = useRef(refresh);
  useEffect(() => {
    latest.current = refresh;
  }, [refresh]);
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  return useCallback(
    (keys: readonly K[]) => {
      for (const k of keys) pending.current.add(k);
      timer.current ??= setTimeout(() => {
        timer.current = null;
        const due = pending.current;
        pending.current = new Set();
        latest.current(due);
      }, delayMs);
    },
    [delayMs],
  );
}
