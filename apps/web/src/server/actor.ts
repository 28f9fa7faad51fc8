// Who is acting, and in which tenant. Resolved from the database on every request, so a removed
// membership takes effect at once.
import { withUser } from '@tandem/db';
import type { CustomerRole, OrgRole } from '@tandem/engine';

export type Actor =
  | { kind: 'staff'; userId: string; label: string; organizationId: string; role: OrgRole }
  | { kind: 'customer'; userId: string; label: string; organizationId: string; customerId: string; role: CustomerRole };

export interface Workspace {
  /** Cookie value: "org:<orgId>" for staff, "customer:<customerId>" for customer users. */
  key: string;
  organizationId: string;
  organizationName: string;
  customerId: string | null;
  customerName: string | null;
  role: string;
}

export async function listWorkspaces(userId: string) {
  return withUser(userId, async (tx) => {
    const user = await tx.user.findUnique({ where: { id: userId }, select: { id: true, name: true, email: true } });
    if (!user) return null;
    const orgs = await tx.orgMembership.findMany({
      where: { userId },
      include: { organization: { select: { name: true } } },
      orderBy: { createdAt: 'asc' },
    });
    const customers = await tx.customerMembership.findMany({
      where: { userId },
      include: { organization: { select: { name: true } }, customer: { select: { name: true } } },
      orderBy: { createdAt: 'asc' },
    });
    const workspaces: Workspace[] = [
      ...orgs.map((m) => ({
        key: `org:${m.organizationId}`,
        organizationId: m.organizationId,
        organizationName: m.organization.name,
        customerId: null,
        customerName: null,
        role: m.role,
      })),
      ...customers.map((m) => ({
        key: `customer:${m.customerId}`,
        organizationId: m.organizationId,
        organizationName: m.organization.name,
        customerId: m.customerId,
        customerName: m.customer.name,
        role: m.role,
      })),
    ];
    return { user, workspaces };
  });
}

/** Picks the workspace named by the cookie, or the user's first one. Null: no access anywhere. */
export async function resolveActor(userId: string, workspaceKey: string | null): Promise<Actor | null> {
  const found = await listWorkspaces(userId);
  if (!found || found.workspaces.length === 0) return null;
  const ws = found.workspaces.find((w) => w.key === workspaceKey) ?? found.workspaces[0]!;
  const label = `${found.user.name} <${found.user.email}>`;
  if (ws.customerId) {
    return {
      kind: 'customer',
      userId,
      label,
      organizationId: ws.organizationId,
      customerId: ws.customerId,
      role: ws.role as CustomerRole,
    };
  }
  return { kind: 'staff', userId, label, organizationId: ws.organizationId, role: ws.role as OrgRole };
}
