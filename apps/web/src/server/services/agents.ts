import { AgentBus } from '@tandem/agent-bus';
import { env } from '@/env';

const globalForBus = globalThis as unknown as { tandemAgentBus?: AgentBus };

/** Sends commands to agents through Redis to whichever gateway holds them. */
export function agentBus(): AgentBus {
  globalForBus.tandemAgentBus ??= new AgentBus(env().REDIS_URL, env().TANDEM_BUS_KEY);
  return globalForBus.tandemAgentBus;
}
