import { z } from 'zod';
import type { NodeFacts, PairFacts } from '../snapshot.ts';

// SQL Server application facts (catalogue §2.15, `app.sqlserver`): what a Windows agent's
// collector reports per node, and what the sqlserver checks (and SharePoint's back end) compare.
// One node may run several instances; the parity checks pair them up by instance name.

const str = z.string().max(4096);
const list = <T extends z.ZodType>(item: T, max = 10_000) => z.array(item).max(max);

export const sqlDatabaseFileSchema = z.strictObject({
  /** Logical name. */
  name: str,
  type: z.enum(['data', 'log', 'filestream', 'fulltext']),
  path: str,
});

/** A user inside a database and the login SID it maps to (null: not mapped to a login, e.g. a contained user). */
export const sqlDatabasePrincipalSchema = z.strictObject({ name: str, sid: str.nullable(), roles: list(str, 200) });

export const sqlDatabaseSchema = z.strictObject({
  name: str,
  /** sys.databases state_desc in lower case (online, restoring, recovering, offline, suspect, emergency), plus standby. */
  state: z.enum(['online', 'restoring', 'recovering', 'recovery-pending', 'suspect', 'emergency', 'offline', 'standby']),
  recoveryModel: z.enum(['full', 'bulk-logged', 'simple']),
  files: list(sqlDatabaseFileSchema, 32_767),
  /** Transparent data encryption: null when the database is not encrypted. */
  tde: z.strictObject({ encryptorType: z.enum(['certificate', 'asymmetric-key']), encryptorThumbprint: str }).nullable(),
  /** The Always On availability group it belongs to (null: none). */
  availabilityGroup: str.nullable(),
  principals: list(sqlDatabasePrincipalSchema),
});

export const sqlLoginSchema = z.strictObject({
  name: str,
  type: z.enum(['sql', 'windows-user', 'windows-group', 'certificate', 'asymmetric-key']),
  /** Hex SID (0x…). */
  sid: str,
  /** A digest of the password hash (SQL logins); the hash itself never leaves the agent. */
  passwordHashDigest: str.nullable(),
  defaultDatabase: str,
  defaultLanguage: str.nullable(),
  disabled: z.boolean(),
  /** Server-level permissions granted (state + permission, e.g. "GRANT VIEW SERVER STATE"). */
  serverPermissions: list(str, 500),
});

export const sqlInstanceSchema = z.strictObject({
  /** MSSQLSERVER for the default instance. */
  name: str,
  /** The Windows service (MSSQLSERVER or MSSQL$NAME). */
  serviceName: str,
  /** Product version, e.g. 16.0.4135.4. */
  version: str,
  /** Servicing level (SERVERPROPERTY ProductUpdateLevel or ProductLevel): RTM, CU12, GDR… */
  servicingLevel: str.nullable(),
  edition: str,
  installPath: str,
  serviceAccount: str,
  /** Startup parameters in order (-d…, -e…, -l…, -T…). */
  startupParams: list(str, 200),
  /** Instance registry values under the instance key: subkey ('' for the key itself, e.g. SuperSocketNetLib\Tcp), name, value. */
  registry: list(z.strictObject({ key: z.string().max(1024), name: z.string().max(256), value: z.union([str, z.number()]) }), 5000),
  authMode: z.enum(['windows', 'mixed']),
  /** Full-text settings (null: full-text not installed). */
  fulltext: z.record(z.string().max(128), z.union([str, z.number(), z.boolean()])).nullable(),
  /** SQL Server Agent settings and objects (null: no Agent, e.g. Express). */
  agent: z
    .strictObject({
      settings: z.record(z.string().max(128), z.union([str, z.number(), z.boolean()])),
      jobs: list(str),
      operators: list(str, 1000),
      alerts: list(str, 1000),
    })
    .nullable(),
  databases: list(sqlDatabaseSchema, 32_767),
  /** sys.configurations: name → value_in_use. */
  config: list(z.strictObject({ name: z.string().max(256), value: z.number() }), 1000),
  logins: list(sqlLoginSchema),
  serverRoles: list(z.strictObject({ name: str, fixed: z.boolean(), members: list(str) }), 1000),
  linkedServers: list(
    z.strictObject({
      name: str,
      product: str,
      provider: str,
      dataSource: str.nullable(),
      catalog: str.nullable(),
      /** Remote login mappings; remoteUser null = the login connects as itself. */
      remoteLogins: list(z.strictObject({ localLogin: str.nullable(), remoteUser: str.nullable() }), 1000),
    }),
    1000,
  ),
  backupDevices: list(z.strictObject({ name: str, type: z.enum(['disk', 'tape', 'url']), path: str }), 1000),
  languages: z.strictObject({ default: str, available: list(str, 200) }),
  /** Replication roles and what they publish (null: replication components absent). */
  replication: z.strictObject({ publisher: z.boolean(), distributor: z.boolean(), subscriber: z.boolean(), publications: list(str, 1000) }).nullable(),
  /** Certificates in master (TDE protectors among them). */
  certificates: list(z.strictObject({ name: str, thumbprint: str, hasPrivateKey: z.boolean() }), 1000),
  /** master's database master key: null when none; passwordProtected false = only the service master key opens it. */
  masterKey: z.strictObject({ passwordProtected: z.boolean() }).nullable(),
  /** Native log shipping: databases this instance ships (primary) or restores (secondary). */
  logShipping: z.strictObject({
    primaries: list(
      z.strictObject({
        database: str,
        backupShare: str,
        /** Recent log backups, oldest first; LSNs as decimal strings. */
        backups: list(z.strictObject({ file: str, firstLsn: z.string().regex(/^\d+$/), lastLsn: z.string().regex(/^\d+$/) }), 10_000),
      }),
      1000,
    ),
    secondaries: list(z.strictObject({ database: str, copyDirectory: str, lastRestoredFile: str.nullable(), lastRestoredLsn: z.string().regex(/^\d+$/).nullable() }), 1000),
  }),
});

/** `app.sqlserver`: the node's instances; null (collected, none installed) reads as no instances. */
export const sqlserverFactsSchema = z.strictObject({
  /** The computer's Active Directory domain (null: workgroup). */
  domain: str.nullable(),
  instances: list(sqlInstanceSchema, 50),
});
export type SqlserverFacts = z.infer<typeof sqlserverFactsSchema>;
export type SqlInstance = z.infer<typeof sqlInstanceSchema>;
export type SqlDatabase = z.infer<typeof sqlDatabaseSchema>;

/** The node's SQL Server facts, validated; a value that does not fit the schema is an error (→ unknown). */
export function sqlserverOf(node: NodeFacts | null, side: string): SqlserverFacts {
  if (!node) throw new Error(`the ${side} has no facts`);
  const raw = node.apps.sqlserver;
  if (raw === null) return { domain: null, instances: [] };
  const parsed = sqlserverFactsSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`the ${side}'s SQL Server facts are malformed: ${parsed.error.issues[0]?.path.join('.') ?? ''} ${parsed.error.issues[0]?.message ?? ''}`.trim());
  return parsed.data;
}

export const systemDatabases = ['master', 'model', 'msdb', 'tempdb'];
const eq = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * Is the database protected? `selection.databases` null: no explicit selection. Entries name a
 * database (any instance) or `INSTANCE/db`.
 */
export function isSelected(pair: PairFacts, instance: string, db: string): boolean {
  const sel = pair.selection.databases;
  // Without a selection the instance method carries every database (tempdb is rebuilt at start);
  // the database methods carry the user databases.
  if (sel === null) return pair.method === 'instance' ? !eq(db, 'tempdb') : !systemDatabases.some((x) => eq(x, db));
  return sel.some((s) => eq(s, db) || eq(s, `${instance}/${db}`) || eq(s, `${instance}\\${db}`));
}

/** The instances the pair protects on the source: those holding a selected database, or all without a selection. */
export function protectedInstances(pair: PairFacts, src: SqlserverFacts): SqlInstance[] {
  if (pair.selection.databases === null) return src.instances;
  return src.instances.filter((i) => i.databases.some((d) => isSelected(pair, i.name, d.name)) || pair.selection.databases!.some((s) => s.toLowerCase().startsWith(`${i.name.toLowerCase()}/`)));
}

export const findInstance = (facts: SqlserverFacts, name: string) => facts.instances.find((i) => eq(i.name, name)) ?? null;

/** Source and target instances of the same name (protected ones only). */
export function instancePairs(pair: PairFacts, src: SqlserverFacts, tgt: SqlserverFacts): { s: SqlInstance; t: SqlInstance }[] {
  return protectedInstances(pair, src).flatMap((s) => {
    const t = findInstance(tgt, s.name);
    return t ? [{ s, t }] : [];
  });
}

/** Numeric comparison of dotted versions: <0, 0, >0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** `database=Sales` for the default instance, `database=SALES01/Sales` for a named one. */
export const dbSubject = (instance: string, db: string) => `database=${eq(instance, 'MSSQLSERVER') ? db : `${instance}/${db}`}`;
export const instSubject = (instance: string) => `instance=${instance}`;

/** A source path as the target sees it (P.pathMap prefixes, case-insensitive on Windows). */
export function mapPath(pair: PairFacts, path: string): string {
  for (const m of pair.pathMap) {
    if (path.toLowerCase().startsWith(m.from.toLowerCase())) return m.to + path.slice(m.from.length);
  }
  return path;
}

/**
 * The target paths the sqlserver checks read from T.paths (backup-device folders, log-shipping
 * backup shares), from the source's facts: the worker adds them to the target's validate.facts
 * request; a path not asked about leaves those checks silent rather than wrong.
 */
export function sqlserverTargetPaths(pair: PairFacts, source: unknown): string[] {
  const parsed = sqlserverFactsSchema.safeParse(source);
  if (!parsed.success) return [];
  const paths = new Set<string>();
  for (const i of protectedInstances(pair, parsed.data)) {
    for (const d of i.backupDevices.filter((x) => x.type === 'disk')) {
      const p = mapPath(pair, d.path);
      paths.add(p.slice(0, Math.max(p.lastIndexOf('\\'), 0)) || p);
    }
    for (const ls of i.logShipping.primaries) paths.add(ls.backupShare);
  }
  return [...paths];
}
