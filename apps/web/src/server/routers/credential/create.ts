import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { idSchema, notFound } from '@tandem/engine';
import { sealSecret } from '@tandem/security';
import { audit } from '../../services/audit';
import { orgProcedure } from '../../trpc';
import { credentialExpirySchema, credentialNameSchema, credentialOutput, credentialSecretContext, domainPasswordSchema, expiryToDate, domainUserSchema, toCredentialOutput, tsigAlgorithmSchema, tsigKeyNameSchema, tsigSecretSchema } from './schemas';

const common = { name: credentialNameSchema, customerId: idSchema.nullish(), expiresAt: credentialExpirySchema.nullish() };
export const createCredentialInput = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('dns_tsig'), ...common, keyName: tsigKeyNameSchema, algorithm: tsigAlgorithmSchema, secret: tsigSecretSchema }),
  z.object({ kind: z.literal('domain'), ...common, user: domainUserSchema, password: domainPasswordSchema }),
]);

/** Stores a TSIG key or domain account; the secret is sealed to the new row and never shown again. */
export const createCredential = orgProcedure('operator')
  .input(createCredentialInput)
  .output(credentialOutput)
  .mutation(async ({ ctx, input }) => {
    if (input.customerId) {
      const customer = await ctx.db.customer.findUnique({ where: { id: input.customerId }, select: { id: true } });
      if (!customer) throw notFound('Customer');
    }
    // The id first, so the sealed secret is bound to this very row.
    const id = randomUUID();
    const [publicInfo, secret] = input.kind === 'dns_tsig' ? [{ keyName: input.keyName, algorithm: input.algorithm }, input.secret] : [{ user: input.user }, input.password];
    const c = await ctx.db.credential.create({
      data: {
        id,
        organizationId: ctx.actor.organizationId,
        customerId: input.customerId ?? null,
        kind: input.kind,
        name: input.name,
        publicInfo,
        expiresAt: expiryToDate(input.expiresAt),
        secretEnc: sealSecret(secret, credentialSecretContext(id)),
      },
    });
    await audit(ctx.db, ctx.actor, {
      action: 'credential.create',
      targetType: 'Credential',
      targetId: c.id,
      customerId: c.customerId,
      summary: `Created ${input.kind === 'dns_tsig' ? 'TSIG key' : 'domain account'} credential "${c.name}"`,
      changes: { name: c.name, kind: c.kind, ...publicInfo, ...(input.expiresAt ? { expiresAt: input.expiresAt } : {}) },
    });
    return toCredentialOutput(c);
  });
