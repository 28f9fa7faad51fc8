import { createRouter } from '../../../trpc';
import { getSmtpSettings } from './get';
import { setSmtpSettings } from './set';
import { testSmtpSettings } from './test';

export const smtpRouter = createRouter({
  get: getSmtpSettings,
  set: setSmtpSettings,
  test: testSmtpSettings,
});
