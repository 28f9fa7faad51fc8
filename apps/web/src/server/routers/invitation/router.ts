import { createRouter } from '../../trpc';
import { acceptInvitation } from './accept';
import { createInvitation } from './create';
import { listInvitations } from './list';
import { previewInvitation } from './preview';
import { revokeInvitation } from './revoke';

export const invitationRouter = createRouter({
  create: createInvitation,
  list: listInvitations,
  revoke: revokeInvitation,
  preview: previewInvitation,
  accept: acceptInvitation,
});
