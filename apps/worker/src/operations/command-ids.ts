// Agent command ids of a step, derived instead of random: a step sent again after a worker crash
// carries the same ids, so an agent that already ran a command answers from its run-once memory
// instead of acting twice. A retry after a definite failure answer uses the next attempt number
// (OperationStep.attempts, incremented in the database first), so it is a new command.
import { createHash } from 'node:crypto';

export interface CommandIdParts {
  operationId: string;
  /** The step's position in its operation. */
  position: number;
  phase: 'run' | 'undo';
  /** Which of the step's commands (0, 1, … in the order the executor sends them). */
  sub: number;
  attempt: number;
}

/** sha256 of the parts, shaped as an RFC 4122 UUID (version 5-style name-based: version nibble 5, variant 10). */
export function commandId(p: CommandIdParts): string {
  const h = createHash('sha256').update(`tandem-command\0${p.operationId}\0${p.position}\0${p.phase}\0${p.sub}\0${p.attempt}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}
