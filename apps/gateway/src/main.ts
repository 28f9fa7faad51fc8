// The gateway process: `npm start` runs one; more can run side by side (different GATEWAY_PORT
// and GATEWAY_ID), each holding some agents' sockets.
import { appDb } from '@tandem/db';
import { gatewayEnv } from './env.ts';
import { startGateway } from './gateway.ts';

const gateway = await startGateway(gatewayEnv());

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  await gateway.close();
  await appDb().$disconnect();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
