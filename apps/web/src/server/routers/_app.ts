import { createRouter } from '../trpc';
import { accountRouter } from './account/router';
import { agentRouter } from './agent/router';
import { approvalRouter } from './approval/router';
import { alertRouter } from './alert/router';
import { credentialRouter } from './credential/router';
import { auditRouter } from './audit/router';
import { clusterRouter } from './cluster/router';
import { customerRouter } from './customer/router';
import { dashboardRouter } from './dashboard/router';
import { drillRouter } from './drill/router';
import { invitationRouter } from './invitation/router';
import { memberRouter } from './member/router';
import { pairRouter } from './pair/router';
import { reportRouter } from './report/router';
import { serverRouter } from './server/router';
import { validationRouter } from './validation/router';
import { workspaceRouter } from './workspace/router';

export const appRouter = createRouter({
  account: accountRouter,
  agent: agentRouter,
  approval: approvalRouter,
  alert: alertRouter,
  audit: auditRouter,
  cluster: clusterRouter,
  credential: credentialRouter,
  customer: customerRouter,
  dashboard: dashboardRouter,
  drill: drillRouter,
  invitation: invitationRouter,
  member: memberRouter,
  pair: pairRouter,
  report: reportRouter,
  server: serverRouter,
  validation: validationRouter,
  workspace: workspaceRouter,
});

export type AppRouter = typeof appRouter;
