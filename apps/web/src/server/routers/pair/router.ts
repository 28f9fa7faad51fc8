import { createRouter } from '../../trpc';
import { getPair } from './get';
import { pairHistory } from './history';
import { listPairs } from './list';

export const pairRouter = createRouter({ list: listPairs, get: getPair, history: pairHistory });
