import { createRouter } from '../../trpc';
import { getServer } from './get';
import { listServers } from './list';
import { serverLive } from './live';
import { refreshFacts } from './refresh-facts';

export const serverRouter = createRouter({ list: listServers, get: getServer, refreshFacts, live: serverLive });
