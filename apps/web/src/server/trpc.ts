// tRPC procedure builders: the one place where authentication, tenant and role are decided.
//
//   publicProcedure          anyone
//   authedProcedure          a signed-in user, before any tenant (account settings)
//   orgProcedure(minRole)    MSP staff of the active organization with at least `minRole`
//   customerProcedure(opts)  input has `customerId`; MSP staff of its organization, or a user of
//                            that very customer. Anything else is NOT_FOUND.
//
// Tenant procedures run inside one database transaction (`ctx.db`) whose queries are scoped to
// the tenant by the Prisma extension and, underneath, by PostgreSQL row-level security.
import { initTRPC, TRPCError } from '@trpc/server';
import { z } from 'zod';
import { withTenant, type TenantTx } from '@tandem/db';
import { AppError, fieldErrors, findUnstorableText, forbidden, idSchema, notFound, orgRoleAtLeast, type CustomerRole, type OrgRole } from '@tandem/engine';
import { resolveActor, type Actor } from './actor';
import { agentErrorToAppError, CommandError } from './agent-errors';

export interface Context {
  /** The signed-in user's id, from the session; null when signed out. */
  userId: string | null;
  /** The server-side session behind the cookie (to keep it when revoking the others). */
  sessionId?: string | null;
  /** The workspace chosen in the organization switcher (cookie), if any. */
  workspaceKey: string | null;
  /** Base URL for links we hand out (invitations). */
  origin: string;
}

const t = initTRPC.context<Context>().create({
  // Subscriptions stream over server-sent events; the pings keep idle streams open through
  // proxies, and a client that hears nothing (not even a ping) for twice as long reconnects.
  // A stream ends after 5 minutes and the client reconnects, passing the sign-in and access
  // checks again: a revoked session or membership stops receiving notices within that time.
  sse: { ping: { enabled: true, intervalMs: 15_000 }, client: { reconnectAfterInactivityMs: 30_000 }, maxDurationMs: 5 * 60_000 },
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    let fields: Record<string, string> | undefined;
    if (cause instanceof z.ZodError) fields = fieldErrors(cause);
    else if (cause instanceof AppError) fields = cause.fields;
    return {
      ...shape,
      message: cause instanceof z.ZodError ? describeZod(cause) : shape.message,
      data: { ...shape.data, fields: fields ?? null, stack: undefined },
    };
  },
});

function describeZod(error: z.ZodError): string {
  const first = error.issues[0];
  if (!first) return 'Invalid input';
  const where = first.path.length ? `${first.path.join('.')}: ` : '';
  return `Invalid input: ${where}${first.message}`;
}

/** Maps our one error model (and the agent bus's and Prisma's errors) onto tRPC codes. */
function toTrpcError(err: unknown): unknown {
  if (err instanceof TRPCError && err.cause instanceof CommandError) {
    const mapped = agentErrorToAppError(err.cause);
    return new TRPCError({ code: mapped.code, message: mapped.message, cause: mapped });
  }
  if (err instanceof TRPCError && err.cause instanceof AppError) {
    return new TRPCError({ code: err.cause.code, message: err.cause.message, cause: err.cause });
  }
  if (err instanceof TRPCError && err.code === 'INTERNAL_SERVER_ERROR') {
    const code = (err.cause as { code?: unknown } | undefined)?.code;
    if (code === 'P2002') return new TRPCError({ code: 'CONFLICT', message: 'Something with that name already exists', cause: err.cause });
    if (code === 'P2025') return new TRPCError({ code: 'NOT_FOUND', message: 'Not found', cause: err.cause });
    console.error('[trpc] internal error', err.cause ?? err);
  }
  return err;
}

const errorMapping = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok) throw toTrpcError(result.error);
  return result;
});

export const createRouter = t.router;
export const createCallerFactory = t.createCallerFactory;

/**
 * Text that no column can store (NUL, a lone surrogate) is refused before any schema or query sees
 * it, wherever it sits in the input, so it is a clear 400 rather than a database failure.
 */
const refuseUnstorableText = t.middleware(async ({ getRawInput, next }) => {
  const found = findUnstorableText(await getRawInput());
  if (found) {
    const message = 'Text cannot contain NUL or invalid (lone surrogate) characters';
    throw new AppError('BAD_REQUEST', `Invalid input: ${message}`, { [found.path.join('.') || '_']: message });
  }
  return next();
});

export const publicProcedure = t.procedure.use(errorMapping).use(refuseUnstorableText);

export const authedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.userId) throw new AppError('UNAUTHORIZED', 'Sign in first');
  return next({ ctx: { ...ctx, userId: ctx.userId } });
});

/**
 * Resolves the actor and runs the rest of the procedure in a tenant transaction. A failed
 * procedure throws out of the transaction, so nothing it wrote is kept.
 */
const tenantProcedure = authedProcedure.use(async ({ ctx, next }) => {
  const actor = await resolveActor(ctx.userId, ctx.workspaceKey);
  if (!actor) throw forbidden('Your account has no access to any organization or customer');
  // Work that must only see committed rows (handing an operation to the worker) waits here.
  const committed: (() => Promise<void>)[] = [];
  const afterCommit = (fn: () => Promise<void>) => void committed.push(fn);
  const result = await withTenant(
    {
      organizationId: actor.organizationId,
      userId: actor.userId,
      customerId: actor.kind === 'customer' ? actor.customerId : null,
    },
    async (db) => {
      const result = await next({ ctx: { ...ctx, actor, db, afterCommit } });
      if (!result.ok) throw result.error;
      return result;
    },
  );
  for (const fn of committed) {
    // The change is saved; a failure here is logged, and the worker's sweep catches up.
    await fn().catch((err: unknown) => console.error('[trpc] after-commit task failed', err));
  }
  return result;
});

/** MSP staff of the active organization with at least `minRole`. Customer users: FORBIDDEN. */
export function orgProcedure(minRole: OrgRole) {
  return tenantProcedure.use(({ ctx, next }) => next({ ctx: { ...ctx, actor: staffAtLeast(ctx.actor, minRole) } }));
}

/** The actor if it is MSP staff with at least `minRole`; FORBIDDEN otherwise. */
function staffAtLeast(actor: Actor, minRole: OrgRole): Extract<Actor, { kind: 'staff' }> {
  if (actor.kind !== 'staff') throw forbidden('Only MSP staff can do this');
  if (!orgRoleAtLeast(actor.role, minRole)) throw forbidden(`This needs the ${minRole} role or higher`);
  return actor;
}

export interface CustomerAccess {
  /** Minimum org role for MSP staff (default viewer). */
  staff?: OrgRole;
  /** Customer roles allowed; omit to refuse customer users entirely (FORBIDDEN). */
  customerRoles?: CustomerRole[];
}

/**
 * A procedure about one customer, named by `customerId` in the input. MSP staff reach any
 * customer of their organization; a customer user reaches only their own. Another tenant's
 * customer, or one that does not exist, is NOT_FOUND either way.
 */
export function customerProcedure(access: CustomerAccess = {}) {
  return tenantProcedure.input(z.object({ customerId: idSchema })).use(async ({ ctx, input, next }) => {
    checkCustomerAccess(ctx.actor, access, input.customerId);
    const customer = await ctx.db.customer.findUnique({ where: { id: input.customerId } });
    if (!customer) throw notFound('Customer');
    return next({ ctx: { ...ctx, customer } });
  });
}

/** The role and customer checks of `customerProcedure`, before the customer is looked up. */
function checkCustomerAccess(actor: Actor, access: CustomerAccess, customerId: string) {
  if (actor.kind === 'customer') {
    // The role is checked first: a staff-only procedure is FORBIDDEN whatever id it names.
    if (!access.customerRoles?.includes(actor.role)) throw forbidden('Your role cannot do this');
    if (customerId !== actor.customerId) throw notFound('Customer');
  } else if (!orgRoleAtLeast(actor.role, access.staff ?? 'viewer')) {
    throw forbidden(`This needs the ${access.staff} role or higher`);
  }
}

/** Any signed-in member of the tenant (staff or customer user); procedures narrow by actor kind. */
export const memberProcedure = tenantProcedure;

/**
 * Procedures that talk to agents. An agent may take seconds to answer, and a transaction held
 * meanwhile pins one of the pool's few connections, so these run in no transaction of their
 * own: `ctx.tx` runs one short tenant transaction for the same actor (scoped exactly like
 * `ctx.db` above). Read and check in one, ask the agent outside any, write in another.
 */
const agentTenantProcedure = authedProcedure.use(async ({ ctx, next }) => {
  const actor = await resolveActor(ctx.userId, ctx.workspaceKey);
  if (!actor) throw forbidden('Your account has no access to any organization or customer');
  const scope = { organizationId: actor.organizationId, userId: actor.userId, customerId: actor.kind === 'customer' ? actor.customerId : null };
  const tx = <T>(fn: (db: TenantTx) => Promise<T>) => withTenant(scope, fn);
  return next({ ctx: { ...ctx, actor, tx } });
});

/** Like `orgProcedure`, for procedures that call agents (see agentTenantProcedure). */
export function agentOrgProcedure(minRole: OrgRole) {
  return agentTenantProcedure.use(({ ctx, next }) => next({ ctx: { ...ctx, actor: staffAtLeast(ctx.actor, minRole) } }));
}

/** Like `memberProcedure` (any member; procedures narrow by actor kind), for procedures that call agents. */
export const agentMemberProcedure = agentTenantProcedure;

/** Like `customerProcedure` (same checks, in a short transaction), for procedures that call agents. */
export function agentCustomerProcedure(access: CustomerAccess = {}) {
  return agentTenantProcedure.input(z.object({ customerId: idSchema })).use(async ({ ctx, input, next }) => {
    checkCustomerAccess(ctx.actor, access, input.customerId);
    const customer = await ctx.tx((db) => db.customer.findUnique({ where: { id: input.customerId } }));
    if (!customer) throw notFound('Customer');
    return next({ ctx: { ...ctx, customer } });
  });
}

/**
 * Subscriptions (live updates). The actor and its access are decided exactly as for the tenant
 * procedures above, but a subscription lives as long as the page is open, so like the agent
 * procedures it holds no transaction: the access check runs in one short `ctx.tx`, and the
 * stream that follows runs outside any transaction.
 */
/** A subscription for any signed-in member of the tenant (like `memberProcedure`). */
export const liveMemberProcedure = agentTenantProcedure;

/** A subscription for MSP staff with at least `minRole` (like `orgProcedure`). */
export const liveOrgProcedure = agentOrgProcedure;
