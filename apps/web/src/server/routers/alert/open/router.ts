import { createRouter } from '../../../trpc';
import { listOpenAlerts } from './list';
import { listCustomerAlerts } from './list-for-customer';

export const openAlertRouter = createRouter({
  list: listOpenAlerts,
  listForCustomer: listCustomerAlerts,
});
