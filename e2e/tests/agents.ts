import { spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { expect } from '@playwright/test';

// Real agents for browser tests: enrolled with a one-time token, as the Add server dialog hands
// them out, against the test app's gateway; the spec runs them as it needs.

export const agentBundle =
  process.env.TANDEM_AGENT_BUNDLE ?? path.resolve(import.meta.dirname, '../../apps/agent/dist/tandem-agent.mjs');
export const gatewayUrl = process.env.TANDEM_GATEWAY_URL ?? 'http://127.0.0.1:3101';

/** Enrols an agent for `customerId` with its configuration in `dir`; returns the config path and what the gateway issued. */
export async function enrolAgent(db: pg.Client, o: { orgId: string; customerId: string; dir: string; hostname: string }) {
  const token = randomBytes(32).toString('base64url');
  await db.query(
    `INSERT INTO "EnrollmentToken" (id, "organizationId", "customerId", "tokenHash", "expiresAt") VALUES (gen_random_uuid(), $1, $2, $3, now() + interval '1 hour')`,
    [o.orgId, o.customerId, createHash('sha256').update(token).digest('hex')],
  );
  fs.mkdirSync(o.dir, { recursive: true });
  const config = path.join(o.dir, 'agent.json');
  const res = spawnSync(
    process.execPath,
    [
      agentBundle,
      'enroll',
      '--url',
      gatewayUrl,
      `--token=${token}`,
      '--config',
      config,
      '--hooks-dir',
      path.join(o.dir, 'hooks'),
      '--hostname',
      o.hostname,
    ],
    { encoding: 'utf8' },
  );
  expect(res.stdout).toContain('Enrolled as agent');
  return {
    config,
    hostname: o.hostname,
    ...(JSON.parse(fs.readFileSync(config, 'utf8')) as { agentId: string; serverId: string }),
  };
}

/** Waits until `count` of the customer's servers have an online agent that has reported its facts. */
export async function waitForAgentsOnline(db: pg.Client, customerId: string, count: number) {
  await expect
    .poll(
      async () => {
        const { rows } = await db.query<{ n: string }>(
          `SELECT count(*) AS n FROM "Server" s JOIN "Agent" a ON a."serverId" = s.id WHERE s."customerId" = $1 AND a.status = 'online' AND s.facts IS NOT NULL`,
          [customerId],
        );
        return Number(rows[0]!.n);
      },
      { timeout: 30_000 },
    )
    .toBe(count);
}

/** Stops a child process and waits for it to exit. */
export async function stopChild(child: ChildProcess | undefined) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
