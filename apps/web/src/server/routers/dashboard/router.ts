import { createRouter } from '../../trpc';
import { dashboardSummary } from './summary';

export const dashboardRouter = createRouter({ summary: dashboardSummary });
