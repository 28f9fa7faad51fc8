import { z } from 'zod';
import { OperationKind, OperationStatus, PairEventKind, Severity, StepStatus } from '@tandem/db';
import { idSchema, notFound } from '@tandem/engine';
import { storedSettings } from '../../services/pairs';
import { memberProcedure, orgProcedure } from '../../trpc';
import { pairSettingsOutput } from './schemas';

const pairInput = z.object({ pairId: idSchema });

const pairEventOutput = z.object({
  id: z.string(),
  at: z.string(),
  kind: z.enum(PairEventKind),
  severity: z.enum(Severity),
  message: z.string(),
  /** What a detection saw (per-address probe results, observers); free-form JSON. */
  evidence: z.record(z.string(), z.unknown()).nullable(),
});

const operationOutput = z.object({
  id: z.string(),
  kind: z.enum(OperationKind),
  status: z.enum(OperationStatus),
  /** A preview: planned only, nothing was changed. */
  dryRun: z.boolean(),
  /** Who asked for it; "Tandem (automatic)" when the system did. */
  requestedBy: z.string(),
  error: z.string().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  steps: z.array(
    z.object({
      position: z.number().int(),
      kind: z.string(),
      description: z.string(),
      status: z.enum(StepStatus),
      error: z.string().nullable(),
      startedAt: z.string().nullable(),
      finishedAt: z.string().nullable(),
    }),
  ),
});

const pairSettingsViewOutput = z.object({
  sourceServerId: z.string(),
  targetServerId: z.string(),
  /** null: nothing complete is stored yet (or it no longer passes the rules). */
  settings: pairSettingsOutput.nullable(),
  enabledAt: z.string().nullable(),
  autoFailoverMarked: z.boolean(),
  monitor: z
    .object({
      targetState: z.string(),
      targetReportAt: z.string().nullable(),
      targetLostSince: z.string().nullable(),
      addresses: z.array(z.object({ address: z.string(), reachable: z.boolean(), missed: z.number(), lastOkAt: z.number().nullable() })),
      verdict: z.string(),
    })
    .nullable(),
});

/** The pair's history: configuration, operations, status changes and detections with evidence. */
export const pairEvents = memberProcedure
  .input(pairInput.extend({ limit: z.number().int().min(1).max(200).default(50) }))
  .output(z.array(pairEventOutput))
  .query(async ({ ctx, input }) => {
    const pair = await ctx.db.protectionPair.findUnique({ where: { id: input.pairId }, select: { id: true } });
    if (!pair) throw notFound('Protection pair');
    const events = await ctx.db.pairEvent.findMany({ where: { pairId: pair.id }, orderBy: [{ at: 'desc' }, { id: 'desc' }], take: input.limit });
    return events.map((e) => ({ id: e.id, at: e.at.toISOString(), kind: e.kind, severity: e.severity, message: e.message, evidence: e.evidence as Record<string, unknown> | null }));
  });

/** Recent operations of the pair with their steps (the newest first). */
export const pairOperations = memberProcedure
  .input(pairInput.extend({ limit: z.number().int().min(1).max(50).default(10) }))
  .output(z.array(operationOutput))
  .query(async ({ ctx, input }) => {
    const pair = await ctx.db.protectionPair.findUnique({ where: { id: input.pairId }, select: { id: true } });
    if (!pair) throw notFound('Protection pair');
    const ops = await ctx.db.operation.findMany({
      where: { pairId: pair.id },
      orderBy: { createdAt: 'desc' },
      take: input.limit,
      include: { steps: { orderBy: { position: 'asc' } } },
    });
    const requesterIds = [...new Set(ops.map((o) => o.requestedById).filter((id): id is string => id !== null))];
    const requesters = new Map((await ctx.db.user.findMany({ where: { id: { in: requesterIds } }, select: { id: true, name: true } })).map((u) => [u.id, u.name]));
    return ops.map((o) => ({
      id: o.id,
      kind: o.kind,
      status: o.status,
      dryRun: o.dryRun,
      // Customer users do not see MSP staff (row-level security): they read "Your service provider".
      requestedBy: o.requestedById ? (requesters.get(o.requestedById) ?? (ctx.actor.kind === 'customer' ? 'Your service provider' : 'A former member')) : 'Tandem (automatic)',
      error: o.error,
      createdAt: o.createdAt.toISOString(),
      startedAt: o.startedAt?.toISOString() ?? null,
      finishedAt: o.finishedAt?.toISOString() ?? null,
      steps: o.steps.map((s) => ({
        position: s.position,
        kind: s.kind,
        description: s.description,
        status: s.status,
        error: s.error,
        startedAt: s.startedAt?.toISOString() ?? null,
        finishedAt: s.finishedAt?.toISOString() ?? null,
      })),
    }));
  });

/** The pair's stored configuration (for the edit form) and its monitor's current view. MSP staff only: hooks may hold internals. */
export const pairSettings = orgProcedure('viewer').input(pairInput).output(pairSettingsViewOutput).query(async ({ ctx, input }) => {
  const pair = await ctx.db.protectionPair.findUnique({ where: { id: input.pairId }, include: { monitor: true, source: { select: { id: true } }, target: { select: { id: true } } } });
  if (!pair) throw notFound('Protection pair');
  const m = pair.monitor;
  return {
    sourceServerId: pair.source.id,
    targetServerId: pair.target.id,
    settings: storedSettings(pair),
    enabledAt: pair.enabledAt?.toISOString() ?? null,
    autoFailoverMarked: pair.autoFailoverMarked,
    monitor: m
      ? {
          targetState: m.targetState,
          targetReportAt: m.targetReportAt?.toISOString() ?? null,
          targetLostSince: m.targetLostSince?.toISOString() ?? null,
          addresses: (m.targetEvidence ?? []) as { address: string; reachable: boolean; missed: number; lastOkAt: number | null }[],
          verdict: m.verdict,
        }
      : null,
  };
});
