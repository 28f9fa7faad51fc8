// Reading and writing a pair's configuration, and what the wizard knows about servers.
import { emitEvent, type TenantTx } from '@tandem/db';
import { AppError, settingsFromColumns, type DiscoveredApplication, type PairSettings, type ServerView, type StoredPairColumns } from '@tandem/engine';
import { factsSchema } from '@tandem/protocol';

interface ServerRow {
  id: string;
  hostname: string;
  osFamily: 'linux' | 'windows';
  addresses: string[];
  facts: unknown;
  agent: { status: 'pending' | 'online' | 'offline' | 'revoked' } | null;
}

/** The engine's view of a server, reduced from its stored facts. */
export function serverView(s: ServerRow): ServerView {
  const facts = s.facts ? factsSchema.safeParse(s.facts) : null;
  const f = facts?.success ? facts.data : null;
  const applications: DiscoveredApplication[] | null =
    f?.applications.status === 'ok'
      ? f.applications.data.flatMap((a): DiscoveredApplication[] => {
          switch (a.kind) {
            case 'file_server':
              return [{ kind: 'file_server', shares: a.shares }];
            case 'postgresql':
              return [{ kind: 'postgresql', version: a.version, dataDirectory: a.dataDirectory, port: a.port, running: a.running }];
            case 'mariadb':
              return [{ kind: 'mariadb', flavor: a.flavor, version: a.version, dataDirectory: a.dataDirectory }];
            case 'sql_server':
              return [{ kind: 'sql_server', instance: a.instance, version: a.version }];
            case 'exchange':
              return [{ kind: 'exchange', version: a.version, databases: a.databases }];
          }
        })
      : null;
  const cluster = f?.cluster.status === 'ok' ? f.cluster.data : null;
  return {
    id: s.id,
    hostname: s.hostname,
    osFamily: s.osFamily,
    addresses: s.addresses,
    agentStatus: s.agent?.status ?? null,
    applications,
    clusterResources: cluster ? cluster.resources.map((r) => r.id) : null,
    fqdn: f?.host.status === 'ok' ? f.host.data.fqdn : null,
    dnsResolvers: f?.network.status === 'ok' ? f.network.data.dnsResolvers : [],
  };
}

/** A stored pair's settings, parsed; null when it was never fully configured (or no longer fits). */
export function storedSettings(p: StoredPairColumns): PairSettings | null {
  try {
    return settingsFromColumns(p);
  } catch {
    return null;
  }
}

/** A DNS credential named in the settings must belong to this customer or the whole organization. */
export async function checkCredential(db: TenantTx, customerId: string, credentialId: string | null) {
  if (!credentialId) return;
  const c = await db.credential.findUnique({ where: { id: credentialId } });
  if (!c || (c.customerId !== null && c.customerId !== customerId)) {
    throw new AppError('BAD_REQUEST', 'That credential does not exist', { 'dns.credentialId': 'Choose one of the listed credentials' });
  }
}

/** Writes a pair event (the pair page's history and the alerting outbox, through the one emitter). */
export async function pairEvent(
  db: TenantTx,
  pair: { id: string; organizationId: string; customerId: string; name?: string },
  e: { kind: 'configuration' | 'operation' | 'status' | 'detection' | 'monitor'; severity?: 'info' | 'warning' | 'error'; message: string; evidence?: object },
) {
  await emitEvent(db, { organizationId: pair.organizationId, customerId: pair.customerId, pairId: pair.id, pairName: pair.name, kind: e.kind, severity: e.severity, message: e.message, evidence: e.evidence });
}
