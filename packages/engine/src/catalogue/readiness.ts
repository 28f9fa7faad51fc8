import type { CheckId } from './ids.ts';
import type { CheckResult, EvaluatedFinding, Severity } from './model.ts';
import type { FactsSnapshot } from './snapshot.ts';
import { severityOf as catalogueSeverityOf } from './registry.ts';
import { lastGoodDrill } from './checks/readiness.ts';

// A pair's failover readiness, 0–100 (issue item 7; DESIGN "Beyond the old consoles"): 100 minus
// the penalties of six factors, each capped so no single one hides the others.
//
//   lag         ≤ 25  lag now ≥ RPO: 25; between 50 % and 100 % of the RPO: up to 15; p95 (1 h) above
//                     80 % of the RPO: at least 10. Not measured or no RPO: 0.
//   test        ≤ 20  no successful test failover ever, or older than the tenant's limit (90 d): 20;
//                     from half the limit to the limit: up to 10. A failed drill does not count.
//   errors      ≤ 40  each open error finding 10; each error check that could not be evaluated 5.
//   warnings    ≤ 15  each open warning finding 2; acknowledged warnings weigh nothing.
//   credentials ≤ 20  each vault entry failing its test or expired 10, expiring within the
//                     tenant's warning period 5.
//   dns-ttl     ≤ 10  DNS failover with a record TTL above the policy maximum: 5; above 4× it: 10.
//
// Findings whose subject a dedicated factor already weighs (lag, test age, credential tests and
// expiry, TTL) are left out of the error and warning counts, so nothing is counted twice.

export interface ReadinessFactor {
  key: 'lag' | 'test' | 'errors' | 'warnings' | 'credentials' | 'dns-ttl';
  label: string;
  /** Points taken off 100. */
  penalty: number;
  /** What it is now, in words. */
  detail: string;
}
export interface Readiness {
  score: number;
  /** Every factor, in a fixed order; those with a penalty are what lowers the score. */
  factors: ReadinessFactor[];
}

export interface ReadinessOptions {
  /** Keys (findingKey) of warnings acknowledged and still valid (same evidence, not expired). */
  acknowledged?: ReadonlySet<string>;
  /** Severity of a check (unknown results carry none); the catalogue's by default. */
  severityOf?: (id: CheckId) => Severity;
}

/** A finding's identity for acknowledgements: check, side and subject. */
export const findingKey = (f: Pick<EvaluatedFinding, 'checkId' | 'side' | 'subject'>) => `${f.checkId}\u0000${f.side}\u0000${f.subject}`;

const DAY = 86_400_000;
const weighedElsewhere = new Set<string>(['readiness.lag-over-rpo', 'readiness.test-failover-overdue', 'credentials.test-failed', 'credentials.expiring', 'dns.ttl-above-recommended']);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function lagFactor(snap: FactsSnapshot): ReadinessFactor {
  const label = 'Replication lag against the RPO';
  const rpo = snap.pair.rpoSeconds;
  const lag = snap.replication.lag;
  if (rpo === null || rpo <= 0) return { key: 'lag', label, penalty: 0, detail: 'No RPO set for the pair.' };
  if (!lag || (lag.nowSeconds === null && lag.p95Seconds === null)) return { key: 'lag', label, penalty: 0, detail: 'Lag not measured.' };
  const r = (lag.nowSeconds ?? 0) / rpo;
  let penalty = r >= 1 ? 25 : r > 0.5 ? Math.round((r - 0.5) * 30) : 0;
  if (lag.p95Seconds !== null && lag.p95Seconds > 0.8 * rpo) penalty = Math.max(penalty, 10);
  const parts = [lag.nowSeconds !== null ? `now ${lag.nowSeconds} s` : null, lag.p95Seconds !== null ? `p95 ${lag.p95Seconds} s` : null].filter(Boolean);
  return { key: 'lag', label, penalty, detail: `Lag ${parts.join(', ')} against an RPO of ${rpo} s.` };
}

function testFactor(snap: FactsSnapshot): ReadinessFactor {
  const label = 'Last successful test failover';
  const max = snap.reference.policy.testMaxAgeDays;
  const last = lastGoodDrill(snap);
  if (!last) return { key: 'test', label, penalty: 20, detail: 'No test failover has ever succeeded.' };
  const days = Math.floor((snap.now - last.at) / DAY);
  const penalty = days > max ? 20 : days > max / 2 ? Math.round(((days - max / 2) / (max / 2)) * 10) : 0;
  return { key: 'test', label, penalty, detail: `${plural(days, 'day')} ago (limit ${max} days).` };
}

function findingFactors(results: readonly CheckResult[], opts: ReadinessOptions): ReadinessFactor[] {
  const severityOf = opts.severityOf ?? catalogueSeverityOf;
  const acknowledged = opts.acknowledged ?? new Set<string>();
  let errors = 0;
  let unknown = 0;
  let warnings = 0;
  let acked = 0;
  for (const r of results) {
    if (weighedElsewhere.has(r.checkId)) continue;
    if (r.status === 'unknown') {
      if (severityOf(r.checkId) === 'error') unknown++;
      continue;
    }
    for (const f of r.findings) {
      if (f.severity === 'error') errors++;
      else if (acknowledged.has(findingKey(f))) acked++;
      else warnings++;
    }
  }
  return [
    { key: 'errors', label: 'Open errors', penalty: Math.min(40, errors * 10 + unknown * 5), detail: `${plural(errors, 'error finding')}; ${plural(unknown, 'error check')} not evaluated.` },
    { key: 'warnings', label: 'Open warnings', penalty: Math.min(15, warnings * 2), detail: `${plural(warnings, 'warning')}${acked ? `; ${acked} acknowledged` : ''}.` },
  ];
}

function credentialFactor(snap: FactsSnapshot): ReadinessFactor {
  const days = snap.reference.policy.credentialExpiryDays;
  let penalty = 0;
  const notes: string[] = [];
  for (const v of snap.vault) {
    const expired = v.expiresAt !== null && v.expiresAt <= snap.now;
    if (v.lastTest?.ok === false || expired) {
      penalty += 10;
      notes.push(`${v.purpose} ${expired ? 'expired' : 'failing its test'}`);
    } else if (v.expiresAt !== null && v.expiresAt - snap.now <= days * DAY) {
      penalty += 5;
      notes.push(`${v.purpose} expiring within ${days} days`);
    }
  }
  return { key: 'credentials', label: 'Credential validity', penalty: Math.min(20, penalty), detail: notes.length ? `${notes.join('; ')}.` : `${plural(snap.vault.length, 'credential')}, all valid.` };
}

function ttlFactor(snap: FactsSnapshot): ReadinessFactor {
  const label = 'DNS TTL against the policy maximum';
  const max = snap.reference.policy.ttlMaxSeconds;
  if (snap.pair.failover.mode !== 'dns') return { key: 'dns-ttl', label, penalty: 0, detail: 'The pair does not fail over through DNS.' };
  const records = snap.dns?.records ?? [];
  if (!records.length) return { key: 'dns-ttl', label, penalty: 0, detail: 'No DNS records read in this run.' };
  const ttl = Math.max(...records.map((r) => r.ttl));
  const penalty = ttl > 4 * max ? 10 : ttl > max ? 5 : 0;
  return { key: 'dns-ttl', label, penalty, detail: `Highest TTL ${ttl} s (maximum ${max} s).` };
}

/** The pair's readiness from one run's results and the snapshot they were evaluated on. */
export function readinessScore(results: readonly CheckResult[], snap: FactsSnapshot, opts: ReadinessOptions = {}): Readiness {
  const factors = [lagFactor(snap), testFactor(snap), ...findingFactors(results, opts), credentialFactor(snap), ttlFactor(snap)];
  const score = Math.max(0, 100 - factors.reduce((n, f) => n + f.penalty, 0));
  return { score, factors };
}
