import { createRouter } from '../../trpc';
import { createDrill } from './create';
import { listDrills } from './list';
import { removeDrill } from './remove';
import { updateDrill } from './update';

export const drillRouter = createRouter({ list: listDrills, create: createDrill, update: updateDrill, remove: removeDrill });
