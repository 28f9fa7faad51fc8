// Stored credentials (TSIG keys, domain accounts): where a secret is sealed and how a DNS
// credential is opened for the one agent that uses it. Web (credential API, record views), worker
// (planning, DNS steps, re-assertion) and the demo set-up all seal and open through here.
import { openSecret } from './secrets.ts';

/** The AES-GCM context that binds a credential's sealed secret to its row (a copied ciphertext does not open). */
export const credentialSecretContext = (credentialId: string) => `credential:${credentialId}:secret`;

export const TSIG_ALGORITHMS = ['hmac-sha256', 'hmac-sha512', 'hmac-sha1'] as const;
export type TsigAlgorithm = (typeof TSIG_ALGORITHMS)[number];

/** What an agent needs to authenticate DNS changes: a TSIG key (rfc2136) or a domain account (windows). */
export interface DnsAuth {
  tsig?: { name: string; algorithm: TsigAlgorithm; secret: string };
  account?: { user: string; password: string };
}

/** A credential that cannot be used as it is stored; the message says what to do. */
export class CredentialError extends Error {}

export interface StoredCredential {
  id: string;
  name?: string;
  kind: string;
  publicInfo: unknown;
  secretEnc: string;
}

/** Opens a dns_tsig or domain credential; never puts the secret in an error. */
export function openDnsCredential(c: StoredCredential): DnsAuth {
  const info = (c.publicInfo && typeof c.publicInfo === 'object' ? c.publicInfo : {}) as Record<string, unknown>;
  const label = c.name ? `"${c.name}"` : 'of this pair';
  if (c.kind !== 'dns_tsig' && c.kind !== 'domain') throw new CredentialError(`The credential ${label} cannot authenticate DNS updates`);
  let secret: string;
  try {
    secret = openSecret(c.secretEnc, credentialSecretContext(c.id));
  } catch {
    throw new CredentialError(`The credential ${label} cannot be opened; enter its secret again`);
  }
  if (c.kind === 'dns_tsig') {
    const { keyName, algorithm } = info;
    if (typeof keyName !== 'string' || !keyName || !TSIG_ALGORITHMS.includes(algorithm as TsigAlgorithm)) {
      throw new CredentialError(`The TSIG credential ${label} has no key name or algorithm; edit it`);
    }
    return { tsig: { name: keyName, algorithm: algorithm as TsigAlgorithm, secret } };
  }
  if (typeof info.user !== 'string' || !info.user) throw new CredentialError(`The domain credential ${label} has no account name; edit it`);
  return { account: { user: info.user, password: secret } };
}
