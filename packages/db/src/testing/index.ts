// Test factories. They write through the owner connection (not subject to row-level security),
// the way an administrator would set up fixtures; the code under test uses the app role.
import { randomUUID } from 'node:crypto';
import { hashPassword, randomToken, sha256Hex } from '@tandem/security';
import { createPrismaClient, type Db } from '../client.ts';

let owner: Db | undefined;
export function ownerDb(): Db {
  if (!owner) {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error('DATABASE_URL (owner) is not set');
    owner = createPrismaClient(url, { max: 4 });
  }
  return owner;
}

const unique = () => randomUUID().slice(0, 8);
export const testPassword = 'correct horse battery staple';

export async function createUser(opts: { name?: string; email?: string; password?: string } = {}) {
  const id = unique();
  return ownerDb().user.create({
    data: {
      email: (opts.email ?? `user-${id}@example.test`).toLowerCase(),
      name: opts.name ?? `User ${id}`,
      passwordHash: await hashPassword(opts.password ?? testPassword),
    },
  });
}

export async function createOrganization(name = `Org ${unique()}`) {
  return ownerDb().organization.create({ data: { name, slug: `org-${unique()}` } });
}

export async function addOrgMember(organizationId: string, userId: string, role: 'owner' | 'admin' | 'operator' | 'viewer') {
  return ownerDb().orgMembership.create({ data: { organizationId, userId, role } });
}

export async function createCustomer(organizationId: string, name = `Customer ${unique()}`) {
  return ownerDb().customer.create({ data: { organizationId, name } });
}

export async function addCustomerMember(customer: { id: string; organizationId: string }, userId: string, role: 'approver' | 'viewer') {
  return ownerDb().customerMembership.create({
    data: { organizationId: customer.organizationId, customerId: customer.id, userId, role },
  });
}

export async function createServer(customer: { id: string; organizationId: string }, hostname = `srv-${unique()}`) {
  return ownerDb().server.create({
    data: { organizationId: customer.organizationId, customerId: customer.id, hostname, osFamily: 'linux', addresses: ['192.0.2.10'] },
  });
}

export async function createInvitation(opts: {
  organizationId: string;
  email?: string;
  orgRole?: 'owner' | 'admin' | 'operator' | 'viewer';
  customerId?: string;
  customerRole?: 'approver' | 'viewer';
  expiresAt?: Date;
}) {
  const token = randomToken();
  const invitation = await ownerDb().invitation.create({
    data: {
      organizationId: opts.organizationId,
      customerId: opts.customerId ?? null,
      email: (opts.email ?? `invitee-${unique()}@example.test`).toLowerCase(),
      orgRole: opts.customerId ? null : (opts.orgRole ?? 'operator'),
      customerRole: opts.customerId ? (opts.customerRole ?? 'viewer') : null,
      tokenHash: sha256Hex(token),
      expiresAt: opts.expiresAt ?? new Date(Date.now() + 86_400_000),
    },
  });
  return { invitation, token };
}

/**
 * A complete tenant: an organization with an owner, an operator, a viewer, two customers with a
 * server each, and a customer user (approver) of the first customer.
 */
export async function createTenant(label = unique()) {
  const org = await createOrganization(`Org ${label}`);
  const ownerUser = await createUser({ name: `Owner ${label}` });
  const operatorUser = await createUser({ name: `Operator ${label}` });
  const viewerUser = await createUser({ name: `Viewer ${label}` });
  const ownerMembership = await addOrgMember(org.id, ownerUser.id, 'owner');
  const operatorMembership = await addOrgMember(org.id, operatorUser.id, 'operator');
  const viewerMembership = await addOrgMember(org.id, viewerUser.id, 'viewer');
  const customerX = await createCustomer(org.id, `X ${label}`);
  const customerY = await createCustomer(org.id, `Y ${label}`);
  const serverX = await createServer(customerX);
  const serverY = await createServer(customerY);
  const customerUser = await createUser({ name: `Customer user ${label}` });
  const customerMembership = await addCustomerMember(customerX, customerUser.id, 'approver');
  const customerYUser = await createUser({ name: `Customer Y user ${label}` });
  const customerYMembership = await addCustomerMember(customerY, customerYUser.id, 'viewer');
  const { invitation, token: invitationToken } = await createInvitation({ organizationId: org.id, customerId: customerX.id });
  const audit = await ownerDb().auditEvent.create({
    data: {
      organizationId: org.id,
      customerId: customerX.id,
      actorId: ownerUser.id,
      actorLabel: ownerUser.name,
      action: 'test.fixture',
      targetType: 'Customer',
      targetId: customerX.id,
      summary: 'fixture',
    },
  });
  return {
    org,
    owner: ownerUser,
    operator: operatorUser,
    viewer: viewerUser,
    ownerMembership,
    operatorMembership,
    viewerMembership,
    customerX,
    customerY,
    serverX,
    serverY,
    customerUser,
    customerMembership,
    customerYUser,
    customerYMembership,
    invitation,
    invitationToken,
    audit,
  };
}
export type Tenant = Awaited<ReturnType<typeof createTenant>>;
