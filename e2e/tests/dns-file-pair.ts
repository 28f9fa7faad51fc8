import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { freePort } from '../../tests/integration/support/ports';

// A file server pair that fails over by moving DNS records in a test's BIND 9: a share with a few
// documents on the source, a replica folder for the target, the agent monitor on loopback, the
// zone's A record and the reverse PTR moved from the source's address to the target's. Inserted
// as the wizard would save it (the wizard itself is protect.spec's subject).
export interface DnsFilePair {
  pairId: string;
  pairName: string;
  /** The source's shared folder (replicated to the target). */
  share: string;
  /** Where the target keeps the replica (the share's path below it). */
  targetRoot: string;
}

export async function insertDnsFilePair(
  db: pg.Client,
  p: {
    orgId: string;
    customerId: string;
    sourceServerId: string;
    targetServerId: string;
    /** A fresh folder for the share and the replica. */
    work: string;
    tag: string;
    bindPort: number;
    zone: string;
    /** e.g. 77.10.in-addr.arpa for 10.77.0.x */
    reverseZone: string;
    sourceIp: string;
    targetIp: string;
    credentialId: string;
    documents: number;
  },
): Promise<DnsFilePair> {
  const share = path.join(p.work, 'share');
  const targetRoot = path.join(p.work, 'replica');
  fs.mkdirSync(share);
  fs.mkdirSync(targetRoot);
  for (let i = 0; i < p.documents; i++) fs.writeFileSync(path.join(share, `doc-${i}.txt`), `document ${i}\n`);
  const pairName = `Files ${p.tag}`;
  const failover = {
    type: 'dns',
    services: [],
    monitor: { method: 'agent', addresses: ['127.0.0.1'], port: await freePort(), intervalSeconds: 1, missed: 3 },
    manualIntervention: true,
  };
  const connection = { route: '127.0.0.1', port: await freePort(), targetRoot };
  const lastOctets = p.sourceIp.split('.').slice(2).reverse().join('.');
  const dns = {
    servers: [`127.0.0.1:${p.bindPort}`],
    zone: p.zone,
    addressMap: [{ source: p.sourceIp, target: p.targetIp }],
    ttlSeconds: 60,
    credentialId: p.credentialId,
    records: [
      { zone: p.zone, name: `files.${p.zone}`, type: 'A' },
      { zone: p.reverseZone, name: `${lastOctets}.${p.reverseZone}`, type: 'PTR' },
    ],
  };
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO "ProtectionPair" (id, "organizationId", "customerId", name, "sourceServerId", "targetServerId", application, "replicationSet", "failoverSettings", "connectionSettings", "dnsSettings", hooks, "updatedAt")
     VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, 'file_server', $6, $7, $8, $9, '{}', now()) RETURNING id`,
    [p.orgId, p.customerId, pairName, p.sourceServerId, p.targetServerId, { roots: [share], rules: [] }, failover, connection, dns],
  );
  return { pairId: rows[0]!.id, pairName, share, targetRoot };
}
