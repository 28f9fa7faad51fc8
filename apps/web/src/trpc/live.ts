'use client';

// Pages stay current through a live subscription (server-sent events): on each notice they
// refetch what it concerns. Polling is only the fallback while the stream is down.
import { useCallback, useEffect, useRef } from 'react';

/** Whether a subscription's stream is up (`status` of useSubscription). */
export const streamUp = (status: 'idle' | 'connecting' | 'pending' | 'error') => status === 'pending';

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
