// TEST ONLY: makes the worker process die hard (as kill -9 would) at a chosen point of a runbook,
// so tests/integration/failover-worker-crash.test.ts can check that a restarted worker finishes
// every run with each agent side effect done once. Active only when NODE_ENV is "test" and
// TANDEM_TEST_CRASH_AT is set, e.g. "start:run:3" (step 3 marked running, nothing sent yet) or
// "done:run:3" (step 3's commands all answered, not yet recorded: the restart sends them again). Never set it anywhere else.
export function crashPoint(when: 'start' | 'done', phase: string, position: number) {
  const at = process.env.TANDEM_TEST_CRASH_AT;
  if (!at || process.env.NODE_ENV !== 'test') return;
  if (at === `${when}:${phase}:${position}`) process.kill(process.pid, 'SIGKILL');
}
