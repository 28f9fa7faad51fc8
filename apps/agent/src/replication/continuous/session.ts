// One continuous session of the source with the target (source.ts header, "No head-of-line
// blocking"): the HELLO handshake, the reader that routes ACKs and out-of-order PROBE_REPLYs, and
// the WORKERS that take changes off the queue (never two on related paths) and process them.
import { type z } from 'zod';
import { type Channel, ChannelError, type Message } from '../channel.ts';
import { ackSchema, errorSchema, MSG, probeReplySchema, PROTOCOL_VERSION } from '../protocol.ts';
import { type Change } from './journal.ts';
import { type ChangeQueue } from './queue.ts';

/** Changes the source handles at once. */
const WORKERS = 4;

/** Asks the target about a path; resolves with its PROBE_REPLY. */
export type Probe = (rel: string) => Promise<Message & { corrupt: false }>;

/** What a session needs from the source. */
export interface SessionHost {
  queue: ChangeQueue;
  stopped(): boolean;
  onAck(a: z.infer<typeof ackSchema>): void;
  /** Makes the target's copy of the change's path equal to the source's. */
  process(channel: Channel, c: Change, probe: Probe): Promise<void>;
  /** A local problem with this change's path: report it and drop the change. */
  drop(c: Change, err: Error): void;
}

/** Runs until the channel fails (throws) or the source stops. */
export async function runSession(channel: Channel, host: SessionHost): Promise<void> {
  const q = host.queue;
  const probes = new Map<number, { resolve: (m: Message & { corrupt: false }) => void; reject: (e: Error) => void }>();
  let hello: { resolve: (m: Message & { corrupt: false }) => void; reject: (e: Error) => void } | undefined;
  let nextRid = 1;
  let failure: Error | undefined;
  const failAll = (err: Error) => {
    failure ??= err;
    for (const r of probes.values()) r.reject(failure);
    probes.clear();
    hello?.reject(failure);
    q.poke();
  };
  const pump = (async () => {
    for (;;) {
      const m = await channel.receive();
      if (!m) throw new ChannelError('the target closed the data channel');
      if (m.corrupt) throw new ChannelError('a frame from the target failed its CRC');
      if (m.type === MSG.ACK) host.onAck(ackSchema.parse(m.header));
      else if (m.type === MSG.ERROR) throw new ChannelError(`target: ${errorSchema.parse(m.header).message}`);
      else if (m.type === MSG.PROBE_REPLY) {
        const rid = probeReplySchema.parse(m.header).rid ?? -1;
        const r = probes.get(rid);
        if (!r) throw new ChannelError('a probe reply nobody asked for');
        probes.delete(rid);
        r.resolve(m);
      } else if (m.type === MSG.HELLO_OK && hello) {
        hello.resolve(m);
        hello = undefined;
      } else throw new ChannelError(`unexpected message ${m.type} from the target`);
    }
  })().catch((err: unknown) => failAll(err instanceof Error ? err : new Error(String(err))));
  const probe: Probe = (rel) => {
    if (failure) return Promise.reject(failure);
    const rid = nextRid++;
    const p = new Promise<Message & { corrupt: false }>((resolve, reject) => probes.set(rid, { resolve, reject }));
    channel.send(MSG.PROBE, { path: rel, rid }).catch((err: unknown) => failAll(err as Error));
    return p;
  };
  // Probes are small request/reply round trips: Nagle + delayed ACK would add ~40 ms to each.
  channel.socket.setNoDelay(true);
  try {
    const ok = new Promise<Message & { corrupt: false }>((resolve, reject) => (hello = { resolve, reject }));
    await channel.send(MSG.HELLO, { version: PROTOCOL_VERSION });
    await ok;
    // Several workers, so a big or busy file does not hold up the changes queued behind it. Two
    // workers never handle related paths (the same path, or one below the other) at once, which
    // keeps a directory's metadata after its children's changes.
    const busy = new Set<string>();
    const worker = async () => {
      while (!host.stopped() && !failure) {
        const c = q.takeNext(busy);
        if (!c) {
          await q.wait();
          continue;
        }
        busy.add(c.path);
        q.queue.delete(c.path);
        q.inflight.set(c.seq, c);
        try {
          await host.process(channel, c, probe);
        } catch (err) {
          if (err instanceof ChannelError || failure) {
            failAll(err as Error);
            break;
          }
          // A local problem with this path (unreadable, vanished mid-walk): report it, drop the change.
          host.drop(c, err as Error);
        } finally {
          busy.delete(c.path);
          q.poke();
        }
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, worker));
    if (failure) throw failure;
  } finally {
    channel.destroy();
    await pump;
  }
}
