// Opening a credential for the one agent that uses it. Only server code calls this, just before
// sending the command; the secret goes to that agent and nowhere else (not logged, not stored).
import type { TenantTx } from '@tandem/db';
import { AppError } from '@tandem/engine';
import { openSecret } from '@tandem/security';
import { credentialSecretContext, publicInfoSchema, type tsigAlgorithms } from './schemas';

export interface DnsAuth {
  tsig?: { name: string; algorithm: (typeof tsigAlgorithms)[number]; secret: string };
  account?: { user: string; password: string };
}

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

export function openDnsAuth(c: { id: string; kind: string; publicInfo: unknown; secretEnc: string }): DnsAuth {
  const info = publicInfoSchema.parse(c.publicInfo);
  const secret = openSecret(c.secretEnc, credentialSecretContext(c.id));
  if (c.kind === 'dns_tsig') {
    if (!info.keyName || !info.algorithm) throw new AppError('CONFLICT', 'The TSIG credential has no key name or algorithm; edit it');
    return { tsig: { name: info.keyName, algorithm: info.algorithm, secret } };
  }
  if (c.kind === 'domain') {
    if (!info.user) throw new AppError('CONFLICT', 'The domain credential has no account name; edit it');
    return { account: { user: info.user, password: secret } };
  }
  throw new AppError('CONFLICT', 'That credential cannot authenticate DNS updates');
}
