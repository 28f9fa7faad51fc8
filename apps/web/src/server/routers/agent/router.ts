import { createRouter } from '../../trpc';
import { createEnrollment } from './create-enrollment';
import { revokeAgent } from './revoke';
import { rotateAgentCredential } from './rotate';

export const agentRouter = createRouter({ createEnrollment, revoke: revokeAgent, rotate: rotateAgentCredential });
