import { z } from 'zod';
import type { CheckId } from './ids.ts';
import type { FactKey } from './facts.ts';
import type { FactsSnapshot, NodeFacts } from './snapshot.ts';
import type { FixAction } from './actions.ts';

// The catalogue's model (catalogue §1): a check is data plus pure functions. It performs no I/O;
// the worker collects a snapshot, the engine evaluates it, and fixes come back as typed actions.

/** Where a problem lives (§1.2). */
export const scopes = ['source', 'target', 'pair', 'dns', 'directory', 'cluster'] as const;
export type Scope = (typeof scopes)[number];

/** The catalogue's application vocabulary; the code's names map onto it in vocabulary.ts. */
export const catalogueApps = ['any', 'fileserver', 'sqlserver', 'exchange', 'sharepoint', 'postgres', 'mariadb', 'generic-service'] as const;
export type AppliesTo = (typeof catalogueApps)[number];

/** The catalogue's replication-method vocabulary (§1.2 table). */
export const catalogueMethods = ['databases', 'instance', 'database', 'log-shipping', 'files', 'file', 'streaming', 'logical', 'replication'] as const;
export type CatalogueMethod = (typeof catalogueMethods)[number];

export type Severity = 'error' | 'warning';
/** Which node a finding is about: the pair's two sides, or none (pair, DNS, directory). */
export type FindingSide = 'source' | 'target' | 'none';

export const displayStatuses = ['good', 'unknown', 'error-fixable', 'error-manual', 'warning-fixable', 'warning-manual'] as const;
export type DisplayStatus = (typeof displayStatuses)[number];

/** What a check's evaluate returns for one offending object. */
export interface FindingDraft {
  /** The offending object, `kind=name`: `service=postgresql`, `record=A db.example.com`, `setting=timezone`. */
  subject: string;
  /** One sentence a person can act on, naming the subject and the side. */
  message: string;
  /** The fact values that triggered it, secrets redacted (shown in the drawer; digested for acknowledgements). */
  evidence: Record<string, unknown>;
}

/** What a check sees: the whole snapshot, and for per-side checks the side and its node. */
export interface CheckContext {
  snap: FactsSnapshot;
  /** Set for checks scoped source and/or target (evaluated once per side); 'none' otherwise. */
  side: FindingSide;
  /** The node of `side` (source or target); null for pair-level checks. */
  node: NodeFacts | null;
}

/** The engine decided the fix is unsafe or impossible here: a person acts, guided by this text. */
export interface Guidance {
  guidance: string;
}
export interface Plan {
  plan: FixAction[];
}

interface FixCommon {
  /**
   * Refused while the pair is protected (it changes the target) — catalogue's second-to-last column.
   * 'target': only when the plan runs on the target (rows saying "yes (target); no (source)").
   */
  blockedWhileProtected: boolean | 'target';
  /** Widens access (grants, firewall openings, replication roles, pg_hba): confirmed one by one (§1.4). */
  privileged?: boolean;
  /** Fix All phase (§5), 1–8. */
  phase: FixPhase;
}
export interface AutoFix extends FixCommon {
  kind: 'auto';
  plan(ctx: CheckContext, finding: FindingDraft): FixAction[];
}
export interface ConditionalFix extends FixCommon {
  kind: 'conditional';
  decide(ctx: CheckContext, finding: FindingDraft): Plan | Guidance;
}
export interface ManualFix {
  kind: 'manual';
  /** Markdown for the operator. */
  guidance: string;
}
export type Fix = AutoFix | ConditionalFix | ManualFix;

/** Fix All's ordered phases (catalogue §5). */
export const fixPhases = {
  1: 'Control plane',
  2: 'Agent platform',
  3: 'Replication topology',
  4: 'Directory and DNS',
  5: 'Source prerequisites',
  6: 'Target passivity',
  7: 'Target parity',
  8: 'Replication scope',
} as const;
export type FixPhase = keyof typeof fixPhases;

export interface CheckDef {
  id: CheckId;
  /** First id segment. */
  family: string;
  /** A short title for lists ("Service running on the target"). */
  title: string;
  /** What it detects, in full (the drawer's explanation). */
  detects: string;
  scope: Scope[];
  appliesTo: AppliesTo[];
  /** Restrict to these methods of the pair's application; absent: every method. */
  methods?: CatalogueMethod[];
  severity: Severity;
  /** Everything evaluate may read; one missing → the check is unknown (never a crash). */
  facts: FactKey[];
  /**
   * Context filter beyond applies-to and methods (DNS failover selected, the pair clustered…):
   * false hides the check for this pair, as applies-to does. Reads only P./R./X. facts.
   */
  when?(snap: FactsSnapshot): boolean;
  /** Reports its own collection failure: one finding per node; dependants show unknown (§1.6). */
  gate?: true;
  evaluate(ctx: CheckContext): FindingDraft[];
  fix: Fix;
  /** Legacy messages it replaces (EX-nn, SQL-nn, or the HP guide's wording). */
  legacy?: string[];
}

/** One evaluated (check, side) of a run: its findings, or why it could not be evaluated. */
export interface CheckResult {
  checkId: CheckId;
  side: FindingSide;
  /** good, unknown, or the statuses of its findings. */
  status: DisplayStatus;
  /** Present when status is unknown: which fact or gatherer failed, and the gate finding if one caused it. */
  unknown?: { reason: string; facts: FactKey[]; gate?: CheckId };
  findings: EvaluatedFinding[];
}

export interface EvaluatedFinding extends FindingDraft {
  checkId: CheckId;
  side: FindingSide;
  severity: Severity;
  status: Exclude<DisplayStatus, 'good' | 'unknown'>;
  /** The plan when Tandem can fix it; null when a person must. */
  plan: FixAction[] | null;
  /** Manual guidance (manual fixes, and conditional fixes that resolved to manual). */
  guidance: string | null;
  /** Why Fix is unavailable now (protected pair, failed-over source…); null: it may run. */
  blockedReason: string | null;
  privileged: boolean;
  phase: FixPhase | null;
  /** sha-256-free, stable digest of the evidence (acknowledgements lapse when it changes). */
  evidenceDigest: string;
}

/** Stored findings are read back through this schema (the worker writes, the web reads). */
export const storedFindingSchema = z.object({
  checkId: z.string(),
  side: z.enum(['source', 'target', 'none']),
  subject: z.string(),
  message: z.string(),
  severity: z.enum(['error', 'warning']),
  status: z.enum(displayStatuses),
  evidence: z.record(z.string(), z.unknown()),
  evidenceDigest: z.string(),
  guidance: z.string().nullable(),
  blockedReason: z.string().nullable(),
  privileged: z.boolean(),
  phase: z.number().int().min(1).max(8).nullable(),
});
