// tandem-agent: enrol with a one-time token, then run as a service that connects outbound to
// Tandem. No inbound port is ever opened for control traffic.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultConfigPath, defaultHooksDir, readConfig, statusPath, statusSchema, writeSecretFile } from './config.ts';
import { AgentRuntime } from './runtime/connection.ts';
import { AGENT_VERSION } from './version.ts';

const usage = `tandem-agent ${AGENT_VERSION}

  tandem-agent enroll --url URL --token=TOKEN [--config FILE] [--hooks-dir DIR] [--hostname NAME]
      Trade a one-time enrolment token (from "Add server" in the portal) for this server's own
      credential, and write it to the configuration file (mode 0600). --hostname names the server
      in Tandem when its own host name is not the one to show.
  tandem-agent run [--config FILE]
      Connect to Tandem and serve (this is what the service runs).
  tandem-agent status [--config FILE]
      Show the connection state, version and last heartbeat.
  tandem-agent install-service [--config FILE]
      Windows: register the agent as a Windows service. Linux: print the systemd unit to install.
  tandem-agent --version

The configuration file defaults to ${defaultConfigPath()} (or $TANDEM_AGENT_CONFIG).`;

function fail(message: string): never {
  console.error(`tandem-agent: ${message}`);
  process.exit(1);
}

async function enroll(url: string, token: string, configPath: string, hooksDir: string, hostname: string) {
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    fail(`--url must be a URL like http://tandem.example:3001 (got "${url}")`);
  }
  const res = await fetch(new URL('enroll', base.href.endsWith('/') ? base : `${base.href}/`), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      token,
      hostname,
      osFamily: process.platform === 'win32' ? 'windows' : 'linux',
      osVersion: `${os.type()} ${os.release()}`,
    }),
  }).catch((err: unknown) => fail(`cannot reach ${url}: ${err instanceof Error ? err.message : String(err)}`));
  const body = (await res.json().catch(() => ({}))) as { error?: string; agentId?: string; serverId?: string; credential?: string };
  if (!res.ok || !body.credential || !body.agentId || !body.serverId) fail(`enrolment refused: ${body.error ?? res.statusText}`);
  writeSecretFile(configPath, {
    url: base.href.replace(/\/$/, ''),
    agentId: body.agentId,
    serverId: body.serverId,
    credential: body.credential,
    hooksDir,
    enrolledAt: new Date().toISOString(),
  });
  console.log(`Enrolled as agent ${body.agentId}. Configuration written to ${configPath}.`);
  console.log(`Start it with: tandem-agent run${configPath === defaultConfigPath() ? '' : ` --config ${configPath}`}`);
}

function status(configPath: string) {
  const config = readConfig(configPath);
  const file = statusPath(configPath);
  if (!fs.existsSync(file)) {
    console.log(`Agent ${config.agentId} (gateway ${config.url}): never run`);
    return;
  }
  const s = statusSchema.parse(JSON.parse(fs.readFileSync(file, 'utf8')));
  let running = false;
  try {
    process.kill(s.pid, 0);
    running = true;
  } catch {
    running = false;
  }
  const state = running ? s.state : 'not running';
  console.log(
    [
      `state:          ${state}${running ? ` since ${s.since}` : ''}`,
      `version:        ${s.version}`,
      `agent id:       ${config.agentId}`,
      `gateway:        ${s.gateway}`,
      `last heartbeat: ${s.lastHeartbeatAt ?? 'none yet'}`,
      ...(s.lastError ? [`last error:     ${s.lastError}`] : []),
    ].join('\n'),
  );
  process.exitCode = running && s.state === 'connected' ? 0 : 3;
}

function installService(configPath: string) {
  const script = process.argv[1] ?? 'tandem-agent.mjs';
  if (process.platform === 'win32') {
    // sc.exe wants "binPath= <value>" as separate arguments.
    const bin = `"${process.execPath}" "${path.resolve(script)}" run --config "${configPath}"`;
    const res = spawnSync('sc.exe', ['create', 'TandemAgent', 'binPath=', bin, 'start=', 'auto', 'DisplayName=', 'Tandem Agent'], { stdio: 'inherit' });
    if (res.status !== 0) fail('sc.exe create failed (run from an elevated prompt)');
    spawnSync('sc.exe', ['failure', 'TandemAgent', 'reset=', '86400', 'actions=', 'restart/5000/restart/5000/restart/60000'], { stdio: 'inherit' });
    spawnSync('sc.exe', ['start', 'TandemAgent'], { stdio: 'inherit' });
    return;
  }
  console.log(`Install infra/systemd/tandem-agent.service from the Tandem repository as
/etc/systemd/system/tandem-agent.service, then: systemctl daemon-reload && systemctl enable --now tandem-agent`);
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      config: { type: 'string' },
      'hooks-dir': { type: 'string' },
      hostname: { type: 'string' },
      version: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.version) return console.log(AGENT_VERSION);
  const command = positionals[0];
  const configPath = path.resolve(values.config ?? defaultConfigPath());
  switch (command) {
    case 'enroll':
      if (!values.url || !values.token) fail('enroll needs --url and --token (copy the command from "Add server" in the portal)');
      return enroll(values.url, values.token, configPath, path.resolve(values['hooks-dir'] ?? defaultHooksDir(configPath)), values.hostname ?? os.hostname());
    case 'run': {
      const runtime = new AgentRuntime(readConfig(configPath), configPath);
      process.on('SIGTERM', () => runtime.stop());
      process.on('SIGINT', () => runtime.stop());
      await runtime.run();
      return;
    }
    case 'status':
      return status(configPath);
    case 'install-service':
      return installService(configPath);
    default:
      console.log(usage);
      if (command && !values.help) process.exitCode = 2;
  }
}

main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
