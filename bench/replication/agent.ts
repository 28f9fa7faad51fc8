// One agent of the replication benchmark, in its own process (as on a real pair, where source and
// target are different machines): the role and its settings come in BENCH_AGENT (JSON, see ipc.ts);
// it reports readiness, results and statistics over IPC and exits when told to stop or when the
// driver goes away.
import { connect, listen } from '../../apps/agent/src/replication/channel.ts';
import { ContinuousSource, ContinuousTarget } from '../../apps/agent/src/replication/continuous.ts';
import { applyMirror } from '../../apps/agent/src/replication/mirror.ts';
import { SignatureCache } from '../../apps/agent/src/replication/signatures.ts';
import { type AgentMessage, type AgentRole, type DriverMessage, PAIR_ID } from './ipc.ts';

const cfg = JSON.parse(process.env.BENCH_AGENT ?? '{}') as AgentRole;
const key = Buffer.from(cfg.key, 'hex');
const keyFor = (id: string) => (id === PAIR_ID ? key : undefined);
const send = (m: AgentMessage) => new Promise<void>((resolve) => (process.send ? process.send(m, undefined, {}, () => resolve()) : resolve()));
let stopper: (() => Promise<void>) | undefined;

process.on('disconnect', () => process.exit(0));
process.on('message', (m: DriverMessage) => {
  if (m.type !== 'stop') return;
  void (stopper ? stopper() : Promise.resolve()).finally(() => process.exit(0));
});

async function main(): Promise<void> {
  if (cfg.role === 'mirror-target') {
    // Serves mirror sessions one after the other; each is timed from accept to the source's BYE.
    // Like a real target agent, it keeps the block signatures it learned between sessions (in memory here).
    const signatures = new SignatureCache();
    const server = await listen({ host: '127.0.0.1', port: 0, keyFor });
    stopper = () => server.close();
    void send({ type: 'ready', port: server.port });
    for (;;) {
      const channel = await server.accept();
      const t0 = performance.now();
      try {
        const result = await applyMirror({ root: cfg.root, channel, signatures });
        void send({ type: 'done', result, ms: performance.now() - t0, wireBytesSent: channel.stats.wireBytesSent, wireBytesReceived: channel.stats.wireBytesReceived });
      } catch (err) {
        void send({ type: 'done', error: (err as Error).message, ms: performance.now() - t0, wireBytesSent: channel.stats.wireBytesSent, wireBytesReceived: channel.stats.wireBytesReceived });
      }
    }
  }
  if (cfg.role === 'continuous-target') {
    const server = await listen({ host: '127.0.0.1', port: 0, keyFor });
    const target = new ContinuousTarget({ root: cfg.root, server, stateDir: cfg.stateDir, onError: (err) => console.error(`[continuous-target] ${err.message}`) });
    await target.start();
    stopper = () => target.stop();
    void send({ type: 'ready', port: server.port });
    return;
  }
  if (cfg.role === 'continuous-source') {
    const source = new ContinuousSource({
      root: cfg.root,
      stateDir: cfg.stateDir,
      connect: () => connect({ host: '127.0.0.1', port: cfg.port, pairId: PAIR_ID, key }),
      statsIntervalMs: 100,
      onStats: (s) =>
        void send({
          type: 'stats',
          sample: { t: Date.now(), phase: s.phase, lag: s.lag, queueFiles: s.queueFiles, contentBytesSent: s.contentBytesSent, changesApplied: s.changesApplied, errors: s.errors.length },
        }),
    });
    await source.start();
    stopper = async () => {
      const errors = source.stats().errors;
      await source.stop();
      await send({ type: 'stopped', errors });
    };
    void send({ type: 'ready' });
  }
}

main().catch((err: unknown) => {
  void send({ type: 'fatal', error: err instanceof Error ? (err.stack ?? err.message) : String(err) }).finally(() => process.exit(1));
});
