// The agent's postgresql.* actions (packages/protocol: actionArgs / actionResults). runAction has
// validated the arguments with the same schemas; a failure comes back as the command's error
// message, `<action> failed (<code>): <what happened>`, with the passwords of the command redacted
// (defence in depth: the functions already redact what the PostgreSQL tools print).
import type { ActionArgs, ActionName } from '@tandem/protocol';
import { cloneTarget } from './clone.ts';
import { type PgContext, PostgresReplicationError } from './context.ts';
import { redact } from './quoting.ts';
import { promote, rewindOrReclone } from './failover.ts';
import { prepareSource } from './source.ts';
import { replicationStatus } from './status.ts';
import { stopInstance } from './stop.ts';

export type PostgresqlActionName = Extract<ActionName, `postgresql.${string}`>;

async function dispatch(action: PostgresqlActionName, args: unknown, ctx?: PgContext): Promise<unknown> {
  switch (action) {
    case 'postgresql.prepare-source':
      return prepareSource(args as ActionArgs<'postgresql.prepare-source'>, ctx);
    case 'postgresql.clone-standby':
      return cloneTarget(args as ActionArgs<'postgresql.clone-standby'>, ctx);
    case 'postgresql.status':
      return replicationStatus(args as ActionArgs<'postgresql.status'>, ctx);
    case 'postgresql.promote':
      return promote(args as ActionArgs<'postgresql.promote'>, ctx);
    case 'postgresql.rewind-or-reclone':
      return rewindOrReclone(args as ActionArgs<'postgresql.rewind-or-reclone'>, ctx);
    case 'postgresql.stop':
      return stopInstance(args as ActionArgs<'postgresql.stop'>, ctx);
  }
}

export async function runPostgresqlAction(action: PostgresqlActionName, args: unknown, ctx?: PgContext): Promise<unknown> {
  try {
    return await dispatch(action, args, ctx);
  } catch (e) {
    const a = (args ?? {}) as { password?: string; rewindPassword?: string };
    const secrets = [a.password, a.rewindPassword];
    const code = e instanceof PostgresReplicationError ? e.code : 'internal';
    const message = e instanceof Error ? e.message : String(e);
    throw new PostgresReplicationError(redact(`${action} failed (${code}): ${message}`, secrets), e instanceof PostgresReplicationError ? e.code : 'command-failed');
  }
}
