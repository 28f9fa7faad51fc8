import { z } from 'zod';
import { factsSchema, type ApplicationFacts } from '@tandem/protocol';
import { customerProcedure } from '../../trpc';

function describe(app: ApplicationFacts): string {
  switch (app.kind) {
    case 'postgresql':
      return `PostgreSQL ${app.version ?? ''} at ${app.dataDirectory}${app.port ? ` (port ${app.port})` : ''}`.replace(/\s+/g, ' ');
    case 'mariadb':
      return `${app.flavor === 'mysql' ? 'MySQL' : 'MariaDB'} ${app.version ?? ''} at ${app.dataDirectory}`.replace(/\s+/g, ' ');
    case 'file_server':
      return `${app.shares.length} file share(s): ${app.shares.map((s) => s.name).slice(0, 5).join(', ')}`;
    case 'sql_server':
      return `SQL Server instance ${app.instance} (${app.databases.length} databases)`;
    case 'exchange':
      return `Exchange ${app.version ?? ''} (${app.databases.length} databases)`.replace(/\s+/g, ' ');
  }
}

/** Applications the customer's agents discovered, and whether a protection pair covers each. */
export const customerCoverage = customerProcedure({ customerRoles: ['viewer', 'approver'] })
  .output(
    z.array(
      z.object({
        serverId: z.string(),
        hostname: z.string(),
        application: z.enum(['postgresql', 'mariadb', 'file_server', 'sql_server', 'exchange']),
        detail: z.string(),
        covered: z.boolean(),
      }),
    ),
  )
  .query(async ({ ctx }) => {
    const servers = await ctx.db.server.findMany({
      where: { customerId: ctx.customer.id },
      select: { id: true, hostname: true, facts: true, sourceOf: { select: { application: true } } },
      orderBy: { hostname: 'asc' },
    });
    return servers.flatMap((s) => {
      const facts = factsSchema.safeParse(s.facts);
      if (!facts.success || facts.data.applications.status !== 'ok') return [];
      const protectedApps = new Set<string>(s.sourceOf.map((p) => p.application));
      return facts.data.applications.data.map((app) => ({
        serverId: s.id,
        hostname: s.hostname,
        application: app.kind,
        detail: describe(app),
        covered: protectedApps.has(app.kind),
      }));
    });
  });
