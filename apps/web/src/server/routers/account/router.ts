import { createRouter } from '../../trpc';
import { changePassword } from './change-password';
import { accountMe, totpBegin, totpDisable, totpEnable } from './totp';

export const accountRouter = createRouter({ me: accountMe, totpBegin, totpEnable, totpDisable, changePassword });
