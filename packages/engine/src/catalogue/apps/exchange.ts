import { z } from 'zod';
import type { NodeFacts, PairFacts } from '../snapshot.ts';

// Exchange application facts (catalogue §2.14, `app.exchange`): Exchange Server 2016, 2019 and
// Subscription Edition; legacy storage groups and stores appear as mailbox databases.

const str = z.string().max(4096);
const list = <T extends z.ZodType>(item: T, max = 10_000) => z.array(item).max(max);

export const exchangeDatabaseSchema = z.strictObject({
  name: str,
  /** Public-folder store of a legacy estate (modern public folders live in mailboxes). */
  publicFolder: z.boolean(),
  mounted: z.boolean(),
  edbFilePath: str,
  logFolderPath: str,
  /** Log file prefix (E00, E01…). */
  logPrefix: z.string().max(16),
  circularLogging: z.boolean(),
  /** Zeroes deleted pages during maintenance or backup. */
  pageZeroing: z.boolean(),
  /** Legacy estates only: system path and streaming (.stm) file path; null on modern versions. */
  systemPath: str.nullable(),
  streamingPath: str.nullable(),
});

export const exchangeFactsSchema = z.strictObject({
  /** AdminDisplayVersion build, e.g. 15.2.1544.4. */
  version: str,
  /** Cumulative update label (CU14), null when unknown. */
  cu: str.nullable(),
  /** Installed server roles (Mailbox, Edge…). */
  roles: list(str, 16),
  edition: z.enum(['standard', 'enterprise', 'evaluation', 'coexistence', 'unknown']),
  organization: str,
  adminGroup: str,
  databases: list(exchangeDatabaseSchema, 1000),
  /** Transport paths: queue database, pickup and replay directories (null: no transport service). */
  transport: z.strictObject({ queueDatabasePath: str, pickupDirectory: str, replayDirectory: str }).nullable(),
  /** Receive-connector bindings: address (0.0.0.0 or :: = all) and port. */
  receiveBindings: list(z.strictObject({ connector: str, address: str, port: z.number().int().min(1).max(65_535) }), 1000),
});
export type ExchangeFacts = z.infer<typeof exchangeFactsSchema>;
export type ExchangeDatabase = z.infer<typeof exchangeDatabaseSchema>;

/** The node's Exchange facts, validated; a value that does not fit is an error (→ unknown); null: Exchange not installed. */
export function exchangeOf(node: NodeFacts | null, side: string): ExchangeFacts | null {
  if (!node) throw new Error(`the ${side} has no facts`);
  const raw = node.apps.exchange;
  if (raw === null) return null;
  const parsed = exchangeFactsSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`the ${side}'s Exchange facts are malformed: ${parsed.error.issues[0]?.path.join('.') ?? ''} ${parsed.error.issues[0]?.message ?? ''}`.trim());
  return parsed.data;
}

/**
 * The selected databases. Exchange pairs protect an explicit list (`selection.databases`); null
 * means no list was stored, which the catalogue treats as nothing selected (legacy EX-58).
 */
export const selectedDatabases = (pair: PairFacts) => pair.selection.databases ?? [];
export const isSelectedDb = (pair: PairFacts, name: string) => selectedDatabases(pair).some((s) => s.toLowerCase() === name.toLowerCase());

/** Windows paths compare case-insensitively and without a trailing backslash. */
export const samePath = (a: string | null, b: string | null) => (a ?? '').replace(/\\+$/, '').toLowerCase() === (b ?? '').replace(/\\+$/, '').toLowerCase();

/** Exchange Standard mounts at most this many databases. */
export const standardDatabaseLimit = 5;
