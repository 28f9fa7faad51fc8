import type pg from 'pg';
import { factsFingerprint, pairFactsOf, settingsFromColumns } from '@tandem/engine';

// For browser tests whose subject is enabling, replication or failover rather than validation:
// a finished, passing validation run recorded for the pair as it is now (its configuration time
// and facts fingerprint, computed as the enable gate computes them), so Enable is let through.
// Validation itself is tested in validation-ui.spec.ts and tests/integration/validation-*.
export async function recordPassingValidation(db: pg.Client, pairId: string) {
  const { rows } = await db.query(
    `SELECT p.*, s.facts AS "sourceFacts", t.facts AS "targetFacts" FROM "ProtectionPair" p
       JOIN "Server" s ON s.id = p."sourceServerId" JOIN "Server" t ON t.id = p."targetServerId" WHERE p.id = $1`,
    [pairId],
  );
  const pair = rows[0] as Parameters<typeof settingsFromColumns>[0] & { id: string; name: string; organizationId: string; customerId: string; status: never; replicationMethod: never; configChangedAt: Date; sourceFacts: unknown; targetFacts: unknown };
  const fingerprint = factsFingerprint({ pair: pairFactsOf(pair, settingsFromColumns(pair)), source: pair.sourceFacts, target: pair.targetFacts });
  await db.query(
    `INSERT INTO "ValidationRun" (id, "organizationId", "customerId", "pairId", status, "startedAt", "finishedAt", trigger, fingerprint, "configChangedAt", overall, results, gatherers)
     VALUES (gen_random_uuid(), $1, $2, $3, 'passed', now(), now(), 'manual', $4, $5, 'good', '[]', '{}')`,
    [pair.organizationId, pair.customerId, pairId, fingerprint, pair.configChangedAt],
  );
}
