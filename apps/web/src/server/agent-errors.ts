// The one translation of the agent bus's failures (CommandError) into the API's error model.
// trpc.ts applies it to every procedure, so routers let a CommandError through unchanged.
import { CommandError } from '@tandem/agent-bus';
import { AppError } from '@tandem/engine';

/**
 * - not connected / no acknowledgement: SERVICE_UNAVAILABLE (503), worth trying again later;
 * - acknowledged but no result in time: GATEWAY_TIMEOUT (504), also retryable — the agent may
 *   still finish the work, and the commands the portal sends are safe to send again;
 * - a result of the wrong shape: BAD_GATEWAY (502), a plain sentence (the mismatch is logged);
 * - the agent ran it and reported an error: CONFLICT with the agent's own message;
 * - arguments refused before sending: BAD_REQUEST with the reason.
 */
export function agentErrorToAppError(err: CommandError): AppError {
  switch (err.code) {
    case 'agent_offline':
      return new AppError(
        'SERVICE_UNAVAILABLE',
        'The agent could not be reached: it is not connected. Try again when it is online.',
      );
    case 'no_ack':
      return new AppError(
        'SERVICE_UNAVAILABLE',
        'The agent could not be reached: it did not acknowledge the command. Try again.',
      );
    case 'timeout':
      return new AppError('GATEWAY_TIMEOUT', 'The agent did not answer in time. Try again; it may still finish the work.');
    case 'bad_result':
      console.error(`[trpc] ${err.message}: ${err.detail ?? ''}`);
      return new AppError(
        'BAD_GATEWAY',
        'The agent answered something unexpected. Its version may not match the portal; update the agent and try again.',
      );
    case 'failed':
      return new AppError('CONFLICT', `The agent could not do it: ${err.message}`);
    case 'bad_args':
      return new AppError('BAD_REQUEST', `The agent command was refused: ${err.message}`);
  }
}

export { CommandError };
