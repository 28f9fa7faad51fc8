import { z } from 'zod';
import { AppError, diffClusterConfig, hideClusterSecrets, idSchema } from '@tandem/engine';
import { openClusterConfig } from '@tandem/security';
import { orgProcedure } from '../../trpc';
import { loadVersion } from './clusters';

const versionMeta = z.object({
  id: z.string(),
  reason: z.string(),
  takenAt: z.string(),
  epoch: z.string().nullable(),
  sizeBytes: z.number().int(),
});

export const clusterDiffOutput = z.object({
  stack: z.string(),
  name: z.string(),
  from: versionMeta,
  to: versionMeta,
  format: z.enum(['xml', 'json', 'text']),
  identical: z.boolean(),
  added: z.number().int(),
  removed: z.number().int(),
  tooLarge: z.boolean(),
  hunks: z.array(
    z.object({
      oldStart: z.number().int(),
      oldLines: z.number().int(),
      newStart: z.number().int(),
      newLines: z.number().int(),
      lines: z.array(
        z.object({
          op: z.enum([' ', '-', '+']),
          text: z.string(),
          oldLine: z.number().int().nullable(),
          newLine: z.number().int().nullable(),
        }),
      ),
    }),
  ),
});

const meta = (v: { id: string; reason: string; takenAt: Date; epoch: string | null; sizeBytes: number }) => ({
  id: v.id,
  reason: v.reason,
  takenAt: v.takenAt.toISOString(),
  epoch: v.epoch,
  sizeBytes: v.sizeBytes,
});

/** What changed between two saved configurations of the same cluster (from: the older one, as picked). */
export const clusterDiff = orgProcedure('viewer')
  .input(z.object({ fromId: idSchema, toId: idSchema }))
  .output(clusterDiffOutput)
  .query(async ({ ctx, input }) => {
    const [from, to] = [await loadVersion(ctx.db, input.fromId), await loadVersion(ctx.db, input.toId)];
    if (from.customerId !== to.customerId || from.stack !== to.stack || from.clusterName !== to.clusterName) {
      throw new AppError('BAD_REQUEST', 'Both versions must be of the same cluster', {
        toId: 'Pick a version of the same cluster',
      });
    }
    // Opened here, on the server; values of secret-looking parameters never reach the browser.
    const d = diffClusterConfig(hideClusterSecrets(openClusterConfig(from)), hideClusterSecrets(openClusterConfig(to)));
    return {
      stack: from.stack,
      name: from.clusterName,
      from: meta(from),
      to: meta(to),
      format: d.format,
      identical: d.identical,
      added: d.added,
      removed: d.removed,
      tooLarge: d.tooLarge,
      hunks: d.hunks,
    };
  });
