// runAction: validates an action's arguments against the protocol, carries it out, and validates
// its result. facts.collect and credential.rotate belong to the agent runtime.
import { actionArgs, actionResults, type ActionArgs, type ActionName } from '@tandem/protocol';
import type { CommandRunner } from '../exec.ts';
import { defaultIO } from '../facts/io.ts';
import { runHook, writeHook } from './hooks.ts';
import { serviceAction, type ServiceVerb } from './services.ts';

export interface ActionContext {
  hooksDir: string;
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

function isActionName(action: string): action is ActionName {
  return Object.hasOwn(actionArgs, action);
}

export async function runAction(action: ActionName | (string & {}), rawArgs: unknown, ctx: ActionContext): Promise<unknown> {
  if (!isActionName(action)) throw new Error(`unknown action "${action}"`);
  if (action === 'facts.collect' || action === 'credential.rotate') throw new Error('handled by the agent runtime');
  const parsed = actionArgs[action].safeParse(rawArgs ?? {});
  if (!parsed.success) throw new Error(`Invalid arguments for ${action}: ${describeIssues(parsed.error.issues)}`);
  const result = await execute(action, parsed.data, ctx);
  return actionResults[action].parse(result);
}

async function execute(
  action: Exclude<ActionName, 'facts.collect' | 'credential.rotate'>,
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
  }
}
