import type { TenantTx } from '@tandem/db';
import { AppError, canGrantOrgRole, forbidden, type OrgRole } from '@tandem/engine';

/** An organization always keeps at least one owner. */
export async function assertNotLastOwner(db: TenantTx, membership: { id: string; role: OrgRole; organizationId: string }) {
  if (membership.role !== 'owner') return;
  // Lock the owners' rows: two owners demoting each other at once must not leave none.
  const owners = await db.$queryRaw<{ id: string }[]>`
    SELECT id FROM "OrgMembership"
    WHERE "organizationId" = ${membership.organizationId} AND role = 'owner'
    ORDER BY id FOR UPDATE`;
  if (owners.length <= 1) throw new AppError('CONFLICT', 'An organization needs at least one owner: make someone else owner first');
}

/** Admins manage up to their own level; only owners touch owners. */
export function assertMayManage(actorRole: OrgRole, targetRole: OrgRole, newRole?: OrgRole) {
  if (!canGrantOrgRole(actorRole, targetRole)) throw forbidden(`Only an owner can change an ${targetRole}`);
  if (newRole && !canGrantOrgRole(actorRole, newRole)) throw forbidden(`You cannot grant the ${newRole} role`);
}
