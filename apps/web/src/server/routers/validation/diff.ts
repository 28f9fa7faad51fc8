// What changed between two validation runs of one pair: findings that are new in the later run,
// resolved since the earlier one, and changed (another status, or other evidence). A finding is
// the same finding across runs when its check, side and subject are.
import { z } from 'zod';
import { AppError, idSchema, notFound, stableJson } from '@tandem/engine';
import { memberProcedure } from '../../trpc';
import { findingKey, findingOutput, findingViews, loadPair, runSummaryOutput, toRunSummary, type FindingView } from './shared';

export const diffInput = z.object({ runA: idSchema, runB: idSchema });
export const diffOutput = z.object({
  /** The earlier and the later run (whichever order they were named in). */
  from: runSummaryOutput,
  to: runSummaryOutput,
  added: z.array(findingOutput),
  resolved: z.array(findingOutput),
  changed: z.array(
    z.object({ before: findingOutput, after: findingOutput, what: z.array(z.enum(['status', 'evidence', 'message'])) }),
  ),
  unchanged: z.number().int(),
});

export const validationDiff = memberProcedure
  .input(diffInput)
  .output(diffOutput)
  .query(async ({ ctx, input }) => {
    const include = { findings: { select: { severity: true } } } as const;
    const [a, b] = await Promise.all([
      ctx.db.validationRun.findUnique({ where: { id: input.runA }, include }),
      ctx.db.validationRun.findUnique({ where: { id: input.runB }, include }),
    ]);
    if (!a || !b) throw notFound('Validation run');
    if (a.pairId !== b.pairId) throw new AppError('BAD_REQUEST', 'Both runs must be of the same pair');
    const pair = await loadPair(ctx.db, a.pairId);
    const [from, to] = a.startedAt <= b.startedAt ? [a, b] : [b, a];
    const [before, after] = await Promise.all([findingViews(ctx.db, pair, from.id), findingViews(ctx.db, pair, to.id)]);
    const beforeByKey = new Map(before.map((f) => [findingKey(f), f]));
    const afterKeys = new Set(after.map(findingKey));
    const added: FindingView[] = [];
    const changed: z.infer<typeof diffOutput>['changed'] = [];
    let unchanged = 0;
    for (const f of after) {
      const old = beforeByKey.get(findingKey(f));
      if (!old) {
        added.push(f);
        continue;
      }
      const what: ('status' | 'evidence' | 'message')[] = [];
      if (old.status !== f.status) what.push('status');
      if (stableJson(old.evidence) !== stableJson(f.evidence)) what.push('evidence');
      if (old.message !== f.message) what.push('message');
      if (what.length) changed.push({ before: old, after: f, what });
      else unchanged++;
    }
    const resolved = before.filter((f) => !afterKeys.has(findingKey(f)));
    return { from: toRunSummary(from), to: toRunSummary(to), added, resolved, changed, unchanged };
  });
