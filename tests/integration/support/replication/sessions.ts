// One-off sessions over a fresh TLS listener on 127.0.0.1, for the verify, re-send and restore
// tests: `listener side` runs on whichever agent listens (the target for verify/re-send, the
// ORIGINAL SOURCE for a restore), `connecting side` on the other.
import { randomBytes } from 'node:crypto';
import { type Channel, connect, listen } from '../../../../apps/agent/src/replication/channel.ts';
import { type ApplyResult, applyMirror, type MirrorResult } from '../../../../apps/agent/src/replication/mirror.ts';
import { receiveRestore, restore, type RestoreOptions } from '../../../../apps/agent/src/replication/restore.ts';
import { type Difference, resend, serveVerify, verify, type VerifyResult } from '../../../../apps/agent/src/replication/verify.ts';

/** Runs `listenerSide` on an accepted channel and `connectingSide` on a connected one, concurrently. */
export async function overChannel<L, C>(listenerSide: (c: Channel) => Promise<L>, connectingSide: (c: Channel) => Promise<C>): Promise<[L, C]> {
  const key = randomBytes(32);
  const server = await listen({ host: '127.0.0.1', port: 0, keyFor: (id) => (id === 'pair-v' ? key : undefined) });
  try {
    const l = server.accept().then(listenerSide);
    const channel = await connect({ host: '127.0.0.1', port: server.port, pairId: 'pair-v', key });
    const c = connectingSide(channel);
    return await Promise.all([l, c]);
  } finally {
    await server.close();
  }
}

/** Verify `src` (source) against `dst` (target). */
export async function runVerify(src: string, dst: string, paths?: string[]): Promise<VerifyResult> {
  const [, res] = await overChannel(
    (channel) => serveVerify({ channel, root: dst }),
    (channel) => verify({ channel, root: src, paths }),
  );
  return res;
}

/** Re-send these paths from `src` to `dst`. */
export async function runResend(src: string, dst: string, paths: readonly (string | Difference)[]): Promise<{ source: MirrorResult; target: ApplyResult }> {
  const [target, source] = await overChannel(
    (channel) => applyMirror({ root: dst, channel }),
    (channel) => resend({ channel, root: src, paths }),
  );
  return { source, target };
}

/** Restore: the original target `from` sends, the original source `to` listens and receives. */
export async function runRestore(from: string, to: string, opts: Omit<RestoreOptions, 'channel' | 'root'> = {}): Promise<{ sender: MirrorResult; receiver: ApplyResult }> {
  const key = randomBytes(32);
  const server = await listen({ host: '127.0.0.1', port: 0, keyFor: (id) => (id === 'pair-r' ? key : undefined) });
  try {
    const receiver = receiveRestore({ root: to, server, acceptTimeoutMs: 10_000 });
    const channel = await connect({ host: '127.0.0.1', port: server.port, pairId: 'pair-r', key });
    const sender = await restore({ root: from, channel, ...opts });
    return { sender, receiver: await receiver };
  } finally {
    await server.close();
  }
}
