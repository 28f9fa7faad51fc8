// A replication agent as a child process, so the fault tests can kill -9 it:
//   node --import tsx agent-runner.ts '<json config>'
// role "target": serves mirror and continuous sessions on `port` (prints {"ready":port}).
// role "source": replicates `root` to 127.0.0.1:`port`, printing a stats line every 100 ms.
// SIGTERM is a clean stop (stop() then exit); SIGKILL is the crash.
import { connect, listen } from '../../../../apps/agent/src/replication/channel.ts';
import { ContinuousSource, ContinuousTarget } from '../../../../apps/agent/src/replication/continuous.ts';

interface RunnerConfig {
  role: 'source' | 'target';
  root: string;
  stateDir: string;
  port: number;
  keyHex: string;
  pairId: string;
  /** Source: deltas of files at least this big are applied in place on the target. */
  inPlaceMinBytes?: number;
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as RunnerConfig;
const key = Buffer.from(cfg.keyHex, 'hex');
const out = (o: unknown) => process.stdout.write(JSON.stringify(o) + '\n');

if (cfg.role === 'target') {
  const server = await listen({ host: '127.0.0.1', port: cfg.port, keyFor: (id) => (id === cfg.pairId ? key : undefined) });
  const target = new ContinuousTarget({ root: cfg.root, server, stateDir: cfg.stateDir, onError: (err) => out({ error: err.message }) });
  await target.start();
  process.once('SIGTERM', () => void target.stop().finally(() => process.exit(0)));
  out({ ready: server.port });
} else {
  const source = new ContinuousSource({
    root: cfg.root,
    stateDir: cfg.stateDir,
    connect: () => connect({ host: '127.0.0.1', port: cfg.port, pairId: cfg.pairId, key, timeoutMs: 2000 }),
    statsIntervalMs: 100,
    retryMs: 50,
    inPlaceMinBytes: cfg.inPlaceMinBytes,
    onStats: (s) => out({ stats: s }),
  });
  await source.start();
  process.once('SIGTERM', () => void source.stop().finally(() => process.exit(0)));
  out({ ready: true });
}
