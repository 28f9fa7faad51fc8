// Small maintenance commands: `node infra/cli.mjs up|down|migrate|seed [--test]`.
import { log, serversUp, tandemEnv } from './lib.mjs';
import { prepareDatabase, seedDemo } from './database.mjs';

const [cmd, ...rest] = process.argv.slice(2);
const dbFlag = rest.find((a) => a.startsWith('--db='));
const database = dbFlag ? dbFlag.slice(5) : rest.includes('--test') ? 'tandem_test' : 'tandem';

const servers = await serversUp({ database });
const env = tandemEnv(servers, { TANDEM_BCRYPT_COST: process.env.TANDEM_BCRYPT_COST ?? '8' });
switch (cmd) {
  case 'up':
    log(`servers are up. DATABASE_URL=${servers.ownerUrl.replace(/:[^:@]*@/, ':***@')} REDIS_URL=${servers.redisUrl.replace(/:[^:@]*@/, ':***@')}`);
    break;
  case 'down':
    // `serversUp` reports only what it started now; stop both regardless for an explicit `down`.
    (await import('./lib.mjs')).stopAllLocal();
    break;
  case 'migrate':
    prepareDatabase(env);
    break;
  case 'seed':
    prepareDatabase(env);
    seedDemo(env);
    break;
  case 'env':
    for (const k of ['DATABASE_URL', 'APP_DATABASE_URL', 'REDIS_URL', 'AUTH_SECRET', 'TANDEM_ENCRYPTION_KEY', 'TANDEM_BUS_KEY', 'TANDEM_BCRYPT_COST', 'TANDEM_WEBHOOK_PRIVATE_ADDRESSES']) {
      process.stdout.write(`export ${k}='${env[k]}'\n`);
    }
    break;
  default:
    console.error('usage: node infra/cli.mjs up|down|migrate|seed|env [--test | --db=NAME]');
    process.exit(2);
}
