// Malformed input is refused before anything is written, with an error a form can show: a
// readable message and per-field messages (`data.fields`), over the real HTTP handler.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { beforeAll, describe, expect, it } from 'vitest';
import { addOrgMember, createOrganization, createTenant, createUser, ownerDb, type Tenant } from '@tandem/db/testing';
import type { PairSettings } from '@tandem/engine';
import { totpCode } from '@tandem/security';
import {
  allProcedurePaths,
  callerFor,
  expectCode,
  httpCall,
  procedureAt,
  tenantSnapshot,
  uniqueEmail,
  type HttpErrorBody,
} from './helpers';
import { validPairSettings } from './support/pair-settings';

let t: Tenant;
let other: Tenant;

beforeAll(async () => {
  [t, other] = await Promise.all([createTenant(), createTenant()]);
});

interface BadCase {
  name: string;
  path: string;
  input: () => unknown;
  /** The field the error must name, and (part of) its message. */
  field: string;
  message: RegExp;
}

const email = () => uniqueEmail('bad-input');

/** Valid settings with one part replaced (the pair procedures check the whole object). */
const settingsWith = (patch: (s: PairSettings) => PairSettings) => patch(validPairSettings());

const badCases: BadCase[] = [
  // pair.create: the wizard's settings, field by field
  {
    name: 'monitor interval of 0',
    path: 'pair.create',
    input: () => ({ customerId: t.customerX.id, sourceServerId: t.serverX.id, targetServerId: t.serverX.id, settings: settingsWith((s) => ({ ...s, failover: { ...s.failover, monitor: { ...s.failover.monitor, intervalSeconds: 0 } } })) }),
    field: 'settings.failover.monitor.intervalSeconds',
    message: /at least 1 second/,
  },
  {
    name: 'DNS failover without a zone',
    path: 'pair.create',
    input: () => ({ customerId: t.customerX.id, sourceServerId: t.serverX.id, targetServerId: t.serverX.id, settings: settingsWith((s) => ({ ...s, failover: { ...s.failover, enabled: true }, dns: { ...s.dns, servers: ['10.0.0.2'], addressMap: [{ source: '10.0.0.5', target: '10.0.0.6' }] } })) }),
    field: 'settings.dns.zone',
    message: /needs the zone/,
  },
  {
    name: 'a relative directory to protect',
    path: 'pair.create',
    input: () => ({ customerId: t.customerX.id, sourceServerId: t.serverX.id, targetServerId: t.serverX.id, settings: settingsWith((s) => ({ ...s, replicationSet: { roots: ['srv/data'], rules: [] } })) }),
    field: 'settings.replicationSet.roots.0',
    message: /absolute path/,
  },
  {
    name: 'a route with spaces',
    path: 'pair.create',
    input: () => ({ customerId: t.customerX.id, sourceServerId: t.serverX.id, targetServerId: t.serverX.id, settings: settingsWith((s) => ({ ...s, connection: { ...s.connection, route: 'my server' } })) }),
    field: 'settings.connection.route',
    message: /IP address or a host name/,
  },
  {
    name: 'the same port for data and monitor',
    path: 'pair.create',
    input: () => ({ customerId: t.customerX.id, sourceServerId: t.serverX.id, targetServerId: t.serverX.id, settings: settingsWith((s) => ({ ...s, connection: { ...s.connection, port: 6321 } })) }),
    field: 'settings.failover.monitor.port',
    message: /must differ from the data port/,
  },
  {
    name: 'a data route that does not exist',
    path: 'pair.create',
    input: () => ({ customerId: t.customerX.id, sourceServerId: t.serverX.id, targetServerId: t.serverX.id, settings: settingsWith((s) => ({ ...s, connection: { ...s.connection, routeMode: 'tunnel' as never } })) }),
    field: 'settings.connection.routeMode',
    message: /Choose direct or relay/,
  },
  {
    name: 'the relay for a database pair',
    path: 'pair.create',
    input: () => ({ customerId: t.customerX.id, sourceServerId: t.serverX.id, targetServerId: t.serverX.id, settings: settingsWith((s) => ({
        ...s,
        application: 'postgresql',
        replicationSet: null,
        connection: { ...s.connection, routeMode: 'relay', database: { sourceDataDir: '/var/lib/postgresql/16/main', sourcePort: 5432, targetDataDir: '/srv/pg', targetPort: 5433, sourceAddress: '10.0.0.5', allowSourceRestart: false } },
      })),
    }),
    field: 'settings.connection.routeMode',
    message: /relay carries file replication only/,
  },
  { name: 'a pair id that is not an id', path: 'pair.enable', input: () => ({ pairId: 'nope' }), field: 'pairId', message: /Not a valid id/ },
  { name: 'monitoring switched with a string', path: 'pair.setMonitoring', input: () => ({ pairId: randomUUID(), enabled: 'yes' }), field: 'enabled', message: /expected boolean/ },

  // customer.create
  {
    name: 'name of the wrong type',
    path: 'customer.create',
    input: () => ({ name: 42 }),
    field: 'name',
    message: /expected string/,
  },
  {
    name: 'missing name',
    path: 'customer.create',
    input: () => ({ contactEmail: email() }),
    field: 'name',
    message: /expected string/,
  },
  { name: 'empty name', path: 'customer.create', input: () => ({ name: '' }), field: 'name', message: /at least 2 characters/ },
  {
    name: 'blank name',
    path: 'customer.create',
    input: () => ({ name: '    ' }),
    field: 'name',
    message: /at least 2 characters/,
  },
  {
    name: 'too-long name',
    path: 'customer.create',
    input: () => ({ name: 'x'.repeat(121) }),
    field: 'name',
    message: /too long/,
  },
  {
    name: 'markup in name',
    path: 'customer.create',
    input: () => ({ name: '<script>alert(1)</script>' }),
    field: 'name',
    message: /< or >/,
  },
  {
    name: 'invalid e-mail',
    path: 'customer.create',
    input: () => ({ name: 'Valid name', contactEmail: 'not-an-email' }),
    field: 'contactEmail',
    message: /valid e-mail/,
  },
  {
    name: 'e-mail with junk appended',
    path: 'customer.create',
    input: () => ({ name: 'Valid name', contactEmail: 'someone@example.test; DROP TABLE "Customer"' }),
    field: 'contactEmail',
    message: /valid e-mail/,
  },
  {
    name: 'too-long notes',
    path: 'customer.create',
    input: () => ({ name: 'Valid name', notes: 'n'.repeat(2001) }),
    field: 'notes',
    message: /too long/,
  },
  {
    name: 'an array instead of an object',
    path: 'customer.create',
    input: () => ['Valid name'],
    field: '_',
    message: /expected object/,
  },
  // customer.update
  {
    name: 'non-uuid customerId',
    path: 'customer.update',
    input: () => ({ customerId: 'not-a-uuid', name: 'Valid name' }),
    field: 'customerId',
    message: /Not a valid id/,
  },
  {
    name: 'uuid with junk appended',
    path: 'customer.update',
    input: () => ({ customerId: `${t.customerX.id}' OR '1'='1`, name: 'Valid name' }),
    field: 'customerId',
    message: /Not a valid id/,
  },
  {
    name: 'empty name',
    path: 'customer.update',
    input: () => ({ customerId: t.customerX.id, name: '' }),
    field: 'name',
    message: /at least 2/,
  },
  {
    name: 'name of the wrong type',
    path: 'customer.update',
    input: () => ({ customerId: t.customerX.id, name: { first: 'A' } }),
    field: 'name',
    message: /expected string/,
  },
  {
    name: 'too-long name',
    path: 'customer.update',
    input: () => ({ customerId: t.customerX.id, name: 'y'.repeat(500) }),
    field: 'name',
    message: /too long/,
  },
  {
    name: 'invalid e-mail',
    path: 'customer.update',
    input: () => ({ customerId: t.customerX.id, contactEmail: 'a@' }),
    field: 'contactEmail',
    message: /valid e-mail/,
  },
  // invitation.create
  {
    name: 'invalid e-mail',
    path: 'invitation.create',
    input: () => ({ kind: 'customer', customerId: t.customerX.id, email: 'nobody', role: 'viewer' }),
    field: 'email',
    message: /valid e-mail/,
  },
  {
    name: 'non-uuid customerId',
    path: 'invitation.create',
    input: () => ({ kind: 'customer', customerId: '12345', email: email(), role: 'viewer' }),
    field: 'customerId',
    message: /Not a valid id/,
  },
  {
    name: 'unknown organization role',
    path: 'invitation.create',
    input: () => ({ kind: 'org', email: email(), role: 'superuser' }),
    field: 'role',
    message: /expected one of/,
  },
  {
    name: 'organization role for a customer invitation',
    path: 'invitation.create',
    input: () => ({ kind: 'customer', customerId: t.customerX.id, email: email(), role: 'owner' }),
    field: 'role',
    message: /expected one of/,
  },
  {
    name: 'unknown kind',
    path: 'invitation.create',
    input: () => ({ kind: 'martian', email: email(), role: 'viewer' }),
    field: 'kind',
    message: /Expected 'org' \| 'customer'/,
  },
  { name: 'null input', path: 'invitation.create', input: () => null, field: '_', message: /expected object/ },
  // member.updateOrgRole
  {
    name: 'non-uuid membershipId',
    path: 'member.updateOrgRole',
    input: () => ({ membershipId: '1 OR 1=1', role: 'viewer' }),
    field: 'membershipId',
    message: /Not a valid id/,
  },
  {
    name: 'unknown role',
    path: 'member.updateOrgRole',
    input: () => ({ membershipId: t.viewerMembership.id, role: 'god' }),
    field: 'role',
    message: /expected one of/,
  },
  {
    name: 'missing role',
    path: 'member.updateOrgRole',
    input: () => ({ membershipId: t.viewerMembership.id }),
    field: 'role',
    message: /expected one of/,
  },
  {
    name: 'role of the wrong type',
    path: 'member.updateOrgRole',
    input: () => ({ membershipId: t.viewerMembership.id, role: ['admin'] }),
    field: 'role',
    message: /expected one of/,
  },
  {
    name: 'a drill every 0 days',
    path: 'drill.create',
    input: () => ({ customerId: t.customerX.id, pairId: null, everyDays: 0 }),
    field: 'everyDays',
    message: /At least every day/,
  },
  {
    name: 'a first drill that is not a date',
    path: 'drill.create',
    input: () => ({ customerId: t.customerX.id, pairId: null, everyDays: 7, firstDueAt: 'soon' }),
    field: 'firstDueAt',
    message: /Enter a date and time/,
  },
  {
    name: 'a cluster without a name',
    path: 'cluster.get',
    input: () => ({ customerId: t.customerX.id, stack: 'pacemaker', name: '  ' }),
    field: 'name',
    message: /Name the cluster/,
  },
];

/** A message a person can read: not a JSON dump of zod issues. */
function expectReadable(message: string) {
  expect(message).toMatch(/^Invalid input: /);
  expect(message).not.toMatch(/[[{]\s*"/);
  expect(message.length).toBeLessThan(200);
}

// Control and text-direction characters are refused by the shared text schemas.
badCases.push(
  {
    name: 'a customer name with an escape sequence',
    path: 'customer.create',
    input: () => ({ name: 'Acme \u001b[31mred' }),
    field: 'name',
    message: /cannot contain control characters/,
  },
  {
    name: 'a customer name with a right-to-left override',
    path: 'customer.create',
    input: () => ({ name: 'Acme \u202Egpj.exe' }),
    field: 'name',
    message: /text-direction/,
  },
  {
    name: 'customer notes with a bell character',
    path: 'customer.create',
    input: () => ({ name: `Bell ${randomUUID().slice(0, 6)}`, notes: 'line one\nline two \u0007' }),
    field: 'notes',
    message: /cannot contain control characters/,
  },
  {
    name: 'a pair name with a directional isolate',
    path: 'pair.create',
    input: () => ({ customerId: t.customerX.id, sourceServerId: t.serverX.id, targetServerId: t.serverX.id, settings: settingsWith((s) => ({ ...s, name: 'files \u2066x\u2069' })) }),
    field: 'settings.name',
    message: /text-direction/,
  },
);

describe('NUL and lone surrogates anywhere in the input → 400, never a database failure', () => {
  const cases: { name: string; path: string; input: () => unknown; field: string }[] = [
    { name: 'a customer name with NUL', path: 'customer.create', input: () => ({ name: 'Acme\u0000 Corp' }), field: 'name' },
    { name: 'a customer name with a lone high surrogate', path: 'customer.create', input: () => ({ name: 'Acme \ud800 Corp' }), field: 'name' },
    { name: 'notes with a lone low surrogate', path: 'customer.update', input: () => ({ customerId: t.customerX.id, notes: 'x \udc00 y' }), field: 'notes' },
    { name: 'a search with NUL (a query)', path: 'customer.list', input: () => ({ search: 'a\u0000' }), field: 'search' },
    { name: 'a delete confirmation with NUL', path: 'customer.delete', input: () => ({ customerId: t.customerX.id, confirmName: `${t.customerX.name}\u0000` }), field: 'confirmName' },
    { name: 'an audit filter with a lone surrogate', path: 'audit.list', input: () => ({ action: 'customer.\ud83d' }), field: 'action' },
    {
      name: 'a hook script with NUL',
      path: 'pair.create',
      input: () => ({ customerId: t.customerX.id, sourceServerId: t.serverX.id, targetServerId: t.serverX.id, settings: settingsWith((s) => ({ ...s, hooks: { ...s.hooks, beforeFailover: '#!/bin/sh\n\u0000' } })) }),
      field: 'settings.hooks.beforeFailover',
    },
  ];

  it.each(cases)('$path: $name', async ({ path, input, field }) => {
    const before = await tenantSnapshot(t.org.id);
    const res = await httpCall(t.owner.id, path, input());
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    const { error } = res.body as HttpErrorBody;
    expect(error.data.code).toBe('BAD_REQUEST');
    expect(error.message).toMatch(/NUL or invalid/);
    expect(Object.keys(error.data.fields ?? {})).toEqual([field]);
    expect(JSON.stringify(res.body)).not.toMatch(/prisma|invalid byte sequence|"stack"/i);
    expect(await tenantSnapshot(t.org.id)).toEqual(before);
  });

  it('well-formed text with emoji, accents, tabs and newlines in notes is accepted', async () => {
    const name = `Café 🚀 ${randomUUID().slice(0, 6)}`;
    const created = await callerFor(t.owner.id).customer.create({ name, notes: 'first\tline\r\nsecond line' });
    expect(created.name).toBe(name);
    expect(created.notes).toBe('first\tline\r\nsecond line');
    await ownerDb().customer.delete({ where: { id: created.id } });
  });
});

describe('malformed input → BAD_REQUEST, nothing written', () => {
  it.each(badCases)('$path: $name', async ({ path, input, field, message }) => {
    const before = await tenantSnapshot(t.org.id);

    const err = await expectCode(procedureAt(callerFor(t.owner.id), path)(input()), 'BAD_REQUEST');
    expect(err.cause).toBeInstanceOf(z.ZodError);

    const res = await httpCall(t.owner.id, path, input());
    expect(res.status).toBe(400);
    const { error } = res.body as HttpErrorBody;
    expect(error.data.code).toBe('BAD_REQUEST');
    expectReadable(error.message);
    const fieldMessage = error.data.fields?.[field];
    expect(fieldMessage, JSON.stringify(error.data.fields)).toMatch(message);
    expect(error.message).toContain(fieldMessage);
    expect(JSON.stringify(res.body)).not.toMatch(/"stack"/);

    expect(await tenantSnapshot(t.org.id)).toEqual(before);
  });

  it('a too-long name says the limit', async () => {
    const res = await httpCall(t.owner.id, 'customer.create', { name: 'x'.repeat(121) });
    expect((res.body as HttpErrorBody).error.message).toBe(
      'Invalid input: name: Customer name is too long (120 characters at most)',
    );
  });

  it('unknown extra keys are dropped: they cannot choose the organization or the id', async () => {
    const forcedId = randomUUID();
    const before = await tenantSnapshot(other.org.id);
    const name = `Extra keys ${randomUUID().slice(0, 6)}`;
    const created = await callerFor(t.owner.id).customer.create({
      name,
      organizationId: other.org.id,
      id: forcedId,
      createdAt: '2000-01-01T00:00:00Z',
      junk: { $ne: null },
    } as never);
    expect(created.id).not.toBe(forcedId);
    const row = await ownerDb().customer.findUniqueOrThrow({ where: { id: created.id } });
    expect(row.organizationId).toBe(t.org.id);
    expect(row.createdAt.getFullYear()).toBeGreaterThan(2000);
    expect(await ownerDb().customer.findUnique({ where: { id: forcedId } })).toBeNull();
    expect(await tenantSnapshot(other.org.id)).toEqual(before);
  });

  it('update with a customer id in the body cannot retarget another customer', async () => {
    const updated = await callerFor(t.owner.id).customer.update({
      customerId: t.customerX.id,
      id: t.customerY.id,
      notes: 'retarget?',
    } as never);
    expect(updated.id).toBe(t.customerX.id);
    const y = await ownerDb().customer.findUniqueOrThrow({ where: { id: t.customerY.id } });
    expect(y.notes).toBeNull();
  });
});

describe('duplicate names → CONFLICT, nothing written', () => {
  it('creating a customer with an existing name', async () => {
    const before = await tenantSnapshot(t.org.id);
    const err = await expectCode(callerFor(t.owner.id).customer.create({ name: t.customerX.name }), 'CONFLICT');
    expect(err.message).toMatch(/already exists/);
    const res = await httpCall(t.owner.id, 'customer.create', { name: t.customerX.name });
    expect(res.status).toBe(409);
    expect((res.body as HttpErrorBody).error.message).toMatch(/already exists/);
    expect(await tenantSnapshot(t.org.id)).toEqual(before);
  });

  it('creating one whose name only differs by surrounding spaces', async () => {
    const before = await tenantSnapshot(t.org.id);
    await expectCode(callerFor(t.owner.id).customer.create({ name: `  ${t.customerX.name}  ` }), 'CONFLICT');
    expect(await tenantSnapshot(t.org.id)).toEqual(before);
  });

  it('renaming a customer to another customer’s name', async () => {
    const before = await tenantSnapshot(t.org.id);
    await expectCode(
      callerFor(t.operator.id).customer.update({ customerId: t.customerY.id, name: t.customerX.name }),
      'CONFLICT',
    );
    expect(await tenantSnapshot(t.org.id)).toEqual(before);
  });

  it('the same name in another organization is fine', async () => {
    const created = await callerFor(other.owner.id).customer.create({ name: t.customerX.name });
    expect(created.name).toBe(t.customerX.name);
  });
});

describe('rule violations found by the procedure (not by the schema) carry fields too', () => {
  it('customer.delete with a confirmation that does not match → BAD_REQUEST naming confirmName; nothing deleted', async () => {
    const before = await tenantSnapshot(t.org.id);
    const res = await httpCall(t.owner.id, 'customer.delete', {
      customerId: t.customerX.id,
      confirmName: `${t.customerX.name}!`,
    });
    expect(res.status).toBe(400);
    const { error } = res.body as HttpErrorBody;
    expect(error.message).toBe('The name you typed does not match the customer name');
    expect(error.data.fields).toEqual({ confirmName: 'Does not match the customer name' });
    expect(await tenantSnapshot(t.org.id)).toEqual(before);
  });

  it('customer.delete while a pair is active → CONFLICT; nothing deleted', async () => {
    const target = await ownerDb().server.create({
      data: {
        organizationId: t.org.id,
        customerId: t.customerX.id,
        hostname: `dr-${randomUUID().slice(0, 6)}`,
        osFamily: 'linux',
      },
    });
    const pair = await ownerDb().protectionPair.create({
      data: {
        organizationId: t.org.id,
        customerId: t.customerX.id,
        name: 'files',
        sourceServerId: t.serverX.id,
        targetServerId: target.id,
        application: 'file_server',
        status: 'protected',
      },
    });
    const before = await tenantSnapshot(t.org.id);
    const err = await expectCode(
      callerFor(t.owner.id).customer.delete({ customerId: t.customerX.id, confirmName: t.customerX.name }),
      'CONFLICT',
    );
    expect(err.message).toMatch(/1 active pair/);
    expect(await tenantSnapshot(t.org.id)).toEqual(before);
    expect(await ownerDb().protectionPair.findUnique({ where: { id: pair.id } })).not.toBeNull();
    await ownerDb().protectionPair.delete({ where: { id: pair.id } });
    await ownerDb().server.delete({ where: { id: target.id } });
  });

  it('account.totpEnable with a wrong code → BAD_REQUEST naming the code', async () => {
    const user = await createUser({ email: uniqueEmail('totp-fields') });
    await addOrgMember((await createOrganization()).id, user.id, 'viewer');
    const { secret } = await callerFor(user.id).account.totpBegin();
    const now = Date.now();
    const valid = new Set([-1, 0, 1, 2].map((d) => totpCode(secret, now + d * 30_000)));
    const wrong = ['123456', '654321', '111111'].find((c) => !valid.has(c))!;
    const res = await httpCall(user.id, 'account.totpEnable', { code: wrong });
    const { error } = res.body as HttpErrorBody;
    expect(error.data.code).toBe('BAD_REQUEST');
    expect(error.message).toMatch(/does not match/);
    expect(error.data.fields).toEqual({ code: 'Code does not match' });
    const malformed = await httpCall(user.id, 'account.totpEnable', { code: '12ab56' });
    expect((malformed.body as HttpErrorBody).error.data.fields).toEqual({
      code: 'Enter the 6-digit code from your authenticator app',
    });
    expect((await ownerDb().user.findUniqueOrThrow({ where: { id: user.id } })).totpEnabledAt).toBeNull();
  });
});

describe('who may call', () => {
  const publicProcedures = new Set(['invitation.preview', 'invitation.accept']);

  it.each(allProcedurePaths().filter((p) => !publicProcedures.has(p)))('signed out: %s → UNAUTHORIZED', async (path) => {
    const err = await expectCode(
      procedureAt(callerFor(null), path)({ customerId: t.customerX.id, name: 'Signed out' }),
      'UNAUTHORIZED',
    );
    expect(err.message).toBe('Sign in first');
  });

  it('signed out over HTTP: 401 and nothing written', async () => {
    const before = await tenantSnapshot(t.org.id);
    const res = await httpCall(null, 'customer.update', { customerId: t.customerX.id, name: 'Signed out' });
    expect(res.status).toBe(401);
    expect((res.body as HttpErrorBody).error.data.code).toBe('UNAUTHORIZED');
    expect(await tenantSnapshot(t.org.id)).toEqual(before);
  });

  it('a user with no membership anywhere → FORBIDDEN for tenant procedures', async () => {
    const loner = await createUser({ email: uniqueEmail('loner') });
    await expectCode(callerFor(loner.id).customer.list(), 'FORBIDDEN');
    await expectCode(callerFor(loner.id).customer.create({ name: 'Loner Inc' }), 'FORBIDDEN');
    const ws = await callerFor(loner.id).workspace.list();
    expect(ws.workspaces).toEqual([]);
    expect(ws.active).toBeNull();
  });

  it('a viewer creating a customer → FORBIDDEN, nothing written', async () => {
    const before = await tenantSnapshot(t.org.id);
    const err = await expectCode(callerFor(t.viewer.id).customer.create({ name: 'Viewer made this' }), 'FORBIDDEN');
    expect(err.message).toMatch(/operator/);
    expect(await tenantSnapshot(t.org.id)).toEqual(before);
  });

  it('a customer user creating a customer → FORBIDDEN, nothing written', async () => {
    const before = await tenantSnapshot(t.org.id);
    await expectCode(callerFor(t.customerUser.id).customer.create({ name: 'Customer made this' }), 'FORBIDDEN');
    expect(await tenantSnapshot(t.org.id)).toEqual(before);
  });

  it('a customer user changing or deleting their own customer → FORBIDDEN, nothing written', async () => {
    const before = await tenantSnapshot(t.org.id);
    const caller = callerFor(t.customerUser.id);
    const upd = await expectCode(
      caller.customer.update({ customerId: t.customerX.id, name: 'Renamed by customer' }),
      'FORBIDDEN',
    );
    expect(upd.message).toBe('Your role cannot do this');
    await expectCode(caller.customer.delete({ customerId: t.customerX.id, confirmName: t.customerX.name }), 'FORBIDDEN');
    expect(await tenantSnapshot(t.org.id)).toEqual(before);
  });

  it('an operator deleting a customer → FORBIDDEN (needs admin), nothing written', async () => {
    const before = await tenantSnapshot(t.org.id);
    const err = await expectCode(
      callerFor(t.operator.id).customer.delete({ customerId: t.customerY.id, confirmName: t.customerY.name }),
      'FORBIDDEN',
    );
    expect(err.message).toBe('This needs the admin role or higher');
    expect(await tenantSnapshot(t.org.id)).toEqual(before);
  });

  it('role checks come before input checks: a viewer with bad input is FORBIDDEN, not told about fields', async () => {
    await expectCode(callerFor(t.viewer.id).customer.create({ name: '' }), 'FORBIDDEN');
  });

  it('an operator may create a customer (the forbidden cases above are about role)', async () => {
    const name = `Operator made ${randomUUID().slice(0, 6)}`;
    const created = await callerFor(t.operator.id).customer.create({ name, contactEmail: '  Ops@Example.TEST ' });
    expect(created).toMatchObject({ name, contactEmail: 'ops@example.test', serverCount: 0 });
  });
});

describe('search text is literal: % and _ are not wildcards', () => {
  it('customer.list search', async () => {
    const fresh = await createTenant();
    const caller = callerFor(fresh.owner.id);
    const tag = randomUUID().slice(0, 6);
    const pct = await caller.customer.create({ name: `Pct 100% ${tag}` });
    const other = await caller.customer.create({ name: `Pct 1000 ${tag}` });
    const under = await caller.customer.create({ name: `Low_line ${tag}` });
    expect((await caller.customer.list({ search: '100%' })).map((c) => c.id)).toEqual([pct.id]);
    expect((await caller.customer.list({ search: '%' })).map((c) => c.id)).toEqual([pct.id]);
    expect((await caller.customer.list({ search: 'Low_' })).map((c) => c.id)).toEqual([under.id]);
    expect((await caller.customer.list({ search: 'Pct_' })).map((c) => c.id)).toEqual([]);
    expect((await caller.customer.list({ search: '\\' })).map((c) => c.id)).toEqual([]);
    expect((await caller.customer.list({ search: `pct 1000 ${tag}` })).map((c) => c.id)).toEqual([other.id]);
  });

  it('audit.list action filter', async () => {
    const fresh = await createTenant();
    const caller = callerFor(fresh.owner.id);
    await caller.customer.create({ name: `Audited ${randomUUID().slice(0, 6)}` });
    expect((await caller.audit.list({ action: 'customer.' })).events.length).toBeGreaterThan(0);
    expect((await caller.audit.list({ action: 'customer_' })).events).toEqual([]);
    expect((await caller.audit.list({ action: '%' })).events).toEqual([]);
  });
});
