// What every PostgreSQL replication function shares: its error type (with a code), the injectable
// I/O context, and input validation (the schemas are the protocol's: packages/protocol/src/postgresql.ts).
import type { PgInstanceSpec } from '@tandem/protocol';
import { z } from 'zod';
import { runCommand, type CommandRunner } from '../../exec.ts';

export type PgErrorCode = 'invalid-input' | 'not-running' | 'command-failed' | 'timeout' | 'unsupported' | 'unsafe' | 'settings';

export class PostgresReplicationError extends Error {
  override name = 'PostgresReplicationError';
  constructor(
    message: string,
    readonly code: PgErrorCode,
  ) {
    super(message);
  }
}

/** Injectable I/O for tests; the agent uses the defaults. */
export interface PgContext {
  run?: CommandRunner;
}

export const runnerOf = (ctx: PgContext | undefined): CommandRunner => ctx?.run ?? runCommand;

export type InstanceSpec = PgInstanceSpec;

export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const r = schema.safeParse(input);
  // zod's messages name the path and the rule, never the value, so no secret is echoed.
  if (!r.success) throw new PostgresReplicationError(`${what}: invalid input: ${z.prettifyError(r.error)}`, 'invalid-input');
  return r.data;
}
