import type { TenantTx } from '@tandem/db';
import { notFound } from '@tandem/engine';

/** A server of the tenant (for customer users: of their customer), with its agent. */
export async function findServer(db: TenantTx, serverId: string) {
  const server = await db.server.findUnique({ where: { id: serverId }, include: { agent: true, customer: { select: { name: true } } } });
  if (!server) throw notFound('Server');
  return server;
}
