import { z } from 'zod';
import { AppError, idSchema } from '@tandem/engine';
import { sealSecret } from '@tandem/security';
import { audit, diff } from '../../services/audit';
import { orgProcedure } from '../../trpc';
import { credentialExpirySchema, credentialNameSchema, credentialOutput, credentialSecretContext, domainPasswordSchema, expiryToDate, domainUserSchema, loadCredential, publicInfoSchema, toCredentialOutput, tsigAlgorithmSchema, tsigKeyNameSchema, tsigSecretSchema } from './schemas';

// An empty secret or password means "keep the stored one" (the form never shows it).
const keepIfEmpty = <T extends z.ZodType>(schema: T) => z.union([z.literal('').transform(() => undefined), schema]).optional();

export const updateCredentialInput = z.object({
  id: idSchema,
  name: credentialNameSchema.optional(),
  keyName: tsigKeyNameSchema.optional(),
  algorithm: tsigAlgorithmSchema.optional(),
  secret: keepIfEmpty(tsigSecretSchema),
  user: domainUserSchema.optional(),
  password: keepIfEmpty(domainPasswordSchema),
  /** null removes the date; absent keeps it. */
  expiresAt: credentialExpirySchema.nullable().optional(),
});

/** Edits a credential; the secret changes only when a new one is given. */
export const updateCredential = orgProcedure('operator')
  .input(updateCredentialInput)
  .output(credentialOutput)
  .mutation(async ({ ctx, input }) => {
    const c = await loadCredential(ctx.db, input.id);
    const tsig = c.kind === 'dns_tsig';
    const wrong = tsig ? (['user', 'password'] as const).find((k) => input[k] !== undefined) : (['keyName', 'algorithm', 'secret'] as const).find((k) => input[k] !== undefined);
    if (wrong) throw new AppError('BAD_REQUEST', `A ${tsig ? 'TSIG key' : 'domain account'} credential has no ${wrong}`, { [wrong]: 'Not part of this kind of credential' });

    const before = publicInfoSchema.parse(c.publicInfo);
    const publicInfo = tsig ? { keyName: input.keyName ?? before.keyName, algorithm: input.algorithm ?? before.algorithm } : { user: input.user ?? before.user };
    const newSecret = tsig ? input.secret : input.password;
    const updated = await ctx.db.credential.update({
      where: { id: c.id },
      data: {
        name: input.name,
        publicInfo,
        ...(input.expiresAt !== undefined ? { expiresAt: expiryToDate(input.expiresAt) } : {}),
        ...(newSecret !== undefined ? { secretEnc: sealSecret(newSecret, credentialSecretContext(c.id)), lastVerifiedAt: null } : {}),
      },
    });
    const expiry = (d: Date | null) => d?.toISOString().slice(0, 10) ?? null;
    const changes: Record<string, unknown> = diff({ name: c.name, ...before, expiresAt: expiry(c.expiresAt) }, { name: input.name, ...publicInfo, expiresAt: expiry(updated.expiresAt) });
    if (newSecret !== undefined) changes[tsig ? 'secret' : 'password'] = 'replaced';
    await audit(ctx.db, ctx.actor, {
      action: 'credential.update',
      targetType: 'Credential',
      targetId: c.id,
      customerId: c.customerId,
      summary: `Updated credential "${updated.name}"${newSecret !== undefined ? ` (new ${tsig ? 'secret' : 'password'})` : ''}`,
      changes,
    });
    return toCredentialOutput(updated);
  });
