import type { TenantTx } from '@tandem/db';
import { AppError, canGrantOrgRole, forbidden, type OrgRole } from '@tandem/engine';

/** An organization always keeps at least one owner. */
export async function assertNotLastOwner(db: TenantTx, membership: { id: string; role: OrgRole }) {
  if (membership.role !== 'owner') return;
  const owners = await db.orgMembership.count({ where: { role: 'owner' } });
  if (owners <= 1) throw new AppError('CONFLICT', 'An organization needs at least one owner: make someone else owner first');
}

/** Admins manage up to their own level; only owners touch owners. */
export function assertMayManage(actorRole: OrgRole, targetRole: OrgRole, newRole?: OrgRole) {
  if (!canGrantOrgRole(actorRole, targetRole)) throw forbidden(`Only an owner can change an ${targetRole}`);
  if (newRole && !canGrantOrgRole(actorRole, newRole)) throw forbidden(`You cannot grant the ${newRole} role`);
}
