// Tenant scoping: the one place where database access gets its tenant.
// Two layers: (1) a Prisma extension that adds the organization (and, for customer users, the
// customer) to every query on tenant-owned models; (2) per-transaction settings that PostgreSQL's
// row-level security policies read, so a query that slipped past (1) still sees only the tenant.
import { Prisma } from '../generated/prisma/client.ts';
import { appDb, type Db } from './client.ts';

export interface TenantScope {
  organizationId: string;
  userId: string | null;
  /** Set for customer users only: limits every query to that customer. */
  customerId: string | null;
}

// These lists mirror the row-level security migration; a test checks both against the database.
/** Models whose rows belong to exactly one customer (customerId required). */
export const customerOwnedModels = new Set([
  'CustomerMembership', 'Server', 'Agent', 'EnrollmentToken', 'ProtectionPair', 'ValidationRun', 'Finding',
  'Operation', 'OperationStep', 'Approval', 'ReplicationSample', 'PairEvent', 'PairMonitor', 'DrillSchedule',
  'ClusterConfigVersion', 'FindingAcknowledgement', 'ApprovalVote', 'ApprovalLink', 'MaintenanceWindow',
]);
/** Models with an optional customerId: customer users see only their own customer's rows. */
export const customerOptionalModels = new Set(['Invitation', 'Credential', 'AlertRule', 'AuditEvent', 'AlertDelivery', 'OutboxEvent', 'Alert']);
/** Models of the organization alone: invisible to customer users. */
export const orgOnlyModels = new Set(['OrgMembership', 'AlertChannel', 'SmtpSettings']);
/** Every model whose rows carry organizationId. */
export const tenantModels = new Set(['Customer', ...customerOwnedModels, ...customerOptionalModels, ...orgOnlyModels]);

const whereOperations = new Set([
  'findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow', 'findMany', 'count', 'aggregate', 'groupBy',
  'update', 'updateMany', 'updateManyAndReturn', 'delete', 'deleteMany', 'upsert',
]);

function scopeWhere(model: string, scope: TenantScope): Record<string, unknown> {
  const where: Record<string, unknown> = { organizationId: scope.organizationId };
  if (scope.customerId) {
    if (model === 'Customer') where.id = scope.customerId;
    else if (customerOwnedModels.has(model) || customerOptionalModels.has(model)) where.customerId = scope.customerId;
  }
  return where;
}

function scopeData(model: string, data: Record<string, unknown>, scope: TenantScope) {
  if (data.organizationId !== undefined && data.organizationId !== scope.organizationId) {
    throw new Error(`refusing to write a ${model} row into another organization`);
  }
  const out: Record<string, unknown> = { ...data, organizationId: scope.organizationId };
  if (scope.customerId && (customerOwnedModels.has(model) || customerOptionalModels.has(model))) {
    if (data.customerId !== undefined && data.customerId !== scope.customerId) {
      throw new Error(`refusing to write a ${model} row for another customer`);
    }
    out.customerId = scope.customerId;
  }
  return out;
}

function scopedExtension(scope: TenantScope) {
  return Prisma.defineExtension({
    name: 'tenant-scope',
    query: {
      $allModels: {
        $allOperations({ model, operation, args, query }) {
          if (!model || !tenantModels.has(model)) return query(args);
          // Prisma's generic args type cannot be narrowed per model here; the shapes are checked
          // by the generated types at every call site.
          const a = { ...(args as Record<string, unknown>) };
          if (whereOperations.has(operation)) {
            const existing = a.where as Record<string, unknown> | undefined;
            const and: unknown[] = existing?.AND === undefined ? [] : Array.isArray(existing.AND) ? (existing.AND as unknown[]) : [existing.AND];
            a.where = { ...existing, AND: [...and, scopeWhere(model, scope)] };
          }
          if (operation === 'create' || operation === 'upsert') {
            const key = operation === 'create' ? 'data' : 'create';
            a[key] = scopeData(model, a[key] as Record<string, unknown>, scope);
          }
          if (operation === 'createMany' || operation === 'createManyAndReturn') {
            const data = a.data as Record<string, unknown> | Record<string, unknown>[];
            a.data = Array.isArray(data) ? data.map((d) => scopeData(model, d, scope)) : scopeData(model, data, scope);
          }
          return query(a);
        },
      },
    },
  });
}

function makeScoped(db: Db, scope: TenantScope) {
  return db.$extends(scopedExtension(scope));
}
export type ScopedDb = ReturnType<typeof makeScoped>;
/** A transaction of the scoped client: what procedures receive as `ctx.db`. */
export type TenantTx = Parameters<Parameters<ScopedDb['$transaction']>[0]>[0];
/** A transaction of the plain app client (no tenant yet: sign-in, invitations). */
export type AppTx = Parameters<Parameters<Db['$transaction']>[0]>[0];

async function applySettings(tx: AppTx | TenantTx, settings: Record<string, string | null>) {
  for (const [key, value] of Object.entries(settings)) {
    // set_config(..., true) is local to this transaction, so pooled connections never leak it.
    await tx.$executeRaw`SELECT set_config(${key}, ${value ?? ''}, true)`;
  }
}

const txOptions = { maxWait: 10_000, timeout: 20_000 };

/** Runs `fn` in one transaction that sees only the given tenant (and customer). */
export async function withTenant<T>(scope: TenantScope, fn: (tx: TenantTx) => Promise<T>, db: Db = appDb()): Promise<T> {
  return makeScoped(db, scope).$transaction(async (tx) => {
    await applySettings(tx, {
      'app.org_id': scope.organizationId,
      'app.user_id': scope.userId,
      'app.customer_id': scope.customerId,
    });
    return fn(tx);
  }, txOptions);
}

/** For a signed-in user before a tenant is chosen: sees only their own user row and memberships. */
export async function withUser<T>(userId: string, fn: (tx: AppTx) => Promise<T>, db: Db = appDb()): Promise<T> {
  return db.$transaction(async (tx) => {
    await applySettings(tx, { 'app.user_id': userId });
    return fn(tx);
  }, txOptions);
}

/** For whoever holds an invitation link: sees only that invitation. */
export async function withInvitation<T>(
  tokenHash: string,
  fn: (tx: AppTx) => Promise<T>,
  db: Db = appDb(),
): Promise<T> {
  return db.$transaction(async (tx) => {
    await applySettings(tx, { 'app.invite_token_hash': tokenHash });
    return fn(tx);
  }, txOptions);
}

/** Changes the tenant settings inside a running transaction (invitation acceptance only). */
export async function enterTenant(tx: AppTx, scope: TenantScope) {
  await applySettings(tx, {
    'app.org_id': scope.organizationId,
    'app.user_id': scope.userId,
    'app.customer_id': scope.customerId,
  });
}

/** Sign-in lookup by e-mail (a SECURITY DEFINER function: the only way around the User policy). */
export async function findUserForSignIn(email: string, db: Pick<Db, '$queryRaw'> = appDb()) {
  const rows = await db.$queryRaw<
    { id: string; email: string; name: string; passwordHash: string; totpSecretEnc: string | null; totpEnabledAt: Date | null }[]
  >`SELECT * FROM auth_user_by_email(${email})`;
  return rows[0] ?? null;
}
