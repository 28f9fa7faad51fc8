import { createRouter } from '../../trpc';
import { customerCoverage } from './coverage';
import { createCustomer } from './create';
import { deleteCustomer } from './delete';
import { getCustomer } from './get';
import { listCustomers } from './list';
import { updateCustomer } from './update';

export const customerRouter = createRouter({
  list: listCustomers,
  get: getCustomer,
  create: createCustomer,
  update: updateCustomer,
  delete: deleteCustomer,
  coverage: customerCoverage,
});
