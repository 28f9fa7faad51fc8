import { z } from 'zod';
import type { PairSettings } from '@tandem/engine';

export const pairSummaryOutput = z.object({
  id: z.string(),
  name: z.string(),
  customerId: z.string(),
  application: z.string(),
  replicationMethod: z.string(),
  status: z.string(),
  monitoringStatus: z.string(),
  source: z.object({ id: z.string(), hostname: z.string() }),
  target: z.object({ id: z.string(), hostname: z.string() }),
  /** The latest replication sample, if the source agent has reported any. */
  latest: z
    .object({
      at: z.string(),
      lagSeconds: z.number().nullable(),
      mirrorBytesLeft: z.number(),
      mirrorFilesLeft: z.number(),
      queueBytes: z.number(),
      throughputBps: z.number(),
    })
    .nullable(),
});
export type PairSummary = z.infer<typeof pairSummaryOutput>;

type SampleRow = { at: Date; lagSeconds: number | null; mirrorBytesLeft: bigint; mirrorFilesLeft: number; queueBytes: bigint; throughputBps: number };

export function toLatest(s: SampleRow | undefined): PairSummary['latest'] {
  if (!s) return null;
  return {
    at: s.at.toISOString(),
    lagSeconds: s.lagSeconds,
    mirrorBytesLeft: Number(s.mirrorBytesLeft),
    mirrorFilesLeft: s.mirrorFilesLeft,
    queueBytes: Number(s.queueBytes),
    throughputBps: s.throughputBps,
  };
}

export const pairInclude = {
  source: { select: { id: true, hostname: true } },
  target: { select: { id: true, hostname: true } },
  replicationSamples: { orderBy: { at: 'desc' as const }, take: 1 },
};

/**
 * A pair's settings as the forms get them (stored ones, or the wizard's pre-filled defaults).
 * Checked for shape only: the rules apply when settings are saved, and pre-filled defaults may
 * still miss what the person has to enter (a route address, say).
 */
export const pairSettingsOutput = z.custom<PairSettings>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'settings must be an object');
