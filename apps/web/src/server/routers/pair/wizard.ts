import { z } from 'zod';
import {
  applicationChoices,
  applicationSchema,
  defaultPairSettings,
  idSchema,
  notFound,
  postgresInstances,
  targetCompatibility,
  usableAddresses,
  type PairSettings,
} from '@tandem/engine';
import { serverView } from '../../services/pairs';
import { customerProcedure } from '../../trpc';

export const pairWizardInput = z.object({
  sourceServerId: idSchema.optional(),
  application: applicationSchema.optional(),
  targetServerId: idSchema.optional(),
});

/**
 * Everything the new-protection wizard shows, step by step: the customer's servers as sources;
 * once a source is chosen, its applications; once an application is chosen, the possible
 * targets (incompatible ones with the reason); once a target is chosen, pre-filled settings.
 */
export const pairWizard = customerProcedure({ staff: 'operator' })
  .input(pairWizardInput)
  .query(async ({ ctx, input }) => {
    const servers = await ctx.db.server.findMany({
      where: { customerId: ctx.customer.id },
      include: { agent: { select: { status: true } } },
      orderBy: { hostname: 'asc' },
    });
    const views = new Map(servers.map((s) => [s.id, serverView(s)]));
    const sources = servers.map((s) => {
      const v = views.get(s.id)!;
      const reason =
        !v.agentStatus || v.agentStatus === 'pending' ? 'No agent enrolled' : v.agentStatus === 'revoked' ? 'Its agent was revoked' : !s.facts ? 'Its agent has not reported facts yet' : null;
      return { id: s.id, hostname: s.hostname, osFamily: s.osFamily, agentStatus: v.agentStatus, ok: reason === null, reason, addresses: usableAddresses(s.addresses) };
    });

    const credentials = await ctx.db.credential.findMany({
      where: { OR: [{ customerId: ctx.customer.id }, { customerId: null }] },
      select: { id: true, name: true, kind: true, customerId: true },
      orderBy: { name: 'asc' },
    });

    const source = input.sourceServerId ? views.get(input.sourceServerId) : undefined;
    if (input.sourceServerId && !source) throw notFound('Server');
    const applications = source ? applicationChoices(source) : null;

    const application = source && input.application ? input.application : null;
    const targets =
      source && application
        ? servers
            .filter((s) => s.id !== source.id)
            .map((s) => {
              const c = targetCompatibility(source, views.get(s.id)!, application);
              return {
                id: s.id,
                hostname: s.hostname,
                osFamily: s.osFamily,
                agentStatus: views.get(s.id)!.agentStatus,
                ok: c.ok,
                reason: c.ok ? null : c.reason,
                addresses: usableAddresses(s.addresses),
              };
            })
        : null;

    const target = input.targetServerId ? views.get(input.targetServerId) : undefined;
    if (input.targetServerId && !target) throw notFound('Server');
    const defaults: PairSettings | null = source && application && target ? defaultPairSettings(application, source, target) : null;

    // Database pairs choose an instance on each side.
    const instancesOf = (v: typeof source) => (v ? postgresInstances(v).map((i) => ({ dataDirectory: i.dataDirectory, port: i.port ?? null, version: i.version, running: i.running ?? true })) : []);
    return {
      customerName: ctx.customer.name,
      postgres: application === 'postgresql' ? { source: instancesOf(source), target: instancesOf(target) } : null,
      sources,
      applications,
      targets,
      defaults,
      credentials: credentials.map((c) => ({ id: c.id, name: c.name, kind: c.kind, scope: c.customerId ? 'customer' : 'organization' })),
    };
  });
