import { createRouter } from '../../trpc';
import { getPair } from './get';
import { pairHistory } from './history';
import { listPairs } from './list';
import { resendPair, verifyPair } from './verify';

export const pairRouter = createRouter({ list: listPairs, get: getPair, history: pairHistory, verify: verifyPair, resend: resendPair });
