// The enable gate (catalogue §1.3, issue item 6): protection is enabled only after a finished
// validation run newer than the last configuration change, whose facts fingerprint still matches
// what the database holds now, with no error and no error check left unknown. The engine decides
// (enableGate); this reads the run and recomputes the fingerprint from the same configuration
// mapping and standing facts the worker used.
import { z } from 'zod';
import type { TenantTx } from '@tandem/db';
import { enableGate, factsFingerprint, pairFactsOf, type GateVerdict, type PairSettings, type PairStatus, type ReplicationMethod } from '@tandem/engine';

const storedResult = z.object({ checkId: z.string(), status: z.string(), severity: z.enum(['error', 'warning']).catch('error') });

export interface GatePair {
  id: string;
  name: string;
  status: PairStatus;
  replicationMethod: ReplicationMethod;
  configChangedAt: Date;
  source: { facts: unknown };
  target: { facts: unknown };
}

export async function enableGateFor(db: TenantTx, pair: GatePair, settings: PairSettings): Promise<GateVerdict> {
  const latest = await db.validationRun.findFirst({ where: { pairId: pair.id }, orderBy: { startedAt: 'desc' } });
  // A run that ended without evaluating anything (it could not start) validates nothing.
  const run = latest && (latest.finishedAt === null || Array.isArray(latest.results)) ? latest : null;
  const results = Array.isArray(run?.results) ? run.results.flatMap((r) => {
    const parsed = storedResult.safeParse(r);
    return parsed.success ? [parsed.data] : [];
  }) : [];
  const current = factsFingerprint({ pair: pairFactsOf(pair, settings), source: pair.source.facts, target: pair.target.facts });
  return enableGate({
    configChangedAt: pair.configChangedAt.getTime(),
    run: run ? { finishedAt: run.finishedAt?.getTime() ?? null, configChangedAt: run.configChangedAt?.getTime() ?? null, fingerprint: run.fingerprint, results } : null,
    currentFingerprint: current,
  });
}
