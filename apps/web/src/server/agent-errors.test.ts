import { describe, expect, it } from 'vitest';
import { CommandError, type CommandErrorCode } from '@tandem/agent-bus';
import { agentErrorToAppError } from './agent-errors';

describe('agent bus failures in the API error model', () => {
  const cases: [CommandErrorCode, string, RegExp][] = [
    ['agent_offline', 'SERVICE_UNAVAILABLE', /could not be reached: it is not connected/],
    ['no_ack', 'SERVICE_UNAVAILABLE', /could not be reached: it did not acknowledge/],
    ['timeout', 'GATEWAY_TIMEOUT', /did not answer in time/],
    ['bad_result', 'BAD_GATEWAY', /^The agent answered something unexpected/],
    ['failed', 'CONFLICT', /^The agent could not do it: failed: no such directory$/],
    ['bad_args', 'BAD_REQUEST', /refused: failed: no such directory/],
  ];

  it.each(cases)('%s becomes %s with a plain message', (code, expected, message) => {
    const mapped = agentErrorToAppError(new CommandError(code, 'failed: no such directory', 'at collectedAt: expected string'));
    expect(mapped.code).toBe(expected);
    expect(mapped.message).toMatch(message);
  });

  it('never shows the schema mismatch of an unexpected answer (it is logged)', () => {
    const mapped = agentErrorToAppError(
      new CommandError(
        'bad_result',
        'The agent answered something unexpected to facts.collect',
        'at collectedAt: expected string',
      ),
    );
    expect(mapped.message).not.toMatch(/collectedAt|expected string|facts\.collect/);
  });

  it('makes the failures that may pass on their own retryable (5xx), and the rest not', () => {
    const retryable = cases
      .filter(([code]) =>
        ['SERVICE_UNAVAILABLE', 'GATEWAY_TIMEOUT'].includes(agentErrorToAppError(new CommandError(code, 'x')).code),
      )
      .map(([code]) => code);
    expect(retryable).toEqual(['agent_offline', 'no_ack', 'timeout']);
  });
});
