// Opening a credential for the one agent that uses it. Only server code calls this, just before
// sending the command; the secret goes to that agent and nowhere else (not logged, not stored).
import type { TenantTx } from '@tandem/db';
import { AppError } from '@tandem/engine';
import { CredentialError, openDnsCredential, type DnsAuth } from '@tandem/security';

export type { DnsAuth };

/**
 * The DNS authentication of a credential, for a pair (or wizard) of `customerId`: the credential
 * must be the organization's or that customer's. null id: unsigned (rfc2136) updates.
 */
export async function dnsAuthOf(db: TenantTx, credentialId: string | null, customerId: string): Promise<DnsAuth> {
  if (!credentialId) return {};
  const c = await db.credential.findUnique({ where: { id: credentialId } });
  if (!c || (c.customerId !== null && c.customerId !== customerId)) {
    throw new AppError('BAD_REQUEST', 'That credential does not exist', { 'dns.credentialId': 'Choose one of the listed credentials' });
  }
  return openDnsAuth(c);
}

export function openDnsAuth(c: { id: string; name?: string; kind: string; publicInfo: unknown; secretEnc: string }): DnsAuth {
  try {
    return openDnsCredential(c);
  } catch (err) {
    if (err instanceof CredentialError) throw new AppError('CONFLICT', err.message);
    throw err;
  }
}
