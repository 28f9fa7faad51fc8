import { createRouter } from '../../trpc';
import { createCredential } from './create';
import { listCredentials } from './list';
import { removeCredential } from './remove';
import { testCredential } from './test';
import { updateCredential } from './update';

export const credentialRouter = createRouter({
  list: listCredentials,
  create: createCredential,
  update: updateCredential,
  remove: removeCredential,
  test: testCredential,
});
