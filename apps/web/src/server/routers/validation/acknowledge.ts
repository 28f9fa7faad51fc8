// Acknowledging a warning (catalogue §1.3): accepted with a reason for at most 90 days. It is kept
// per pair, check, side and subject with the evidence digest it accepted, so it carries over to
// later runs and lapses as soon as the evidence changes (decided on read) or it expires.
import { z } from 'zod';
import { publishPairChange } from '@tandem/agent-bus/live';
import { AppError, idSchema } from '@tandem/engine';
import { audit } from '../../services/audit';
import { orgProcedure } from '../../trpc';
import { ackKey, loadFinding } from './shared';

export const acknowledgeInput = z.object({
  findingId: idSchema,
  reason: z.string().trim().min(3, 'Say why this warning is accepted').max(1000),
  days: z.number().int().min(1).max(90, 'An acknowledgement lasts at most 90 days'),
});
export const acknowledgeOutput = z.object({ expiresAt: z.string() });

export const validationAcknowledge = orgProcedure('operator')
  .input(acknowledgeInput)
  .output(acknowledgeOutput)
  .mutation(async ({ ctx, input }) => {
    const { finding, pair } = await loadFinding(ctx.db, input.findingId);
    if (finding.severity !== 'warning')
      throw new AppError('CONFLICT', 'Only warnings can be acknowledged; an error must be fixed');
    const expiresAt = new Date(Date.now() + input.days * 86_400_000);
    const data = {
      evidenceDigest: finding.evidenceDigest,
      reason: input.reason,
      expiresAt,
      userId: ctx.actor.userId,
      createdAt: new Date(),
    };
    await ctx.db.findingAcknowledgement.upsert({
      where: { pairId_checkId_side_subject: ackKey(pair.id, finding) },
      create: { organizationId: pair.organizationId, customerId: pair.customerId, ...ackKey(pair.id, finding), ...data },
      update: data,
    });
    await audit(ctx.db, ctx.actor, {
      action: 'finding.acknowledge',
      targetType: 'ProtectionPair',
      targetId: pair.id,
      customerId: pair.customerId,
      summary: `Acknowledged the warning ${finding.checkId}${finding.subject ? ` (${finding.subject})` : ''} on "${pair.name}" for ${input.days} days: ${input.reason}`,
      changes: {
        findingId: finding.id,
        checkId: finding.checkId,
        side: finding.side,
        subject: finding.subject,
        reason: input.reason,
        expiresAt: expiresAt.toISOString(),
      },
    });
    ctx.afterCommit(() => publishPairChange(pair, pair.id, 'event'));
    return { expiresAt: expiresAt.toISOString() };
  });
