import { z } from 'zod';
import { orgProcedure } from '../../../trpc';

export const smtpSettingsOutput = z
  .object({
    host: z.string(),
    port: z.number(),
    security: z.enum(['none', 'starttls', 'tls']),
    username: z.string().nullable(),
    /** A password is stored (it is never shown). */
    hasPassword: z.boolean(),
    fromAddress: z.string(),
    fromName: z.string(),
    updatedAt: z.string(),
  })
  .nullable();
export type SmtpSettingsOutput = z.infer<typeof smtpSettingsOutput>;

export function toSmtpOutput(s: { host: string; port: number; security: string; username: string | null; passwordEnc: string | null; fromAddress: string; fromName: string; updatedAt: Date } | null): SmtpSettingsOutput {
  if (!s) return null;
  return {
    host: s.host,
    port: s.port,
    security: s.security === 'none' || s.security === 'tls' ? s.security : 'starttls',
    username: s.username,
    hasPassword: s.passwordEnc !== null,
    fromAddress: s.fromAddress,
    fromName: s.fromName,
    updatedAt: s.updatedAt.toISOString(),
  };
}

/** The organization's mail server (null: none set up yet). The password never leaves the server. */
export const getSmtpSettings = orgProcedure('admin')
  .output(smtpSettingsOutput)
  .query(async ({ ctx }) => toSmtpOutput(await ctx.db.smtpSettings.findUnique({ where: { organizationId: ctx.actor.organizationId } })));
