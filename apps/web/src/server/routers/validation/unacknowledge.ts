// Taking an acknowledgement back: the warning shows (and lowers readiness) again. Audited.
import { z } from 'zod';
import { publishPairChange } from '@tandem/agent-bus/live';
import { idSchema } from '@tandem/engine';
import { audit } from '../../services/audit';
import { orgProcedure } from '../../trpc';
import { ackKey, loadFinding } from './shared';

export const unacknowledgeInput = z.object({ findingId: idSchema });

export const validationUnacknowledge = orgProcedure('operator')
  .input(unacknowledgeInput)
  .output(z.object({ removed: z.boolean() }))
  .mutation(async ({ ctx, input }) => {
    const { finding, pair } = await loadFinding(ctx.db, input.findingId);
    const removed = await ctx.db.findingAcknowledgement.deleteMany({ where: ackKey(pair.id, finding) });
    if (removed.count === 0) return { removed: false };
    await audit(ctx.db, ctx.actor, {
      action: 'finding.unacknowledge',
      targetType: 'ProtectionPair',
      targetId: pair.id,
      customerId: pair.customerId,
      summary: `Withdrew the acknowledgement of ${finding.checkId}${finding.subject ? ` (${finding.subject})` : ''} on "${pair.name}"`,
      changes: { findingId: finding.id, checkId: finding.checkId, side: finding.side, subject: finding.subject },
    });
    ctx.afterCommit(() => publishPairChange(pair, pair.id, 'event'));
    return { removed: true };
  });
