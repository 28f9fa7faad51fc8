import { z } from 'zod';
import { emailSchema, nameTextSchema } from '@tandem/engine';
import { sealSecret } from '@tandem/security';
import { audit, diff } from '../../../services/audit';
import { orgProcedure } from '../../../trpc';
import { smtpSecretContext } from '../schemas';
import { smtpSettingsOutput, toSmtpOutput } from './get';

export const smtpSettingsInput = z.object({
  host: z
    .string()
    .trim()
    .min(1, 'Enter the mail server’s host name or address')
    .max(253, 'That host name is too long')
    .regex(/^[A-Za-z0-9.:[\]-]+$/, 'Enter a host name or IP address, such as smtp.example.com'),
  port: z.number({ error: 'Enter a port number' }).int('Enter a whole port number').min(1, 'Ports run from 1 to 65535').max(65535, 'Ports run from 1 to 65535'),
  security: z.enum(['none', 'starttls', 'tls'], { error: 'Choose none, STARTTLS or TLS' }),
  /** Empty: the server needs no sign-in (any stored password is dropped). */
  username: z.string().trim().max(254, 'That user name is too long').optional().default(''),
  /** Empty keeps the stored password (the form never shows it). */
  password: z.string().max(1024, 'That password is too long').optional().default(''),
  fromAddress: emailSchema,
  fromName: nameTextSchema('The sender name').trim().min(1, 'Enter the sender name, such as Tandem alerts').max(120, 'Keep the sender name under 120 characters'),
});

/** Saves the organization's mail server; the password is sealed to the organization. */
export const setSmtpSettings = orgProcedure('admin')
  .input(smtpSettingsInput)
  .output(smtpSettingsOutput)
  .mutation(async ({ ctx, input }) => {
    const organizationId = ctx.actor.organizationId;
    const before = await ctx.db.smtpSettings.findUnique({ where: { organizationId } });
    const username = input.username || null;
    let passwordEnc: string | null;
    if (!username) passwordEnc = null;
    else if (input.password) passwordEnc = sealSecret(input.password, smtpSecretContext(organizationId));
    else passwordEnc = before?.passwordEnc ?? null;
    const data = { host: input.host, port: input.port, security: input.security, username, passwordEnc, fromAddress: input.fromAddress, fromName: input.fromName };
    const saved = await ctx.db.smtpSettings.upsert({ where: { organizationId }, create: { organizationId, ...data }, update: data });
    const shown = { host: data.host, port: data.port, security: data.security, username: data.username, fromAddress: data.fromAddress, fromName: data.fromName };
    const changes: Record<string, unknown> = before ? diff({ host: before.host, port: before.port, security: before.security, username: before.username, fromAddress: before.fromAddress, fromName: before.fromName }, shown) : { ...shown };
    if (passwordEnc !== (before?.passwordEnc ?? null)) changes.password = passwordEnc ? 'replaced' : 'removed';
    await audit(ctx.db, ctx.actor, {
      action: 'alert.smtp.set',
      targetType: 'SmtpSettings',
      targetId: organizationId,
      summary: `${before ? 'Updated' : 'Set up'} the mail server ${input.host}:${input.port}`,
      changes,
    });
    return toSmtpOutput(saved);
  });
