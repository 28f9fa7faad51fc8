import { createRouter } from '../../../trpc';
import { createWindow } from './create';
import { endWindow } from './end';
import { listWindows } from './list';

export const windowRouter = createRouter({
  list: listWindows,
  create: createWindow,
  end: endWindow,
});
