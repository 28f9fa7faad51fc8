import { createRouter } from '../../trpc';
import { accountMe, totpBegin, totpDisable, totpEnable } from './totp';

export const accountRouter = createRouter({ me: accountMe, totpBegin, totpEnable, totpDisable });
