import { liveChannels } from '@tandem/agent-bus/live';
import { liveStream } from '../../services/live';
import { liveOrgProcedure } from '../../trpc';

/**
 * Live notices for the dashboard: any change of any pair or server of the organization (the
 * same staff who may read dashboard.summary). Ids and kinds of change only.
 */
export const dashboardLive = liveOrgProcedure('viewer').subscription(({ ctx, signal }) =>
  liveStream({ pattern: liveChannels.organization(ctx.actor.organizationId) }, () => true, signal),
);
