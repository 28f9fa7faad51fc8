import { z } from 'zod';
import { randomToken, sha256Hex } from '@tandem/security';
import { env } from '@/env';
import { audit } from '../../services/audit';
import { customerProcedure } from '../../trpc';

/** Enrolment tokens are single use and short-lived. */
export const enrollmentLifetimeMs = 3600_000;

/**
 * "Add server": a one-time token and the one-line command that installs the agent, enrols it
 * for this customer and starts it. The token is shown once; only its hash is stored.
 */
export const createEnrollment = customerProcedure({ staff: 'operator' })
  .output(z.object({ linuxCommand: z.string(), enrollCommand: z.string(), expiresAt: z.string(), gatewayUrl: z.string() }))
  .mutation(async ({ ctx }) => {
    const token = randomToken();
    const expiresAt = new Date(Date.now() + enrollmentLifetimeMs);
    await ctx.db.enrollmentToken.create({
      data: {
        organizationId: ctx.actor.organizationId,
        customerId: ctx.customer.id,
        tokenHash: sha256Hex(token),
        expiresAt,
        createdById: ctx.actor.userId,
      },
    });
    await audit(ctx.db, ctx.actor, {
      action: 'agent.enrollment.create',
      targetType: 'Customer',
      targetId: ctx.customer.id,
      customerId: ctx.customer.id,
      summary: `Created an enrolment token for a new server of "${ctx.customer.name}"`,
    });
    const gatewayUrl = env().TANDEM_GATEWAY_URL;
    // "--token=" keeps a token that starts with "-" from reading as an option.
    const enrollCommand = `tandem-agent enroll --url ${gatewayUrl} --token=${token}`;
    const linuxCommand =
      `curl -fsSL ${ctx.origin}/agent/tandem-agent.mjs -o /usr/local/bin/tandem-agent && chmod 755 /usr/local/bin/tandem-agent` +
      ` && ${enrollCommand} && (nohup tandem-agent run >/var/log/tandem-agent.log 2>&1 &)`;
    return { linuxCommand, enrollCommand, expiresAt: expiresAt.toISOString(), gatewayUrl };
  });
