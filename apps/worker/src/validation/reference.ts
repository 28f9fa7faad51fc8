// X.*: the control plane's reference data and the tenant's policy, in one place. The agent
// versions can be raised by the environment (an operator pinning a newer minimum; tests set a
// minimum above the running agent to see agent.version-unsupported).
import { defaultPolicy, type ReferenceFacts } from '@tandem/engine';

/**
 * The agent release this control plane ships is 0.1.0 (apps/agent/src/version.ts); the minimum it
 * supports is that release's major.minor.0, so every 0.1.x agent is accepted.
 */
const SHIPPED_AGENT_VERSION = '0.1.0';
const DEFAULT_MIN_VERSION = '0.1.0';
/**
 * Agents of this generation cannot update themselves (agent.upgrade is not an agent action yet):
 * the floor is above every release, so an old agent is told to reinstall, never offered an upgrade.
 */
const DEFAULT_SELF_UPDATE_FLOOR = `${Number(SHIPPED_AGENT_VERSION.split('.')[0]) + 1}.0.0`;

const version = (v: string | undefined, fallback: string) => (v && /^\d+\.\d+\.\d+$/.test(v.trim()) ? v.trim() : fallback);

export interface PolicyInput {
  privilegedFixesInFixAll: boolean;
}

/** Reference facts for one run: catalogue §1.10 defaults plus the organization's policy. */
export function referenceFacts(org: PolicyInput, env: NodeJS.ProcessEnv = process.env): ReferenceFacts {
  const channel = version(env.TANDEM_AGENT_CHANNEL_VERSION, SHIPPED_AGENT_VERSION);
  return {
    agent: {
      minVersion: version(env.TANDEM_AGENT_MIN_VERSION, DEFAULT_MIN_VERSION),
      channelVersion: channel,
      selfUpdateFloor: version(env.TANDEM_AGENT_SELF_UPDATE_FLOOR, DEFAULT_SELF_UPDATE_FLOOR),
      protocolMajor: 1,
    },
    modulesRequired: { core: channel },
    policy: { ...defaultPolicy(), privilegedFixesInFixAll: org.privilegedFixesInFixAll },
  };
}

/** Deadlines of a run (catalogue §1.9, §1.10). */
export const FACTS_DEADLINE_MS = 60_000;
export const DNS_DRY_RUN_BUDGET_MS = 30_000;
export const DNS_PRIMARY_MS = 10_000;
