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
import { CredentialKind } from '@tandem/db';
import { serverView } from '../../services/pairs';
import { customerProcedure } from '../../trpc';
import { pairSettingsOutput } from './schemas';

export const pairWizardInput = z.object({
  sourceServerId: idSchema.optional(),
  application: applicationSchema.optional(),
  targetServerId: idSchema.optional(),
});

const agentStatus = z.enum(['pending', 'online', 'offline', 'revoked']).nullable();
/** A server offered as a source or a target: `ok` false says why it cannot be chosen. */
const serverChoice = z.object({
  id: z.string(),
  hostname: z.string(),
  osFamily: z.enum(['linux', 'windows']),
  agentStatus,
  ok: z.boolean(),
  reason: z.string().nullable(),
  addresses: z.array(z.string()),
});
const postgresInstance = z.object({ dataDirectory: z.string(), port: z.number().int().nullable(), version: z.string().nullable(), running: z.boolean() });

const pairWizardOutput = z.object({
  customerName: z.string(),
  postgres: z.object({ source: z.array(postgresInstance), target: z.array(postgresInstance) }).nullable(),
  sources: z.array(serverChoice),
  applications: z.array(z.object({ application: applicationSchema, label: z.string(), available: z.boolean(), detail: z.string() })).nullable(),
  targets: z.array(serverChoice).nullable(),
  defaults: pairSettingsOutput.nullable(),
  credentials: z.array(z.object({ id: z.string(), name: z.string(), kind: z.enum(CredentialKind), scope: z.enum(['customer', 'organization']) })),
});

/**
 * Everything the new-protection wizard shows, step by step: the customer's servers as sources;
 * once a source is chosen, its applications; once an application is chosen, the possible
 * targets (incompatible ones with the reason); once a target is chosen, pre-filled settings.
 */
export const pairWizard = customerProcedure({ staff: 'operator' })
  .input(pairWizardInput)
  .output(pairWizardOutput)
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
