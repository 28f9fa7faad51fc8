import { createRouter } from '../../../trpc';
import { listDeliveries } from './list';
import { listCustomerDeliveries } from './list-for-customer';
import { redeliver } from './redeliver';

export const deliveryRouter = createRouter({
  list: listDeliveries,
  listForCustomer: listCustomerDeliveries,
  redeliver,
});
