// Row-level security, checked with raw SQL as the application's role (tandem_app): queries with
// no WHERE clause at all must still see only the tenant named by the transaction's settings.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerOptionalModels, customerOwnedModels, orgOnlyModels, tenantModels } from '@tandem/db';
import { createTenant, type Tenant } from '@tandem/db/testing';

const appPool = new pg.Pool({ connectionString: process.env.APP_DATABASE_URL, max: 3 });
const ownerPool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 });

afterAll(async () => {
  await Promise.all([appPool.end(), ownerPool.end()]);
});

interface Settings {
  orgId?: string;
  userId?: string;
  customerId?: string;
}

/** Runs `fn` in a transaction of the given pool with the given app.* settings, then rolls back. */
async function inTx<T>(pool: pg.Pool, settings: Settings, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    if (settings.orgId) await client.query(`SELECT set_config('app.org_id', $1, true)`, [settings.orgId]);
    if (settings.userId) await client.query(`SELECT set_config('app.user_id', $1, true)`, [settings.userId]);
    if (settings.customerId) await client.query(`SELECT set_config('app.customer_id', $1, true)`, [settings.customerId]);
    return await fn(client);
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release();
  }
}
const asApp = <T>(settings: Settings, fn: (c: pg.PoolClient) => Promise<T>) => inTx(appPool, settings, fn);
const asOwner = <T>(fn: (c: pg.PoolClient) => Promise<T>) => inTx(ownerPool, {}, fn);

/** Rows of a whole table, no WHERE clause: only row-level security decides what comes back. */
async function all(c: pg.PoolClient, table: string): Promise<Record<string, string | null>[]> {
  return (await c.query<Record<string, string | null>>(`SELECT * FROM "${table}"`)).rows;
}

/** The SQL error a statement fails with (a savepoint keeps the transaction usable). */
async function sqlError(c: pg.PoolClient, sql: string, params: unknown[] = []): Promise<{ code?: string; message: string }> {
  await c.query('SAVEPOINT attempt');
  try {
    await c.query(sql, params);
  } catch (err) {
    await c.query('ROLLBACK TO SAVEPOINT attempt');
    return err as { code?: string; message: string };
  }
  await c.query('RELEASE SAVEPOINT attempt');
  throw new Error(`expected to fail: ${sql}`);
}

let a: Tenant;
let b: Tenant;

beforeAll(async () => {
  [a, b] = await Promise.all([createTenant(), createTenant()]);
});

describe('the application role', () => {
  it('is the role of APP_DATABASE_URL, neither superuser nor BYPASSRLS, and owns no table', async () => {
    const expectedRole = decodeURIComponent(new URL(process.env.APP_DATABASE_URL!).username);
    const r = await asApp({}, (c) =>
      c.query(`SELECT current_user AS name, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user`),
    );
    expect(r.rows).toEqual([{ name: expectedRole, rolsuper: false, rolbypassrls: false }]);
    // A table's owner is not subject to its policies (no FORCE ROW LEVEL SECURITY here).
    const owned = await asApp({}, (c) =>
      c.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user`),
    );
    expect(owned.rows).toEqual([]);
  });
});

describe('acting as organization A (app.org_id)', () => {
  const cases: { table: string; aIds: (t: Tenant) => string[] }[] = [
    { table: 'Customer', aIds: (t) => [t.customerX.id, t.customerY.id] },
    { table: 'Server', aIds: (t) => [t.serverX.id, t.serverY.id] },
    { table: 'AuditEvent', aIds: (t) => [t.audit.id] },
    { table: 'OrgMembership', aIds: (t) => [t.ownerMembership.id, t.operatorMembership.id, t.viewerMembership.id] },
    { table: 'CustomerMembership', aIds: (t) => [t.customerMembership.id, t.customerYMembership.id] },
    { table: 'Invitation', aIds: (t) => [t.invitation.id] },
  ];

  it.each(cases)('SELECT * FROM "$table" returns A’s rows and none of B’s', async ({ table, aIds }) => {
    const rows = await asApp({ orgId: a.org.id }, (c) => all(c, table));
    const ids = rows.map((r) => r.id);
    expect(new Set(rows.map((r) => r.organizationId))).toEqual(new Set([a.org.id]));
    expect(ids).toEqual(expect.arrayContaining(aIds(a)));
    for (const id of aIds(b)) expect(ids).not.toContain(id);
    expect(rows.length).toBe(aIds(a).length); // a fresh tenant has exactly these
  });

  it('sees its own organization row only', async () => {
    const rows = await asApp({ orgId: a.org.id }, (c) => all(c, 'Organization'));
    expect(rows.map((r) => r.id)).toEqual([a.org.id]);
  });

  it('sees the users of A only (not B’s)', async () => {
    const rows = await asApp({ orgId: a.org.id }, (c) => all(c, 'User'));
    const ids = rows.map((r) => r.id);
    expect(ids).toEqual(expect.arrayContaining([a.owner.id, a.operator.id, a.viewer.id, a.customerUser.id, a.customerYUser.id]));
    for (const u of [b.owner, b.operator, b.viewer, b.customerUser, b.customerYUser]) expect(ids).not.toContain(u.id);
  });

  it('cannot INSERT a row carrying B’s organizationId', async () => {
    await asApp({ orgId: a.org.id }, async (c) => {
      const e1 = await sqlError(
        c,
        `INSERT INTO "Customer" (id, "organizationId", name, "updatedAt") VALUES (gen_random_uuid(), $1, 'Smuggled', now())`,
        [b.org.id],
      );
      expect(e1.code).toBe('42501');
      expect(e1.message).toMatch(/row-level security/);
      const e2 = await sqlError(
        c,
        `INSERT INTO "Server" (id, "organizationId", "customerId", hostname, "osFamily", "updatedAt") VALUES (gen_random_uuid(), $1, $2, 'smuggled', 'linux', now())`,
        [b.org.id, b.customerX.id],
      );
      expect(e2.message).toMatch(/row-level security/);
      const e3 = await sqlError(
        c,
        `INSERT INTO "AuditEvent" (id, "organizationId", "actorLabel", action, "targetType", summary) VALUES (gen_random_uuid(), $1, 'x', 'forged', 'X', 'forged')`,
        [b.org.id],
      );
      expect(e3.message).toMatch(/row-level security/);
    });
    expect(
      (await asOwner((c) => c.query(`SELECT 1 FROM "Customer" WHERE name = 'Smuggled' AND "organizationId" = $1`, [b.org.id])))
        .rowCount,
    ).toBe(0);
  });

  it('cannot move its own row into B, nor touch B’s rows', async () => {
    await asApp({ orgId: a.org.id }, async (c) => {
      const e = await sqlError(c, `UPDATE "Customer" SET "organizationId" = $1 WHERE id = $2`, [b.org.id, a.customerX.id]);
      expect(e.message).toMatch(/row-level security/);
      const upd = await c.query(`UPDATE "Customer" SET name = 'Hijacked' WHERE id = $1`, [b.customerX.id]);
      expect(upd.rowCount).toBe(0);
      const del = await c.query(`DELETE FROM "Server" WHERE "organizationId" = $1`, [b.org.id]);
      expect(del.rowCount).toBe(0);
    });
  });
});

describe('with no settings at all', () => {
  const tables = [...tenantModels, 'Organization', 'User'];

  it.each(tables)('SELECT * FROM "%s" returns zero rows', async (table) => {
    const rows = await asApp({}, (c) => all(c, table));
    expect(rows).toEqual([]);
  });
});

describe('acting as a customer user (app.customer_id)', () => {
  const settings = () => ({ orgId: a.org.id, userId: a.customerUser.id, customerId: a.customerX.id });

  it('sees only that customer and its rows', async () => {
    await asApp(settings(), async (c) => {
      expect((await all(c, 'Customer')).map((r) => r.id)).toEqual([a.customerX.id]);
      expect((await all(c, 'Server')).map((r) => r.id)).toEqual([a.serverX.id]);
      expect((await all(c, 'CustomerMembership')).map((r) => r.id)).toEqual([a.customerMembership.id]);
      const events = await all(c, 'AuditEvent');
      expect(events.map((r) => r.id)).toEqual([a.audit.id]);
      expect(events.every((r) => r.customerId === a.customerX.id)).toBe(true);
    });
  });

  it('sees none of the organization-only tables', async () => {
    await asApp(settings(), async (c) => {
      for (const table of orgOnlyModels) expect(await all(c, table), table).toEqual([]);
    });
  });

  it('cannot create a customer or write rows of another customer', async () => {
    await asApp(settings(), async (c) => {
      const e1 = await sqlError(
        c,
        `INSERT INTO "Customer" (id, "organizationId", name, "updatedAt") VALUES (gen_random_uuid(), $1, 'New one', now())`,
        [a.org.id],
      );
      expect(e1.message).toMatch(/row-level security/);
      const e2 = await sqlError(
        c,
        `INSERT INTO "Server" (id, "organizationId", "customerId", hostname, "osFamily", "updatedAt") VALUES (gen_random_uuid(), $1, $2, 'other', 'linux', now())`,
        [a.org.id, a.customerY.id],
      );
      expect(e2.message).toMatch(/row-level security/);
      const upd = await c.query(`UPDATE "Server" SET hostname = 'renamed' WHERE id = $1`, [a.serverY.id]);
      expect(upd.rowCount).toBe(0);
    });
  });
});

describe('audit events are append-only', () => {
  it('even the owner role cannot UPDATE, DELETE or TRUNCATE them', async () => {
    await asOwner(async (c) => {
      const upd = await sqlError(c, `UPDATE "AuditEvent" SET summary = 'rewritten' WHERE id = $1`, [a.audit.id]);
      expect(upd.message).toMatch(/append-only/);
      const del = await sqlError(c, `DELETE FROM "AuditEvent" WHERE id = $1`, [a.audit.id]);
      expect(del.message).toMatch(/append-only/);
      // Inside a transaction that is rolled back either way.
      const trunc = await sqlError(c, `TRUNCATE "AuditEvent"`);
      expect(trunc.message).toMatch(/append-only/);
    });
    const row = await asOwner((c) => c.query(`SELECT summary FROM "AuditEvent" WHERE id = $1`, [a.audit.id]));
    expect(row.rows).toEqual([{ summary: 'fixture' }]);
  });

  it('the app role, in its own tenant, cannot UPDATE or DELETE them either', async () => {
    await asApp({ orgId: a.org.id }, async (c) => {
      expect((await sqlError(c, `UPDATE "AuditEvent" SET summary = 'x' WHERE id = $1`, [a.audit.id])).message).toMatch(
        /append-only/,
      );
      expect((await sqlError(c, `DELETE FROM "AuditEvent" WHERE id = $1`, [a.audit.id])).message).toMatch(/append-only/);
    });
  });
});

describe('the schema and the tenant model lists agree', () => {
  async function tablesWith(column: string) {
    const r = await asOwner((c) =>
      c.query<{ table_name: string; is_nullable: string }>(
        `SELECT table_name, is_nullable FROM information_schema.columns WHERE table_schema = 'public' AND column_name = $1`,
        [column],
      ),
    );
    return r.rows;
  }

  it('every table with an "organizationId" column has row-level security on', async () => {
    const tables = (await tablesWith('organizationId')).map((r) => r.table_name);
    expect(tables.length).toBeGreaterThan(10);
    const r = await asOwner((c) =>
      c.query<{ relname: string; relrowsecurity: boolean }>(
        `SELECT c.relname, c.relrowsecurity FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname = ANY($1)`,
        [tables],
      ),
    );
    expect(r.rows.filter((row) => !row.relrowsecurity).map((row) => row.relname)).toEqual([]);
    expect(r.rows.length).toBe(tables.length);
  });

  it('tenantModels is exactly the set of tables with an "organizationId" column', async () => {
    const tables = (await tablesWith('organizationId')).map((r) => r.table_name).sort();
    expect([...tenantModels].sort()).toEqual(tables);
  });

  it('customerOwnedModels have a required customerId, customerOptionalModels an optional one, orgOnlyModels none', async () => {
    const withCustomer = new Map((await tablesWith('customerId')).map((r) => [r.table_name, r.is_nullable]));
    for (const m of customerOwnedModels) expect(withCustomer.get(m), m).toBe('NO');
    for (const m of customerOptionalModels) expect(withCustomer.get(m), m).toBe('YES');
    for (const m of orgOnlyModels) expect(withCustomer.has(m), m).toBe(false);
  });

  it('each tenant table has a tenant_isolation policy that matches its list', async () => {
    const r = await asOwner((c) =>
      c.query<{ tablename: string; qual: string; with_check: string }>(
        `SELECT tablename, qual, with_check FROM pg_policies WHERE schemaname = 'public' AND policyname = 'tenant_isolation'`,
      ),
    );
    const policies = new Map(r.rows.map((p) => [p.tablename, p]));
    for (const m of tenantModels) {
      const p = policies.get(m);
      expect(p, `${m} has no tenant_isolation policy`).toBeDefined();
      expect(p!.qual, m).toContain('app_org_id()');
      expect(p!.with_check, m).toContain('app_org_id()');
    }
    for (const m of [...customerOwnedModels, ...customerOptionalModels]) {
      expect(policies.get(m)!.qual, m).toMatch(/"customerId" = app_customer_id\(\)/);
      expect(policies.get(m)!.with_check, m).toMatch(/"customerId" = app_customer_id\(\)/);
    }
    for (const m of orgOnlyModels) {
      expect(policies.get(m)!.qual, m).toMatch(/app_customer_id\(\) IS NULL/);
      expect(policies.get(m)!.with_check, m).toMatch(/app_customer_id\(\) IS NULL/);
    }
  });
});
