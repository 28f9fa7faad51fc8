import { createRouter } from '../../trpc';
import { decideApproval } from './decide';
import { getApproval } from './get';
import { listApprovals } from './list';
import { openApprovalLink } from './open-link';
import { getCustomerPolicy, getPairPolicy, setCustomerPolicy, setPairPolicy } from './policy';

export const approvalRouter = createRouter({
  list: listApprovals,
  get: getApproval,
  decide: decideApproval,
  openLink: openApprovalLink,
  policy: getCustomerPolicy,
  setPolicy: setCustomerPolicy,
  pairPolicy: getPairPolicy,
  setPairPolicy: setPairPolicy,
});
