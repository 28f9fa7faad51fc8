import { z } from 'zod';
import { AppError, emailSchema } from '@tandem/engine';
import { audit } from '../../../services/audit';
import { orgProcedure } from '../../../trpc';
import { emitTestEvent } from '../schemas';

/**
 * Sends a test e-mail through the saved mail server: an `alert.test` event addressed to `to`.
 * The worker sends it; its delivery (and any error) shows in the delivery log.
 */
export const testSmtpSettings = orgProcedure('admin')
  .input(z.object({ to: emailSchema }))
  .output(z.object({ eventId: z.string() }))
  .mutation(async ({ ctx, input }) => {
    const settings = await ctx.db.smtpSettings.findUnique({ where: { organizationId: ctx.actor.organizationId }, select: { host: true } });
    if (!settings) throw new AppError('BAD_REQUEST', 'Save the mail server settings first');
    const eventId = await emitTestEvent(ctx.db, ctx.actor.organizationId, {
      message: `Test e-mail from Tandem: the mail server settings work`,
      recipients: [{ email: input.to }],
      data: { smtp: true },
    });
    await audit(ctx.db, ctx.actor, {
      action: 'alert.smtp.test',
      targetType: 'SmtpSettings',
      targetId: ctx.actor.organizationId,
      summary: `Sent a test e-mail to ${input.to} through ${settings.host}`,
      changes: { eventId },
    });
    return { eventId };
  });
