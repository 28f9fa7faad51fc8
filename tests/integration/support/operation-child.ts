// A worker process for one operation, for tests that kill it (kill -9) and start it again:
// runs runOperation for the job in TANDEM_TEST_JOB, as the operations worker does, then exits.
// TANDEM_TEST_CRASH_AT (apps/worker/src/operations/test-crash.ts) makes it die at a chosen step.
import { AgentBus } from '@tandem/agent-bus';
import { createPrismaClient } from '@tandem/db';
import { operationJobSchema } from '@tandem/jobs';
import { runOperation } from '../../../apps/worker/src/operations/run-operation.ts';

const job = operationJobSchema.parse(JSON.parse(process.env.TANDEM_TEST_JOB ?? '{}'));
const db = createPrismaClient(process.env.APP_DATABASE_URL!, { max: 2 });
const bus = new AgentBus(process.env.REDIS_URL!);
const result = await runOperation({ db, bus }, job);
console.log(`[operation-child] ${JSON.stringify(result)}`);
bus.close();
await db.$disconnect();
process.exit(0);
