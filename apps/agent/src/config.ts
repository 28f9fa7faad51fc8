import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

// The agent's configuration (written by `enroll`, mode 0600: it holds the credential) and its
// status file (written while running, read by `status`).

export const configSchema = z.object({
  url: z.url(),
  agentId: z.uuid(),
  serverId: z.uuid(),
  credential: z.string().min(32),
  hooksDir: z.string().min(1),
  /** Test failover copies; absent (older configurations): defaultScratchDir. */
  scratchDir: z.string().min(1).optional(),
  enrolledAt: z.string(),
});
export type AgentConfig = z.infer<typeof configSchema>;

export function defaultConfigPath(): string {
  if (process.env.TANDEM_AGENT_CONFIG) return process.env.TANDEM_AGENT_CONFIG;
  if (process.platform === 'win32') return path.join(process.env.ProgramData ?? 'C:\\ProgramData', 'Tandem', 'agent.json');
  return '/etc/tandem-agent/agent.json';
}

export function defaultHooksDir(configPath: string): string {
  return process.platform === 'win32' ? path.join(path.dirname(configPath), 'hooks') : '/var/lib/tandem-agent/hooks';
}

/** `<dir of the config file>/scratch`: the agent's own area for test failover copies. */
export function defaultScratchDir(configPath: string): string {
  return path.join(path.dirname(path.resolve(configPath)), 'scratch');
}

/** Writes atomically (temp file + rename) so a crash never leaves half a config. */
export function writeSecretFile(file: string, data: unknown) {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(data, null, 2), { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}

export function readConfig(file: string): AgentConfig {
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch {
    throw new Error(`No agent configuration at ${file}: run "tandem-agent enroll --url URL --token TOKEN" first`);
  }
  const parsed = configSchema.safeParse(JSON.parse(raw));
  if (!parsed.success) throw new Error(`The agent configuration at ${file} is damaged: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export const statusSchema = z.object({
  state: z.enum(['starting', 'connecting', 'connected', 'disconnected', 'refused', 'stopped']),
  since: z.string(),
  version: z.string(),
  pid: z.number(),
  gateway: z.string(),
  lastHeartbeatAt: z.string().nullable(),
  lastError: z.string().nullable(),
});
export type AgentStatus = z.infer<typeof statusSchema>;

export const statusPath = (configPath: string) => path.join(path.dirname(configPath), 'agent-status.json');

export function writeStatus(configPath: string, status: AgentStatus) {
  const file = statusPath(configPath);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(status, null, 2), { mode: 0o644 });
  fs.renameSync(tmp, file);
}
