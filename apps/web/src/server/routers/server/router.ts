import { createRouter } from '../../trpc';
import { listServers } from './list';

export const serverRouter = createRouter({ list: listServers });
