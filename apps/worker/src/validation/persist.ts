// Storing a finished validation run in one short transaction: the run, its findings, the pair's
// readiness and latest run, the lifecycle event (validated / back to unprotected) through the
// engine's transition, a pair event for errors the previous run did not have, and the audit.
import { emitEvent, type EmitEvent, type TenantTx } from '@tandem/db';
import { conditionChange, pairNames } from '../jobs/alert-conditions.ts';
import { checkById, conditionKey, readinessScore, transition, type CheckResult, type DisplayStatus, type EvaluatedFinding, type FactsSnapshot, type FindingSide, type Readiness } from '@tandem/engine';

export const findingKey = (f: { checkId: string; side: string; subject: string }) => `${f.checkId}\u0000${f.side}\u0000${f.subject}`;

/** What a run's verdict is for the lifecycle: passed when no error finding and no unknown error check. */
export function verdictOf(results: readonly CheckResult[]): 'passed' | 'warnings' | 'failed' {
  let warnings = false;
  for (const r of results) {
    const severity = checkById(r.checkId)?.severity ?? 'error';
    if (r.status === 'error-fixable' || r.status === 'error-manual') return 'failed';
    if (r.status === 'unknown' && severity === 'error') return 'failed';
    if (r.status === 'warning-fixable' || r.status === 'warning-manual') warnings = true;
  }
  return warnings ? 'warnings' : 'passed';
}

export interface PersistInput {
  runId: string;
  operationId: string;
  pair: { id: string; organizationId: string; customerId: string; name: string };
  startedAt: Date;
  finishedAt: Date;
  results: CheckResult[];
  /** The snapshot the results were evaluated on (readiness reads lag, drills, vault, DNS TTLs). */
  snap: FactsSnapshot;
  overall: DisplayStatus;
  fingerprint: string;
  gatherers: Record<string, { ok: boolean; error: string | null; ms: number }>;
  /** Findings a fix settled just before this run (key → true): when they come back, the fix did not hold. */
  fixedBefore: Set<string>;
  actor: { id: string | null; label: string };
}

export interface Persisted {
  status: 'passed' | 'warnings' | 'failed';
  pairStatus: string;
  newErrors: string[];
  readiness: Readiness;
}

export async function persistRun(db: TenantTx, p: PersistInput): Promise<Persisted> {
  const status = verdictOf(p.results);
  const findings: EvaluatedFinding[] = p.results.flatMap((r) => r.findings);
  const stored = p.results.map((r) => ({ checkId: r.checkId, side: r.side, status: r.status, severity: checkById(r.checkId)?.severity ?? 'error', ...(r.unknown ? { unknown: r.unknown } : {}), findings: r.findings.length }));

  const pair = await db.protectionPair.findUnique({ where: { id: p.pair.id }, select: { status: true, lastValidationRunId: true, validationDueAt: true } });
  if (!pair) throw new Error('The pair no longer exists');
  const previous = pair.lastValidationRunId
    ? await db.finding.findMany({ where: { validationRunId: pair.lastValidationRunId, severity: 'error' }, select: { checkId: true, side: true, subject: true } })
    : [];
  const before = new Set(previous.map(findingKey));
  // Warnings acknowledged with the same evidence, not expired, weigh nothing in readiness.
  const acks = await db.findingAcknowledgement.findMany({ where: { pairId: p.pair.id, expiresAt: { gt: p.finishedAt } } });
  const digests = new Map(findings.map((f) => [findingKey(f), f.evidenceDigest]));
  const acknowledged = new Set(acks.filter((a) => digests.get(findingKey(a)) === a.evidenceDigest).map(findingKey));
  const readiness = readinessScore(p.results, p.snap, { acknowledged });

  await db.validationRun.update({
    where: { id: p.runId },
    data: {
      status,
      finishedAt: p.finishedAt,
      overall: p.overall,
      results: stored as object,
      gatherers: p.gatherers as object,
      fingerprint: p.fingerprint,
      readinessScore: readiness.score,
    },
  });
  if (findings.length) {
    await db.finding.createMany({
      data: findings.map((f) => ({
        organizationId: p.pair.organizationId,
        customerId: p.pair.customerId,
        validationRunId: p.runId,
        pairId: p.pair.id,
        checkId: f.checkId,
        severity: f.severity,
        message: f.message,
        fixable: f.status.endsWith('-fixable'),
        side: f.side satisfies FindingSide,
        subject: f.subject,
        status: f.status,
        evidence: f.evidence as never,
        evidenceDigest: f.evidenceDigest,
        guidance: f.guidance,
        plan: (f.plan ?? undefined) as never,
        blockedReason: f.blockedReason,
        privileged: f.privileged,
        phase: f.phase,
        fixState: p.fixedBefore.has(findingKey(f)) ? 'did-not-hold' : null,
      })),
    });
  }

  // validated when it passed, back to unprotected when it failed; other statuses are left alone.
  let pairStatus: string = pair.status;
  const next = transition(pair.status, status === 'failed' ? 'validation.failed' : 'validation.passed');
  const data = {
    readinessScore: readiness.score,
    readiness: readiness as object,
    lastValidationRunId: p.runId,
    // A reconnect asked for this run (or an earlier one): it is done now.
    ...(pair.validationDueAt && pair.validationDueAt <= p.startedAt ? { validationDueAt: null } : {}),
  };
  if ('status' in next && next.status !== pair.status) {
    const { count } = await db.protectionPair.updateMany({ where: { id: p.pair.id, status: pair.status }, data: { ...data, status: next.status } });
    if (count === 1) pairStatus = next.status;
    else await db.protectionPair.update({ where: { id: p.pair.id }, data });
  } else {
    await db.protectionPair.update({ where: { id: p.pair.id }, data });
  }

  const newErrorFindings = findings.filter((f) => f.severity === 'error' && !before.has(findingKey(f)));
  const newErrors = newErrorFindings.map((f) => f.message);
  const event = (severity: 'info' | 'warning' | 'error', message: string, alert: Partial<EmitEvent> = {}) =>
    emitEvent(db, { organizationId: p.pair.organizationId, customerId: p.pair.customerId, pairId: p.pair.id, pairName: p.pair.name, kind: 'operation', severity, message, at: p.finishedAt, ...alert });
  const errors = findings.filter((f) => f.severity === 'error').length;
  const warnings = findings.filter((f) => f.severity === 'warning').length;
  const unknownErrors = p.results.filter((r) => r.status === 'unknown' && (checkById(r.checkId)?.severity ?? 'error') === 'error').length;
  const summary =
    status === 'passed'
      ? 'Validation passed: no errors or warnings'
      : status === 'warnings'
        ? `Validation passed with ${warnings} warning${warnings === 1 ? '' : 's'}`
        : `Validation failed: ${errors} error${errors === 1 ? '' : 's'}${unknownErrors ? `, ${unknownErrors} error check${unknownErrors === 1 ? '' : 's'} could not be evaluated` : ''}`;
  // Alerting: new error findings open the pair's validation.errors condition (one alert while it
  // lasts; the dispatcher ignores an open for a condition already open, but the event still says
  // which checks are new); a run with no errors clears it.
  const clears = status !== 'failed' ? await conditionChange(db, 'validation.errors', p.pair.id, 'clear') : null;
  await event(
    status === 'failed' ? 'warning' : 'info',
    `${summary} (readiness ${readiness.score})`,
    clears ? { type: 'validation.clear', condition: clears, ...(await pairNames(db, p.pair.id)) } : {},
  );
  if (newErrors.length) {
    const checks = [...new Map(newErrorFindings.map((f) => [f.checkId, checkById(f.checkId)?.title ?? f.checkId])).entries()].map(([checkId, title]) => ({ checkId, title }));
    await event('error', `New validation error${newErrors.length === 1 ? '' : 's'}: ${newErrors.slice(0, 5).join(' ')}${newErrors.length > 5 ? ` (and ${newErrors.length - 5} more)` : ''}`, {
      type: 'validation.errors',
      condition: { key: conditionKey('validation.errors', p.pair.id), state: 'open' },
      data: { validationRunId: p.runId, checks },
      ...(await pairNames(db, p.pair.id)),
    });
  }
  await db.auditEvent.create({
    data: {
      organizationId: p.pair.organizationId,
      customerId: p.pair.customerId,
      actorId: p.actor.id,
      actorLabel: p.actor.label,
      action: 'pair.validation.finished',
      targetType: 'ProtectionPair',
      targetId: p.pair.id,
      summary: `${summary} on "${p.pair.name}"`,
      changes: { operationId: p.operationId, validationRunId: p.runId, status, overall: p.overall, readiness: readiness.score, pairStatus: { from: pair.status, to: pairStatus } },
    },
  });
  return { status, pairStatus, newErrors, readiness };
}
