// tandem-agent: enrol with a one-time token, then run as a service that connects outbound to
// Tandem. No inbound port is ever opened for control traffic.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultConfigPath, defaultHooksDir, readConfig, statusPath, statusSchema, writeSecretFile } from './config.ts';
import { AgentRuntime } from './runtime/connection.ts';
import { defaultWindowsLayout, describeStep, loadWrapper, planInstall, planUninstall, runSteps, serviceDefinition, type ServiceStep } from './service/windows.ts';
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
  tandem-agent install-service [--config FILE] [--dry-run]
      Windows: install the agent as the TandemAgent service (WinSW runs "node tandem-agent.mjs run";
      copies this file to %ProgramFiles%\\Tandem Agent; run again to upgrade). --dry-run shows the
      steps and the service definition without changing anything. Linux: how to install the
      systemd unit.
  tandem-agent uninstall-service [--dry-run]
      Windows: stop and remove the TandemAgent service.
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
  // The hook directory is the agent's own: made now, so a first validation finds it ready.
  try {
    fs.mkdirSync(hooksDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    console.error(`tandem-agent: could not create the hook directory ${hooksDir} (${err instanceof Error ? err.message : String(err)}); validation will offer to create it`);
  }
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

function runPlan(steps: ServiceStep[], dryRun: boolean, definition?: string) {
  if (dryRun) {
    console.log(steps.map((st, i) => `${i + 1}. ${describeStep(st)}`).join('\n'));
    if (definition) console.log(`\nService definition (tandem-agent-service.xml):\n${definition}`);
    return Promise.resolve();
  }
  return loadWrapper().then((wrapper) => {
    for (const st of steps) console.log(`- ${describeStep(st)}`);
    runSteps(steps, wrapper);
  });
}

async function installService(configPath: string, dryRun: boolean) {
  if (process.platform !== 'win32') {
    console.log(`Install infra/systemd/tandem-agent.service from the Tandem repository as
/etc/systemd/system/tandem-agent.service, then: systemctl daemon-reload && systemctl enable --now tandem-agent`);
    return;
  }
  // A service that cannot read its configuration would only restart for ever.
  readConfig(configPath);
  const layout = defaultWindowsLayout(process.env, process.execPath, path.resolve(process.argv[1] ?? 'tandem-agent.mjs'), configPath);
  await runPlan(planInstall(layout), dryRun, serviceDefinition(layout));
  if (!dryRun) console.log(`The TandemAgent service is installed and started; its logs are in ${layout.logDir}.`);
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
      'dry-run': { type: 'boolean' },
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
      return installService(configPath, values['dry-run'] ?? false);
    case 'uninstall-service':
      if (process.platform !== 'win32') return console.log('On Linux: systemctl disable --now tandem-agent');
      return runPlan(planUninstall(), values['dry-run'] ?? false);
    default:
      console.log(usage);
      if (command && !values.help) process.exitCode = 2;
  }
}

main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
