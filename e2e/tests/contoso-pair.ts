import type pg from 'pg';
import { validPairSettings } from '../../tests/integration/support/pair-settings';

// The demo's Contoso Dental file servers (cd-files01 → cd-files02), and a file pair between them
// written straight to the database with a complete configuration, for browser tests that need a
// pair in a given state without agents.

export async function contoso(db: pg.Client) {
  const { rows } = await db.query<{ org: string; customer: string; source: string; target: string }>(
    `SELECT c."organizationId" AS org, c.id AS customer,
            (SELECT id FROM "Server" WHERE "customerId" = c.id AND hostname = 'cd-files01') AS source,
            (SELECT id FROM "Server" WHERE "customerId" = c.id AND hostname = 'cd-files02') AS target
     FROM "Customer" c JOIN "Organization" o ON o.id = c."organizationId"
     WHERE o.slug = 'demo-msp' AND c.name = 'Contoso Dental'`,
  );
  return rows[0]!;
}

/** Inserts the pair and returns the Contoso ids it used. `readiness` as the worker stores it. */
export async function seedContosoPair(db: pg.Client, o: { pairId: string; name: string; status: 'unprotected' | 'protected'; readiness?: { score: number } & Record<string, unknown> }) {
  const r = await contoso(db);
  const s = { ...validPairSettings(), name: o.name };
  await db.query(
    `INSERT INTO "ProtectionPair" (id, "organizationId", "customerId", name, "sourceServerId", "targetServerId", application, status,
       "replicationSet", "failoverSettings", "connectionSettings", "dnsSettings", hooks, "testSettings", "readinessScore", readiness, "updatedAt")
     VALUES ($1, $2, $3, $4, $5, $6, 'file_server', $7, $8, $9, $10, $11, $12, $13, $14, $15, now())`,
    [
      o.pairId,
      r.org,
      r.customer,
      o.name,
      r.source,
      r.target,
      o.status,
      JSON.stringify(s.replicationSet),
      JSON.stringify(s.failover),
      JSON.stringify(s.connection),
      JSON.stringify(s.dns),
      JSON.stringify(s.hooks),
      JSON.stringify(s.testing),
      o.readiness?.score ?? null,
      o.readiness ? JSON.stringify(o.readiness) : null,
    ],
  );
  return r;
}
