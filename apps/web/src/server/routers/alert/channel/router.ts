import { createRouter } from '../../../trpc';
import { createChannel } from './create';
import { listChannels } from './list';
import { removeChannel } from './remove';
import { rotateChannelSecret } from './rotate-secret';
import { sendChannelTest } from './send-test';
import { updateChannel } from './update';

export const channelRouter = createRouter({
  list: listChannels,
  create: createChannel,
  update: updateChannel,
  remove: removeChannel,
  rotateSecret: rotateChannelSecret,
  sendTest: sendChannelTest,
});
