import { createRouter } from '../../trpc';
import { dashboardDrills } from './drills';
import { dashboardLive } from './live';
import { dashboardSummary } from './summary';

export const dashboardRouter = createRouter({ summary: dashboardSummary, live: dashboardLive, drills: dashboardDrills });
