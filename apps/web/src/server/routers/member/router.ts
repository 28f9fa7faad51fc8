import { createRouter } from '../../trpc';
import { listMembers } from './list';
import { removeCustomerMember } from './remove-customer-member';
import { removeOrgMember } from './remove-org-member';
import { updateCustomerRole } from './update-customer-role';
import { updateOrgRole } from './update-org-role';

export const memberRouter = createRouter({
  list: listMembers,
  updateOrgRole,
  removeOrgMember,
  updateCustomerRole,
  removeCustomerMember,
});
