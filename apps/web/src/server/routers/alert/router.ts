import { createRouter } from '../../trpc';
import { channelRouter } from './channel/router';
import { deliveryRouter } from './delivery/router';
import { openAlertRouter } from './open/router';
import { ruleRouter } from './rule/router';
import { smtpRouter } from './smtp/router';
import { windowRouter } from './window/router';

// Alerting: the organization's mail server and channels, which events go where (rules), the
// delivery log, open alerts and maintenance windows.
export const alertRouter = createRouter({
  smtp: smtpRouter,
  channel: channelRouter,
  rule: ruleRouter,
  delivery: deliveryRouter,
  open: openAlertRouter,
  window: windowRouter,
});
