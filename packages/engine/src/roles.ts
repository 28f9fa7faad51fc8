import { z } from 'zod';

export const orgRoles = ['viewer', 'operator', 'admin', 'owner'] as const;
export const orgRoleSchema = z.enum(orgRoles);
export type OrgRole = z.infer<typeof orgRoleSchema>;

export const customerRoles = ['viewer', 'approver'] as const;
export const customerRoleSchema = z.enum(customerRoles);
export type CustomerRole = z.infer<typeof customerRoleSchema>;

/** Roles are ordered: each includes the rights of those before it. */
export function orgRoleAtLeast(role: OrgRole, minimum: OrgRole): boolean {
  return orgRoles.indexOf(role) >= orgRoles.indexOf(minimum);
}

/** Who may grant which organization role: nobody grants above their own role. */
export function canGrantOrgRole(granter: OrgRole, granted: OrgRole): boolean {
  return orgRoleAtLeast(granter, 'admin') && orgRoleAtLeast(granter, granted);
}

export const orgRoleDescriptions: Record<OrgRole, string> = {
  owner: 'Everything, including managing owners',
  admin: 'Manage customers, users and settings',
  operator: 'Run validation, fixes and failovers; edit customers',
  viewer: 'Read only',
};

export const customerRoleDescriptions: Record<CustomerRole, string> = {
  approver: 'Approve or reject failovers for their company; read reports and audit',
  viewer: 'Read their company’s status, reports and audit',
};
