import { z } from 'zod';
import { dnsDryRunSchema, dnsNameSchema, dnsServerSchema, validationFactsArgsSchema, validationFactsSchema } from '@tandem/engine';
import { domainAccountArgSchema, tsigKeyArgSchema } from './failover.ts';

// Actions of the validation catalogue: the facts a validation run reads, the DNS executor's dry
// run, and the fixes an agent carries out. Every fix is an "ensure": it compares the current
// value with the plan's `before` (stale-plan when it moved on), does nothing when the desired
// value already holds (already-satisfied), and otherwise sets it and reads it back.

/** `validate.facts`: the collectors beyond the standing facts (schemas in the engine catalogue). */
export const validateFactsArgsSchema = validationFactsArgsSchema;
export const validateFactsResultSchema = validationFactsSchema;

/**
 * `dns.dry-run`: the DNS executor checks that a failover's DNS change could be made, without
 * changing any real record: the primary first (10 s), then the secondaries, within 30 s overall.
 */
export const dnsDryRunArgsSchema = z.strictObject({
  provider: z.enum(['rfc2136', 'windows']).default('rfc2136'),
  zone: dnsNameSchema,
  /** In the pair's order; the first is the primary unless the zone's SOA names another. */
  servers: z.array(dnsServerSchema).min(1).max(8),
  tsig: tsigKeyArgSchema.optional(),
  account: domainAccountArgSchema.optional(),
  /** The source's DNS name (its A/AAAA records are what moves). */
  sourceName: dnsNameSchema,
  /** Source and target addresses whose reverse zones matter. */
  addresses: z.array(z.string().max(64)).max(32),
  /** Resolvers to compare with the server (the executor's own when empty). */
  resolvers: z.array(z.string().max(64)).max(16).default([]),
  budgetMs: z.number().int().min(1_000).max(120_000).default(30_000),
  primaryMs: z.number().int().min(500).max(60_000).default(10_000),
});
export const dnsDryRunResultSchema = dnsDryRunSchema;

const fixOutcome = z.enum(['changed', 'already-satisfied', 'stale-plan']);
export const fixResultSchema = z.strictObject({ outcome: fixOutcome, before: z.string().max(4096).nullable(), after: z.string().max(4096).nullable(), detail: z.string().max(2000).nullable() });
export type FixResult = z.infer<typeof fixResultSchema>;

const absPath = z.string().min(1).max(4096).refine((p) => /^([/\\]|[A-Za-z]:[/\\])/.test(p), 'must be an absolute path');
/** The plan's `before` as seen then (null: nothing to compare). */
const expect = { expected: z.string().max(4096).nullable().default(null) };

/** `fs.ensure-path`: a directory exists with this owner and mode (created with its parents' filesystem; never a mount). */
export const fsEnsurePathArgsSchema = z.strictObject({
  path: absPath,
  owner: z.string().min(1).max(64).regex(/^[a-z_][a-z0-9_.-]*\$?$/i, 'a user name'),
  mode: z.number().int().min(0).max(0o7777),
  create: z.boolean(),
  ...expect,
});

/**
 * `postgresql.set-settings`: the target instance holds these settings (ALTER SYSTEM), reloaded,
 * or restarted when a setting needs it and `allowRestart` (a standby may be restarted; a source never).
 */
export const pgSetSettingsArgsSchema = z.strictObject({
  port: z.number().int().min(1).max(65_535),
  dataDir: absPath,
  settings: z.record(z.string().regex(/^[a-z_][a-z0-9_.]*$/).max(128), z.string().max(4096)).refine((r) => Object.keys(r).length > 0 && Object.keys(r).length <= 100, '1 to 100 settings'),
  allowRestart: z.boolean(),
});
export const pgSetSettingsResultSchema = z.strictObject({ outcome: fixOutcome, changed: z.array(z.string()), restarted: z.boolean(), detail: z.string().max(2000).nullable() });

/** `hooks.prepare-dir`: the agent's own hook directory exists, owned by it, writable, outside every replication set. */
export const hooksPrepareDirArgsSchema = z.strictObject({});
/** `time.resync`: one step of the configured time service (chronyc makestep, timedatectl, w32tm /resync). */
export const timeResyncArgsSchema = z.strictObject({});

export const validationActionArgs = {
  'validate.facts': validateFactsArgsSchema,
  'dns.dry-run': dnsDryRunArgsSchema,
  'fs.ensure-path': fsEnsurePathArgsSchema,
  'postgresql.set-settings': pgSetSettingsArgsSchema,
  'hooks.prepare-dir': hooksPrepareDirArgsSchema,
  'time.resync': timeResyncArgsSchema,
} as const;

export const validationActionResults = {
  'validate.facts': validateFactsResultSchema,
  'dns.dry-run': dnsDryRunResultSchema,
  'fs.ensure-path': fixResultSchema,
  'postgresql.set-settings': pgSetSettingsResultSchema,
  'hooks.prepare-dir': fixResultSchema,
  'time.resync': fixResultSchema,
} as const;
