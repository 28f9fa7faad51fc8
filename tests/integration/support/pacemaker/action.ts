// Run inside the test cluster's namespaces: agent actions through runAction, exactly as the agent
// carries them out (real crm_resource, crm_mon, cibadmin). One process serves every action of a
// test file (starting tsx per action costs seconds): each stdin line is {"id","action","args"},
// answered by one stdout line {"id","ok"} or {"id","error"}.
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { runAction } from '../../../../apps/agent/src/actions/index.ts';

process.stdout.write('{"ready":true}\n');
for await (const line of createInterface({ input: process.stdin })) {
  const { id, action, args } = JSON.parse(line) as { id: number; action: string; args: unknown };
  try {
    const ok = await runAction(action, args, { hooksDir: tmpdir(), platform: 'linux' });
    process.stdout.write(`${JSON.stringify({ id, ok })}\n`);
  } catch (e) {
    process.stdout.write(`${JSON.stringify({ id, error: e instanceof Error ? e.message : String(e) })}\n`);
  }
}
