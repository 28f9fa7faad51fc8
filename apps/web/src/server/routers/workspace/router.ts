import { createRouter } from '../../trpc';
import { listWorkspacesProcedure } from './list';

export const workspaceRouter = createRouter({ list: listWorkspacesProcedure });
