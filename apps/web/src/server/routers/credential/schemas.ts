// Credentials Tandem uses on the customer's behalf: TSIG keys for RFC 2136 DNS updates and
// domain accounts for secure updates of Active Directory-integrated zones. The secret part is
// sealed at rest and never returned; only the public part below is ever shown.
import { z } from 'zod';
import type { TenantTx } from '@tandem/db';
import { dnsNameSchema, nameTextSchema, notFound } from '@tandem/engine';
import { TSIG_ALGORITHMS } from '@tandem/security';

export { credentialSecretContext } from '@tandem/security';

export const credentialKinds = ['dns_tsig', 'domain'] as const;
export const tsigAlgorithms = TSIG_ALGORITHMS;

export const credentialNameSchema = nameTextSchema('The name').trim().min(1, 'Give the credential a name').max(120, 'Keep the name under 120 characters');
export const tsigKeyNameSchema = dnsNameSchema.refine((n) => n.length > 0, 'Enter the key name as the DNS server knows it');
export const tsigAlgorithmSchema = z.enum(tsigAlgorithms, { error: 'Choose hmac-sha256, hmac-sha512 or hmac-sha1' });
export const tsigSecretSchema = z
  .string()
  .trim()
  .min(4, 'Paste the key’s secret (base64)')
  .max(512, 'That secret is too long')
  .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'The secret is base64 (as in the key file’s secret "…" line)')
  .refine((s) => s.length % 4 === 0, 'The secret is base64: its length is a multiple of 4');
export const domainUserSchema = z.string().trim().min(1, 'Enter the account, such as CORP\\tandem-dns').max(256);
export const domainPasswordSchema = z.string().min(1, 'Enter the password').max(1024);
/** When the secret stops working (a password policy, a key rotation date): alerting warns 14 days ahead. */
export const credentialExpirySchema = z.iso.date({ error: 'Enter a date such as 2027-03-31' });
/** The stored expiry: the start of that day, UTC. */
export const expiryToDate = (d: string | null | undefined) => (d ? new Date(`${d}T00:00:00.000Z`) : null);

/** What may be shown of a credential (never the secret). */
export const publicInfoSchema = z.object({
  keyName: z.string().optional(),
  algorithm: z.enum(tsigAlgorithms).optional(),
  user: z.string().optional(),
});
export type PublicInfo = z.infer<typeof publicInfoSchema>;

export const credentialOutput = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(credentialKinds),
  /** null: usable for any customer of the organization. */
  customerId: z.string().nullable(),
  publicInfo: publicInfoSchema,
  lastVerifiedAt: z.string().nullable(),
  /** YYYY-MM-DD, or null when not known. */
  expiresAt: z.string().nullable(),
  createdAt: z.string(),
});
export type CredentialOutput = z.infer<typeof credentialOutput>;

export function toCredentialOutput(c: { id: string; name: string; kind: string; customerId: string | null; publicInfo: unknown; lastVerifiedAt: Date | null; expiresAt: Date | null; createdAt: Date }): CredentialOutput {
  const info = publicInfoSchema.safeParse(c.publicInfo);
  return {
    id: c.id,
    name: c.name,
    kind: c.kind === 'domain' ? 'domain' : 'dns_tsig',
    customerId: c.customerId,
    publicInfo: info.success ? { keyName: info.data.keyName, algorithm: info.data.algorithm, user: info.data.user } : {},
    lastVerifiedAt: c.lastVerifiedAt?.toISOString() ?? null,
    expiresAt: c.expiresAt?.toISOString().slice(0, 10) ?? null,
    createdAt: c.createdAt.toISOString(),
  };
}


export async function loadCredential(db: TenantTx, id: string) {
  const c = await db.credential.findUnique({ where: { id } });
  if (!c || (c.kind !== 'dns_tsig' && c.kind !== 'domain')) throw notFound('Credential');
  return c;
}
