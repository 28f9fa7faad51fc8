// runAction: validates an action's arguments against the protocol, carries it out, and validates
// its result. facts.collect, credential.rotate, replication.* (but check-set) and monitor.* belong
// to the agent runtime.
import { actionArgs, actionResults, type ActionArgs, type ActionName } from '@tandem/protocol';
import { type z } from 'zod';
import type { CommandRunner } from '../exec.ts';
import { defaultIO } from '../facts/io.ts';
import { runPostgresqlAction } from '../replication/postgresql/actions.ts';
import { checkReplicationSet } from './check-set.ts';
import { dnsAction } from './dns.ts';
import { dnsDryRun } from '../dns/dry-run.ts';
import { runHook, writeHook } from './hooks.ts';
import { ensureAddress } from './address.ts';
import { ensureService, serviceAction, setStartupMode, type ServiceVerb } from './services.ts';
import { clusterAction } from './cluster/index.ts';
import { createPostgresTestCopy, queryPostgresTestCopy } from '../replication/postgresql/test-copy.ts';
import { createFilesCopy, listTestCopies, removeCopy } from './test-copy.ts';
import { setSettings } from '../validation/pg-settings.ts';
import { filesHash, pathsExist, tcpProbe } from './test/probes.ts';
import { requireScratchDir } from './test/scratch.ts';
import { ensurePath, prepareHooksDir } from '../validation/fixes.ts';
import { collectValidationFacts, validationContext } from '../validation/index.ts';
import { resyncTime } from '../validation/time.ts';

export interface ActionContext {
  hooksDir: string;
  /** Test failover copies live here (`<agent config dir>/scratch` by default). */
  scratchDir?: string;
  platform?: NodeJS.Platform;
  run?: CommandRunner;
  /** Replaces file reads (tests: /proc/1/comm decides between systemd and SysV). */
  readFile?: (file: string) => Promise<string>;
}

interface Issue {
  path: PropertyKey[];
  message: string;
}

function describeIssues(issues: Issue[]): string {
  return issues
    .slice(0, 5)
    .map((i) => (i.path.length > 0 ? `"${i.path.map(String).join('.')}": ${i.message}` : i.message))
    .join('; ');
}

/** Actions the agent runtime carries out itself (they need its connection, config or sessions). */
export const runtimeActions = [
  'facts.collect',
  'credential.rotate',
  'replication.start',
  'replication.stop',
  'replication.status',
  'replication.verify',
  'replication.resend',
  'replication.restore',
  'monitor.start',
  'monitor.stop',
  'monitor.status',
] as const;
type RuntimeAction = (typeof runtimeActions)[number];
const isRuntimeAction = (a: ActionName): a is RuntimeAction => (runtimeActions as readonly string[]).includes(a);

function isActionName(action: string): action is ActionName {
  return Object.hasOwn(actionArgs, action);
}

/** Validates a command's arguments against the protocol (readable messages, like runAction's). */
export function parseActionArgs<A extends ActionName>(action: A, rawArgs: unknown): z.infer<(typeof actionArgs)[A]> {
  const parsed = actionArgs[action].safeParse(rawArgs ?? {});
  if (!parsed.success) throw new Error(`Invalid arguments for ${action}: ${describeIssues(parsed.error.issues)}`);
  return parsed.data as z.infer<(typeof actionArgs)[A]>;
}

export async function runAction(action: ActionName | (string & {}), rawArgs: unknown, ctx: ActionContext): Promise<unknown> {
  if (!isActionName(action)) throw new Error(`unknown action "${action}"`);
  if (isRuntimeAction(action)) throw new Error('handled by the agent runtime');
  const parsed = actionArgs[action].safeParse(rawArgs ?? {});
  if (!parsed.success) throw new Error(`Invalid arguments for ${action}: ${describeIssues(parsed.error.issues)}`);
  const result = await execute(action, parsed.data, ctx);
  return actionResults[action].parse(result);
}

async function execute(
  action: Exclude<ActionName, RuntimeAction>,
  args: unknown,
  ctx: ActionContext,
): Promise<unknown> {
  const platform = ctx.platform ?? process.platform;
  switch (action) {
    case 'service.start':
    case 'service.stop':
    case 'service.enable':
    case 'service.disable':
    case 'service.status': {
      const { name } = args as ActionArgs<typeof action>;
      return serviceAction(
        defaultIO({ platform, run: ctx.run, readFile: ctx.readFile }),
        action.slice('service.'.length) as ServiceVerb,
        name,
      );
    }
    case 'hook.write': {
      const { name, content } = args as ActionArgs<'hook.write'>;
      return writeHook(ctx.hooksDir, name, content);
    }
    case 'hook.run': {
      const { name, args: hookArgs, timeoutMs } = args as ActionArgs<'hook.run'>;
      return runHook(ctx.hooksDir, name, hookArgs, timeoutMs, platform);
    }
    case 'replication.check-set': {
      const { source } = args as ActionArgs<'replication.check-set'>;
      return checkReplicationSet(source.roots);
    }
    case 'service.ensure': {
      const { name, state, timeoutMs } = args as ActionArgs<'service.ensure'>;
      return ensureService(defaultIO({ platform, run: ctx.run, readFile: ctx.readFile }), name, state, timeoutMs);
    }
    case 'service.set-startup-mode': {
      const { name, mode } = args as ActionArgs<'service.set-startup-mode'>;
      return setStartupMode(defaultIO({ platform, run: ctx.run, readFile: ctx.readFile }), name, mode);
    }
    case 'address.ensure':
      return ensureAddress(defaultIO({ platform, run: ctx.run, readFile: ctx.readFile }), args as ActionArgs<'address.ensure'>);
    case 'dns.query':
    case 'dns.transfer':
    case 'dns.apply':
      return dnsAction(action, args, { platform, run: ctx.run });
    case 'dns.dry-run':
      return dnsDryRun(args as ActionArgs<'dns.dry-run'>, platform);
    case 'postgresql.prepare-source':
    case 'postgresql.clone-standby':
    case 'postgresql.status':
    case 'postgresql.promote':
    case 'postgresql.rewind-or-reclone':
    case 'postgresql.stop':
      return runPostgresqlAction(action, args, { run: ctx.run });
    case 'postgresql.set-settings':
      return setSettings(args as ActionArgs<'postgresql.set-settings'>, { run: ctx.run });
    case 'test.copy-create':
      return createFilesCopy(args as ActionArgs<'test.copy-create'>, { scratchDir: requireScratchDir(ctx.scratchDir), run: ctx.run });
    case 'test.copy-remove':
      return removeCopy(args as ActionArgs<'test.copy-remove'>, { scratchDir: requireScratchDir(ctx.scratchDir), run: ctx.run });
    case 'test.copy-list':
      return listTestCopies({ scratchDir: requireScratchDir(ctx.scratchDir) });
    case 'test.files-hash':
      return filesHash(args as ActionArgs<'test.files-hash'>);
    case 'test.paths-exist':
      return pathsExist(args as ActionArgs<'test.paths-exist'>);
    case 'test.tcp-probe':
      return tcpProbe(args as ActionArgs<'test.tcp-probe'>);
    case 'postgresql.test-copy-create':
      return createPostgresTestCopy(args as ActionArgs<'postgresql.test-copy-create'>, { scratchDir: requireScratchDir(ctx.scratchDir), run: ctx.run });
    case 'postgresql.test-copy-query':
      return queryPostgresTestCopy(args as ActionArgs<'postgresql.test-copy-query'>, { scratchDir: requireScratchDir(ctx.scratchDir), run: ctx.run });
    case 'cluster.resource-ensure':
    case 'cluster.stack-ensure':
    case 'cluster.config-read':
    case 'cluster.config-replace':
      return clusterAction(action, args, { platform, run: ctx.run });
    case 'validate.facts':
      return collectValidationFacts(args as ActionArgs<'validate.facts'>, validationContext({ ...ctx, platform }));
    case 'fs.ensure-path':
      return ensurePath(defaultIO({ platform, run: ctx.run, readFile: ctx.readFile }), args as ActionArgs<'fs.ensure-path'>);
    case 'hooks.prepare-dir':
      return prepareHooksDir(defaultIO({ platform, run: ctx.run, readFile: ctx.readFile }), ctx.hooksDir, process.getuid?.() ?? 0, process.getgid?.() ?? 0);
    case 'time.resync':
      return resyncTime(validationContext({ ...ctx, platform }));
  }
}
