// cluster.* actions: Pacemaker on Linux (pacemaker.ts), Windows failover clusters through
// PowerShell (windows.ts). The stack named in the arguments must be this platform's.
import type { ActionArgs } from '@tandem/protocol';
import { runCommand, type CommandRunner } from '../../exec.ts';
import { ensurePacemakerResource, ensurePacemakerStack, readPacemakerConfig, replacePacemakerConfig } from './pacemaker.ts';
import {
  ensureWindowsClusterResource,
  ensureWindowsClusterStack,
  readWindowsClusterConfig,
  replaceWindowsClusterConfig,
} from './windows.ts';

export type ClusterAction = 'cluster.resource-ensure' | 'cluster.stack-ensure' | 'cluster.config-read' | 'cluster.config-replace';

export async function clusterAction(
  action: ClusterAction,
  args: unknown,
  ctx: { platform: NodeJS.Platform; run?: CommandRunner },
): Promise<unknown> {
  const run = ctx.run ?? runCommand;
  const { stack } = args as { stack: 'pacemaker' | 'windows-failover-cluster' };
  const expected = ctx.platform === 'win32' ? 'windows-failover-cluster' : ctx.platform === 'linux' ? 'pacemaker' : null;
  if (stack !== expected) throw new Error(`${action}: a ${stack} cluster cannot be managed from a ${ctx.platform} server`);
  if (stack === 'pacemaker') {
    switch (action) {
      case 'cluster.resource-ensure':
        return ensurePacemakerResource(run, args as ActionArgs<'cluster.resource-ensure'>);
      case 'cluster.stack-ensure':
        return ensurePacemakerStack(run, args as ActionArgs<'cluster.stack-ensure'>, ctx.platform);
      case 'cluster.config-read':
        return readPacemakerConfig(run);
      case 'cluster.config-replace':
        return replacePacemakerConfig(run, args as ActionArgs<'cluster.config-replace'>);
    }
  }
  switch (action) {
    case 'cluster.resource-ensure':
      return ensureWindowsClusterResource(run, args as ActionArgs<'cluster.resource-ensure'>);
    case 'cluster.stack-ensure':
      return ensureWindowsClusterStack(run, args as ActionArgs<'cluster.stack-ensure'>);
    case 'cluster.config-read':
      return readWindowsClusterConfig(run);
    case 'cluster.config-replace':
      return replaceWindowsClusterConfig(run, args as ActionArgs<'cluster.config-replace'>);
  }
}
