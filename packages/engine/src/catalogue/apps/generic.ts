import { z } from 'zod';
import type { FactsSnapshot, PairFacts } from '../snapshot.ts';
import { appFacts } from './common.ts';

// Generic service application facts (catalogue §3.4, `app.generic`): the protected systemd unit
// or Windows service as each node has it: its parsed definition, what it listens on, and the
// files and accounts the definition names.

const str = z.string().max(4096);
const list = <T extends z.ZodType>(item: T, max = 10_000) => z.array(item).max(max);

export const genericFactsSchema = z.strictObject({
  /** Unit or service name. */
  service: str,
  /**
   * Parsed definition. systemd: ExecStart, User, Group, Environment, EnvironmentFile,
   * WorkingDirectory, Limit*, After, Requires, Wants (unit file plus drop-ins). Windows:
   * BinaryPath, Arguments, Environment, Recovery, DependOnService.
   */
  definition: z.record(z.string().max(128), str),
  /** Digest of the unit file plus drop-ins (or the service's registry definition). */
  digest: str.nullable(),
  /** The program it starts (absolute path). */
  executable: str.nullable(),
  /** Whether `executable` exists on this node (null or absent: not checked). */
  executableExists: z.boolean().nullable().optional(),
  /** Where the application is installed (the executable's install directory). */
  installPath: str.nullable(),
  /** Run-as account (null: the service manager's default). */
  account: str.nullable(),
  /** Units or services it depends on. */
  dependencies: list(str, 200),
  /** Ports it listens on when running. */
  ports: list(z.strictObject({ protocol: z.enum(['tcp', 'udp']), port: z.number().int().min(1).max(65_535) }), 256),
  /** Files and directories the definition references (EnvironmentFile, WorkingDirectory, paths in arguments). */
  referencedFiles: list(z.strictObject({ path: str, kind: z.enum(['file', 'dir']), digest: str.nullable() }), 1000),
  /** Accounts asked about (the source's run-as account): whether each exists on this node. */
  accounts: z.record(z.string().max(256), z.boolean()),
});
export type GenericFacts = z.infer<typeof genericFactsSchema>;

export const generic = (snap: FactsSnapshot, side: 'source' | 'target'): GenericFacts => appFacts(snap, side, 'generic', genericFactsSchema, 'generic service');

/**
 * The pair's declared post-start probes (test failover probes). Not part of PairFacts yet: the
 * worker adds `probes` when it builds the snapshot; until then health-probe-missing is unknown.
 */
export function pairProbes(pair: PairFacts): { kind: string }[] {
  const probes = (pair as PairFacts & { probes?: unknown }).probes;
  if (!Array.isArray(probes)) throw new Error("the pair's probes are not in the snapshot");
  return probes.filter((p): p is { kind: string } => !!p && typeof (p as { kind?: unknown }).kind === 'string');
}
