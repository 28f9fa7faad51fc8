// Executors of failover and failback runbook steps (hooks, services, drain, restore, DNS,
// addresses). Each sends desired state, so a step run twice changes nothing the second time; its
// commands carry ids derived from the step (see context.ts), so a re-sent command runs once.
import { replicationMethodFor, type StepParams } from '@tandem/engine';
import type { ReplicationStatus } from '@tandem/protocol';
import { command, commandTo, pairKey, sideOf, sleep, StepError, type StepContext } from './context.ts';
import { pgDrain } from './postgresql.ts';
import { dnsAuthFor } from '../dns-credential.ts';
import { dnsAccess, queryDns } from '../plan-runbook.ts';

/** Each DNS server gets this long to answer before the agent asks the next. */
const DNS_SERVER_DEADLINE_MS = 30_000;

/** The agent-side file name of a pair's hook script (letters, digits, - only). */
export const hookFileName = (pairId: string, hook: string) => `tandem-${pairId}-${hook}`;

const HOOK_TIMEOUT_MS = 10 * 60_000;
const POLL_MS = 500;

/** A DNS server that did not answer is worth trying again (the agent already tried each in order). */
const dnsUnanswered = (message: string) => /did not answer|timed out|timeout|ECONNREFUSED|EHOSTUNREACH|ENETUNREACH/i.test(message);

async function hookRun(ctx: StepContext, params: StepParams['hook.run']) {
  const script = ctx.settings.hooks[params.hook];
  if (!script) return { ran: false, reason: 'No script is set for this hook' };
  const name = hookFileName(ctx.pair.id, params.hook);
  await command(ctx, params.side, 'hook.write', { name, content: script });
  const result = await command(ctx, params.side, 'hook.run', { name, args: [params.hook, ctx.pair.id], timeoutMs: HOOK_TIMEOUT_MS }, { timeoutMs: HOOK_TIMEOUT_MS + 10_000 });
  const output = { ran: true, exitCode: result.exitCode, signal: result.signal, timedOut: result.timedOut, stdout: result.stdout, stderr: result.stderr, truncated: result.truncated, durationMs: result.durationMs };
  if (result.exitCode === 0 && !result.timedOut) return output;
  const how = result.timedOut ? 'timed out' : result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
  const tail = result.stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 500);
  const what = `The ${params.hook} hook on ${sideOf(ctx, params.side).hostname} ${how}${tail ? `: ${tail}` : ''}`;
  // Past the point of no return the run goes on: the hook's failure is reported, not undone.
  if (ctx.step?.pastPointOfNoReturn) return { ...output, warning: what };
  throw new StepError(what, output);
}

async function servicesStop(ctx: StepContext, params: StepParams['services.stop']) {
  const timeoutMs = params.timeoutSeconds * 1000;
  const services = [];
  for (const name of params.services) {
    const stopped = await command(ctx, params.side, 'service.ensure', { name, state: 'stopped', timeoutMs }, { timeoutMs: timeoutMs + 10_000, deadlineMs: timeoutMs + 30_000 });
    const mode = await command(ctx, params.side, 'service.set-startup-mode', { name, mode: params.startMode }, { deadlineMs: 60_000 });
    services.push({ name, state: stopped.state, startMode: mode.startMode });
  }
  return { services };
}

async function servicesStart(ctx: StepContext, params: StepParams['services.start']) {
  const timeoutMs = params.timeoutSeconds * 1000;
  const services = [];
  for (const name of params.services) {
    const running = await command(ctx, params.side, 'service.ensure', { name, state: 'running', timeoutMs }, { timeoutMs: timeoutMs + 10_000, deadlineMs: timeoutMs + 30_000 });
    const mode = await command(ctx, params.side, 'service.set-startup-mode', { name, mode: 'automatic' }, { deadlineMs: 60_000 });
    services.push({ name, state: running.state, startMode: mode.startMode });
  }
  return { services };
}

/** The lag the latest replication sample recorded (null: none, or the mirror had not finished). */
export async function lastSampledLag(ctx: StepContext): Promise<{ lagSeconds: number | null; queueBytes: number | null; at: string | null }> {
  const sample = await ctx.tx((db) => db.replicationSample.findFirst({ where: { pairId: ctx.pair.id }, orderBy: { at: 'desc' } }));
  if (!sample) return { lagSeconds: null, queueBytes: null, at: null };
  return { lagSeconds: sample.lagSeconds, queueBytes: Number(sample.queueBytes), at: sample.at.toISOString() };
}

const drained = (s: ReplicationStatus) => s.queueFiles === 0 && s.queueBytes === 0 && s.mirrorFilesLeft === 0 && s.mirrorBytesLeft === 0 && s.state === 'continuous';

async function replicationDrain(ctx: StepContext, params: StepParams['replication.drain']) {
  if (replicationMethodFor[ctx.settings.application] === 'postgresql_streaming') return pgDrain(ctx, params);
  const deadline = Date.now() + params.timeoutSeconds * 1000;
  let last: ReplicationStatus | null = null;
  for (;;) {
    try {
      last = await command(ctx, 'source', 'replication.status', { pairId: ctx.pair.id }, { fresh: true, timeoutMs: 10_000, deadlineMs: 0 });
    } catch (err) {
      // The source is gone: nothing more can drain. What was lost is what the last sample says.
      const sampled = await lastSampledLag(ctx);
      return {
        drained: false,
        source: 'sample',
        lagAtCutoverSeconds: sampled.lagSeconds,
        queueBytes: sampled.queueBytes,
        sampledAt: sampled.at,
        warning: `${ctx.pair.source.hostname} did not answer (${err instanceof Error ? err.message : String(err)}); the lag at cut-over is taken from the last sample${sampled.lagSeconds === null ? ' (unknown)' : ` (${sampled.lagSeconds} s)`}`,
      };
    }
    if (drained(last)) return { drained: true, source: 'agent', lagAtCutoverSeconds: 0, queueFiles: 0, queueBytes: 0 };
    if (Date.now() >= deadline) break;
    await sleep(POLL_MS);
  }
  const left = `${last.queueFiles} files (${last.queueBytes} bytes) still queued${last.mirrorFilesLeft ? `, ${last.mirrorFilesLeft} files of the mirror left` : ''}`;
  if (params.onTimeout === 'abort') throw new StepError(`The replication queue did not drain within ${params.timeoutSeconds} s: ${left}`);
  return {
    drained: false,
    source: 'agent',
    lagAtCutoverSeconds: last.lagSeconds,
    queueFiles: last.queueFiles,
    queueBytes: last.queueBytes,
    warning: `The replication queue did not drain within ${params.timeoutSeconds} s; the failover went on with ${left} (lost on the target)`,
  };
}

/** Restore (failback): the pair's target sends its copy back to the source, which listens. */
function restoreArgs(ctx: StepContext, role: 'receiver' | 'sender', mode: StepParams['replication.restore']['mode']) {
  const { connection } = ctx.settings;
  const set = ctx.settings.replicationSet;
  if (!set) throw new StepError('This pair has no replication set');
  // The source's address the target already reaches (it probes it); the data port is the pair's.
  const sourceAddress = ctx.settings.failover.monitor.addresses[0];
  if (!sourceAddress) throw new StepError('The pair has no source address to restore to; add one to the monitored addresses');
  return {
    pairId: ctx.pair.id,
    role,
    key: pairKey(ctx),
    source: set,
    targetRoot: connection.targetRoot,
    mode,
    orphans: connection.orphans,
    compression: connection.compression,
    ...(connection.bandwidthLimitKbps ? { bandwidthLimitBps: Math.floor((connection.bandwidthLimitKbps * 1000) / 8) } : {}),
    ...(role === 'receiver' ? { listen: { port: connection.port } } : { connect: { host: sourceAddress, port: connection.port } }),
  };
}

async function replicationRestore(ctx: StepContext, params: StepParams['replication.restore']) {
  const step = ctx.step;
  const startedAt = (step?.startedAt ?? ctx.now()).getTime();
  for (let round = 1; ; round++) {
    await command(ctx, 'source', 'replication.restore', restoreArgs(ctx, 'receiver', params.mode), { deadlineMs: 120_000 });
    await command(ctx, 'target', 'replication.restore', restoreArgs(ctx, 'sender', params.mode), { deadlineMs: 120_000 });
    let lastProgress = 0;
    let unreachedSince: number | null = null;
    for (;;) {
      let sender: ReplicationStatus | null = null;
      let receiver: ReplicationStatus | null = null;
      try {
        sender = await command(ctx, 'target', 'replication.status', { pairId: ctx.pair.id }, { fresh: true, timeoutMs: 10_000, deadlineMs: 0 });
        receiver = await command(ctx, 'source', 'replication.status', { pairId: ctx.pair.id }, { fresh: true, timeoutMs: 10_000, deadlineMs: 0 });
        unreachedSince = null;
      } catch (err) {
        unreachedSince ??= Date.now();
        if (Date.now() - unreachedSince > 120_000) throw new StepError(`The restore lost its agents for 2 minutes: ${err instanceof Error ? err.message : String(err)}`);
      }
      const s = sender?.restore;
      const r = receiver?.restore;
      // A restore older than this step is a previous one's outcome, not this one's.
      const current = (x: typeof s) => (x && x.startedAt >= startedAt - 60_000 ? x : null);
      const sc = current(s);
      const rc = current(r);
      if (sc && step && Date.now() - lastProgress > 2_000) {
        lastProgress = Date.now();
        const progress = { round, bytesLeft: sc.bytesLeft, filesLeft: sc.filesLeft, bytesSent: sc.bytesSent, filesApplied: sc.filesApplied };
        await ctx.tx((db) => db.operationStep.update({ where: { id: step.id }, data: { output: { progress } } }));
      }
      if (sc?.state === 'done' && rc?.state === 'done') {
        return { round, bytesSent: sc.bytesSent, filesSent: sc.filesApplied, filesWritten: rc.filesApplied, orphans: rc.orphans, durationMs: sc.finishedAt ? sc.finishedAt - sc.startedAt : null };
      }
      if (sc?.state === 'failed' || rc?.state === 'failed') {
        const errors = [...(sc?.errors ?? []), ...(rc?.errors ?? [])].slice(0, 5).join('; ');
        if (round >= 3 || !step) throw new StepError(`The restore failed${errors ? `: ${errors}` : ''}`);
        // Run again as a new command (checksum mode sends only what still differs).
        await ctx.tx((db) => db.operationStep.update({ where: { id: step.id }, data: { attempts: { increment: 1 } } }));
        step.attempts += 1;
        step.sub = 0;
        break;
      }
      await sleep(POLL_MS);
    }
  }
}

async function dnsApply(ctx: StepContext, params: StepParams['dns.apply']) {
  const auth = await dnsAuthFor(ctx.orgTx, params.credentialId, ctx.pair.customerId, (m) => new StepError(m));
  // A TSIG key signs RFC 2136 updates; a domain account authenticates the Windows DNS cmdlets.
  if (params.provider === 'rfc2136' && auth.account) throw new StepError('Dynamic updates (RFC 2136) need a TSIG key, not a domain account: choose a TSIG credential');
  if (params.provider === 'windows' && auth.tsig) throw new StepError('Windows DNS takes a domain account (or the agent’s own), not a TSIG key: choose a domain credential');
  const secret = auth.tsig?.secret ?? auth.account?.password;
  const perServer = DNS_SERVER_DEADLINE_MS;
  const all = perServer * params.servers.length;
  const executor = params.executorServerId ?? ctx.pair.targetServerId;
  // The secret goes to the executing agent only: never into the step's output or an error.
  const result = await commandTo(
    ctx,
    executor,
    'dns.apply',
    { provider: params.provider, servers: params.servers, timeoutMs: perServer, ...auth, changes: params.changes },
    { timeoutMs: all + 10_000, deadlineMs: all + 30_000, retryFailure: dnsUnanswered },
  ).catch((err: unknown) => {
    const text = err instanceof Error ? err.message : String(err);
    throw new StepError(secret ? text.split(secret).join('[secret]') : text);
  });
  return result;
}

/**
 * Enabling: the records that move at failover get a TTL of at most ttlSeconds. Each is read
 * first; only those above it change, conditional on what they hold (dns.apply's prerequisites),
 * so a second run sends nothing.
 */
async function dnsLowerTtl(ctx: StepContext, params: StepParams['dns.lower-ttl']) {
  const refused = (err: unknown) => new StepError(err instanceof Error ? err.message : String(err));
  const access = await dnsAccess(ctx.tx, ctx.orgTx, ctx.settings, ctx.pair).catch((err: unknown) => Promise.reject(refused(err)));
  const current = await queryDns(ctx.bus, access, params.records).catch((err: unknown) => Promise.reject(refused(err)));
  const changes = current.flatMap((r) => {
    const zone = params.records.find((x) => x.name === r.name && x.type === r.type)?.zone;
    if (!zone || r.records.length === 0 || r.ttl <= params.ttlSeconds) return [];
    return [{ zone, name: r.name, type: r.type, before: { ttl: r.ttl, records: r.records }, after: { ttl: params.ttlSeconds, records: r.records } }];
  });
  const absent = current.filter((r) => r.records.length === 0).map((r) => `${r.name} (${r.type})`);
  if (changes.length === 0) return { lowered: [], absent };
  const all = DNS_SERVER_DEADLINE_MS * access.servers.length;
  const secret = access.tsig?.secret ?? access.account?.password;
  await commandTo(
    ctx,
    ctx.settings.dns.executorServerId ?? ctx.pair.targetServerId,
    'dns.apply',
    { provider: access.provider, servers: access.servers, timeoutMs: DNS_SERVER_DEADLINE_MS, ...(access.tsig ? { tsig: access.tsig } : {}), ...(access.account ? { account: access.account } : {}), changes },
    { timeoutMs: all + 10_000, deadlineMs: all + 30_000, retryFailure: dnsUnanswered },
  ).catch((err: unknown) => {
    const text = err instanceof Error ? err.message : String(err);
    throw new StepError(secret ? text.split(secret).join('[secret]') : text);
  });
  return { lowered: changes.map((c) => `${c.name} (${c.type}): ${c.before.ttl} s → ${c.after.ttl} s`), absent };
}

async function addressEnsure(ctx: StepContext, params: StepParams['address.ensure']) {
  return command(ctx, params.side, 'address.ensure', { address: params.address, prefix: params.prefix, interface: params.interface, present: params.present, force: params.force });
}

export const failoverExecutors = {
  'hook.run': hookRun,
  'services.stop': servicesStop,
  'services.start': servicesStart,
  'replication.drain': replicationDrain,
  'replication.restore': replicationRestore,
  'dns.apply': dnsApply,
  'dns.lower-ttl': dnsLowerTtl,
  'address.ensure': addressEnsure,
};
