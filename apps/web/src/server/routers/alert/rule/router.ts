import { createRouter } from '../../../trpc';
import { createRule } from './create';
import { listRules } from './list';
import { removeRule } from './remove';
import { updateRule } from './update';

export const ruleRouter = createRouter({
  list: listRules,
  create: createRule,
  update: updateRule,
  remove: removeRule,
});
