// What each fix action (catalogue §1.8) does here: an agent command whose id derives from the
// fix operation and its step (so a step sent again after a crash is not run twice), a
// control-plane change, or a clear refusal when this agent cannot do it. Each returns what it
// found before and what holds after, for the audit.
import {
  enabledStatuses,
  pairSettingsSchema,
  settingsToColumns,
  transition,
  type FixAction,
  type PairSettings,
  type PairStatus,
} from '@tandem/engine';
import { emitEvent } from '@tandem/db';
import { command, StepError, type StepContext } from '../operations/steps/context.ts';
import { stepExecutors } from '../operations/steps.ts';

export interface ActionOutcome {
  outcome: 'changed' | 'already-satisfied';
  before: string | null;
  after: string | null;
  detail: string | null;
}

export const notSupported = (what: string) => new StepError(`${what} is not supported by this agent: do it by hand, then validate again`);

/** Target-side changes are refused while the pair is protected (catalogue §1.4). */
export function refuseWhileProtected(status: PairStatus, a: FixAction): string | null {
  const onTarget = 'node' in a && a.node === 'target';
  if (onTarget && enabledStatuses.includes(status)) return 'Disable protection first: this fix changes the target, which is refused while the pair is protected.';
  return null;
}

function fixResult(r: { outcome: string; before: string | null; after: string | null; detail: string | null }): ActionOutcome {
  if (r.outcome === 'stale-plan') throw new StepError(`The plan is stale: the value is now ${r.before ?? 'unset'}${r.detail ? ` (${r.detail})` : ''}; validate again`);
  return { outcome: r.outcome === 'changed' ? 'changed' : 'already-satisfied', before: r.before, after: r.after, detail: r.detail };
}

/** Sets a dotted key of the stored settings (pair.set), through the same schema as the portal's save. */
function withSetting(s: PairSettings, key: string, value: unknown): PairSettings {
  const parts = key.split('.');
  if (parts.some((p) => !/^[A-Za-z][A-Za-z0-9]*$/.test(p))) throw new StepError(`"${key}" is not a setting of the pair`);
  const copy = structuredClone(s) as unknown as Record<string, unknown>;
  let at: Record<string, unknown> = copy;
  for (const p of parts.slice(0, -1)) {
    const next = at[p];
    if (!next || typeof next !== 'object' || Array.isArray(next)) throw new StepError(`"${key}" is not a setting of the pair`);
    at = next as Record<string, unknown>;
  }
  const last = parts.at(-1)!;
  if (!(last in at)) throw new StepError(`"${key}" is not a setting of the pair`);
  at[last] = value;
  const checked = pairSettingsSchema.safeParse(copy);
  if (!checked.success) throw new StepError(`The pair's settings would not be valid: ${checked.error.issues[0]?.message ?? 'invalid'}`);
  return checked.data;
}

async function pairSet(ctx: StepContext, a: Extract<FixAction, { action: 'pair.set' }>): Promise<ActionOutcome> {
  return ctx.tx(async (db) => {
    const row = await db.protectionPair.findUnique({ where: { id: ctx.pair.id } });
    if (!row) throw new StepError('The pair no longer exists');
    const next = transition(row.status, 'config.changed');
    if ('refusal' in next) throw new StepError(next.refusal);
    const current = ctx.settings;
    const updated = withSetting(current, a.key, a.value);
    const before = JSON.stringify(a.key.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], current) ?? null);
    const after = JSON.stringify(a.value ?? null);
    if (before === after) return { outcome: 'already-satisfied' as const, before, after, detail: null };
    // Conditional on the status read: a pair enabled meanwhile keeps its configuration.
    const { count } = await db.protectionPair.updateMany({ where: { id: row.id, status: row.status }, data: { ...settingsToColumns(updated), configChangedAt: ctx.now(), status: next.status } });
    if (count === 0) throw new StepError('The pair changed while the fix ran; validate again');
    ctx.settings = updated;
    await emitEvent(db, { organizationId: row.organizationId, customerId: row.customerId, pairId: row.id, pairName: row.name, kind: 'configuration', message: `Configuration changed by a fix: ${a.key} ${before} → ${after}` });
    return { outcome: 'changed' as const, before, after, detail: null };
  });
}

async function setTtl(ctx: StepContext, a: Extract<FixAction, { action: 'dns.set-ttl' }>): Promise<ActionOutcome> {
  const records = a.records.map((r) => ({ zone: ctx.settings.dns.records.find((x) => x.name === r.name && x.type === r.type)?.zone ?? ctx.settings.dns.zone, name: r.name, type: r.type as 'A' }));
  if (records.some((r) => !r.zone)) throw new StepError('The pair names no DNS zone for these records');
  const out = (await stepExecutors['dns.lower-ttl'](ctx, { records, ttlSeconds: a.ttl })) as { lowered: string[]; absent: string[] };
  if (out.absent.length) throw new StepError(`Not in DNS: ${out.absent.join(', ')}`);
  return { outcome: out.lowered.length ? 'changed' : 'already-satisfied', before: a.before, after: `${a.ttl} s`, detail: out.lowered.join('; ') || null };
}

async function monitorCreate(ctx: StepContext): Promise<ActionOutcome> {
  const row = await ctx.tx((db) => db.protectionPair.findUnique({ where: { id: ctx.pair.id }, select: { status: true, monitoringStatus: true } }));
  if (!row || !enabledStatuses.includes(row.status)) throw new StepError('Failure monitoring runs only while protection is enabled: enable the pair first');
  if (row.monitoringStatus !== 'off') return { outcome: 'already-satisfied', before: row.monitoringStatus, after: row.monitoringStatus, detail: null };
  // The monitoring operation's own steps: both agents told, then the status recorded.
  for (const side of ['source', 'target'] as const) await stepExecutors['monitor.start'](ctx, { side });
  await stepExecutors['pair.set-monitoring'](ctx, { monitoringStatus: 'watching' });
  return { outcome: 'changed', before: 'off', after: 'watching', detail: null };
}

const startupModes = { manual: 'manual', disabled: 'disabled' } as const;

/** Runs one action. Every agent command goes through `command`/`commandTo` (derived ids, retries while the agent reconnects). */
export async function runFixAction(ctx: StepContext, a: FixAction): Promise<ActionOutcome> {
  switch (a.action) {
    case 'service.stop': {
      const r = await command(ctx, a.node, 'service.stop', { name: a.name }, 60_000);
      if (r.state === 'not-found') throw new StepError(`${a.name} does not exist on the ${a.node}`);
      if (r.state !== 'stopped') throw new StepError(`${a.name} is ${r.state} on the ${a.node} after the stop`);
      return { outcome: a.before === 'stopped' ? 'already-satisfied' : 'changed', before: a.before, after: r.state, detail: null };
    }
    case 'service.set-startup': {
      const r = await command(ctx, a.node, 'service.set-startup-mode', { name: a.name, mode: startupModes[a.mode] }, 60_000);
      if (r.state === 'not-found') throw new StepError(`${a.name} does not exist on the ${a.node}`);
      // SysV has no "disabled" apart from "no start links": manual and disabled both mean it will not start by itself.
      if (r.startMode === 'auto') throw new StepError(`${a.name} still starts automatically on the ${a.node}`);
      return { outcome: a.before === r.startMode ? 'already-satisfied' : 'changed', before: a.before, after: r.startMode, detail: null };
    }
    case 'fs.ensure-dir':
    case 'fs.ensure-owner':
      return fixResult(await command(ctx, a.node, 'fs.ensure-path', { path: a.path, owner: a.owner, mode: a.mode, create: a.action === 'fs.ensure-dir', expected: a.before }, 60_000));
    case 'hooks.prepare-dir':
      return fixResult(await command(ctx, a.node, 'hooks.prepare-dir', {}, 30_000));
    case 'time.resync':
      return fixResult(await command(ctx, a.node, 'time.resync', {}, 60_000));
    case 'app': {
      if (a.app === 'postgres' && a.op === 'set-target-settings') {
        const db = ctx.settings.connection.database;
        const settings = a.params.settings;
        if (!db) throw new StepError('This pair names no PostgreSQL instances');
        if (!settings || typeof settings !== 'object') throw new StepError('The plan names no settings to apply');
        const side = a.node;
        const r = await command(
          ctx,
          side,
          'postgresql.set-settings',
          {
            port: side === 'target' ? db.targetPort : db.sourcePort,
            dataDir: side === 'target' ? db.targetDataDir : db.sourceDataDir,
            settings: Object.fromEntries(Object.entries(settings as Record<string, unknown>).map(([k, v]) => [k, String(v)])),
            // A standby may be restarted; a source never is.
            allowRestart: side === 'target',
          },
          120_000,
        );
        return { outcome: r.outcome === 'changed' ? 'changed' : 'already-satisfied', before: a.before, after: a.after, detail: r.detail ?? (r.changed.length ? `changed ${r.changed.join(', ')}${r.restarted ? ' (restarted)' : ''}` : null) };
      }
      throw notSupported(`${a.app}.${a.op}`);
    }
    case 'dns.set-ttl':
      return setTtl(ctx, a);
    case 'pair.set':
      return pairSet(ctx, a);
    case 'replication.monitor.create':
      return monitorCreate(ctx);
    default:
      throw notSupported(a.action);
  }
}
