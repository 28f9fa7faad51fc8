// The DNS credential of a pair, opened for the agent that uses it. An organization-wide
// credential (customerId null) serves every customer, but the worker's transactions are scoped to
// the operation's customer (Prisma extension and row-level security), which hides such rows: it is
// read in the organization's scope and checked against the pair's customer here.
import type { TenantTx } from '@tandem/db';
import { CredentialError, openDnsCredential, type DnsAuth } from '@tandem/security';

export type OrgTx = <T>(fn: (db: TenantTx) => Promise<T>) => Promise<T>;

/** {} without a credential (unsigned updates); `refuse` makes the error its caller throws. */
export async function dnsAuthFor(orgTx: OrgTx, credentialId: string | null, customerId: string, refuse: (message: string) => Error): Promise<DnsAuth> {
  if (!credentialId) return {};
  const c = await orgTx((db) => db.credential.findUnique({ where: { id: credentialId }, select: { id: true, name: true, kind: true, customerId: true, secretEnc: true, publicInfo: true } }));
  if (!c || (c.customerId !== null && c.customerId !== customerId)) throw refuse('The DNS credential of this pair no longer exists; choose another in the pair’s DNS settings');
  try {
    return openDnsCredential(c);
  } catch (err) {
    throw err instanceof CredentialError ? refuse(err.message) : err;
  }
}
