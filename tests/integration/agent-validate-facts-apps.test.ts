// validate.facts' Linux application collectors from a real agent process through a real gateway:
// file server facts for an NFS export of a real directory (and the owners under the pair's paths) (the agent runs in a private mount
// namespace whose /etc/exports.d holds the export; a tmpfs mounted inside the share beforehand is
// a nested mount; files owned by nobody and by a uid no user has), and generic service facts for
// a real SysV service (and unknown, with the reason, for a service that does not exist).
import { execFileSync, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentBus } from '@tandem/agent-bus';
import { createTenant, ownerDb } from '@tandem/db/testing';
import { fileserverFactsSchema, genericFactsSchema, type ValidationFactsArgs } from '@tandem/engine';
import { agentBundle, agentCli, enrollmentToken, startGateway, tempDir, waitFor } from './support/agents';
import { spawnAgentWithExports } from './support/file-shares';
import { ReplicationHarness } from './support/replication/agents';
import { installTestService, type TestService } from './support/sysv-service';

const isRootOnLinux = process.platform === 'linux' && process.getuid?.() === 0;
const repo = path.resolve(import.meta.dirname, '../..');
const h = new ReplicationHarness('vfapps');
let agentId = '';
let child: ChildProcess | undefined;
let service: TestService;
let share = '';
let replica = '';
let nested = '';
let nestedMounted = false;
const UNKNOWN_UID = 54_321;
const REPLICA_UID = 54_322;

const args = (over: Partial<ValidationFactsArgs>): ValidationFactsArgs => ({
  paths: [],
  ports: [],
  services: [],
  openFilesUnder: [],
  postgres: null,
  apps: [],
  ...over,
});
const validate = (over: Partial<ValidationFactsArgs>) => h.bus.send(agentId, 'validate.facts', args(over), { timeoutMs: 90_000 });

const onPath = (name: string) =>
  ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'].some((d) => fs.existsSync(path.join(d, name)));

beforeAll(async () => {
  if (!isRootOnLinux) throw new Error('these tests need root on Linux (a mount namespace, a tmpfs mount, a SysV service)');
  execFileSync(process.execPath, [path.join(repo, 'apps/agent/build.mjs')], { cwd: repo, stdio: 'inherit' });
  h.bus = new AgentBus(process.env.REDIS_URL!);
  h.t = await createTenant();
  h.gw = await startGateway({ heartbeatMs: 5_000 });
  h.running.push(h.gw);

  const data = tempDir('vfapps-data');
  h.cleanup.push(data);
  share = path.join(data, 'share');
  fs.mkdirSync(path.join(share, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(share, 'sub', 'owned-by-nobody.txt'), 'x');
  execFileSync('chown', ['nobody', path.join(share, 'sub', 'owned-by-nobody.txt')]);
  fs.writeFileSync(path.join(share, 'orphan.txt'), 'y');
  fs.chownSync(path.join(share, 'orphan.txt'), UNKNOWN_UID, UNKNOWN_UID);
  // A pair path that is not shared (as the target's replica is): its owners are resolved too.
  replica = path.join(data, 'replica');
  fs.mkdirSync(replica);
  fs.writeFileSync(path.join(replica, 'copied.txt'), 'z');
  fs.chownSync(path.join(replica, 'copied.txt'), REPLICA_UID, 0);
  // Mounted before the agent starts: its private namespace is a copy of ours at that moment.
  nested = path.join(share, 'nested');
  fs.mkdirSync(nested);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', nested]);
  nestedMounted = true;

  service = installTestService('vfapps');
  execFileSync(service.scriptPath, ['start']);

  const dir = tempDir('vfapps-agent');
  h.cleanup.push(dir);
  const configPath = path.join(dir, 'agent.json');
  const token = await enrollmentToken(h.t.customerX);
  const res = await agentCli([
    'enroll',
    '--url',
    h.gw.url,
    `--token=${token}`,
    '--config',
    configPath,
    '--hooks-dir',
    path.join(dir, 'hooks'),
    '--hostname',
    `vfapps-${randomUUID().slice(0, 6)}`,
  ]);
  expect(res.output).toContain('Enrolled as agent');
  const config = JSON.parse(fs.readFileSync(configPath, 'utf8')) as { agentId: string; serverId: string };
  agentId = config.agentId;
  child = spawnAgentWithExports(agentBundle, configPath, [share]);
  await h.online(agentId);
  await waitFor(
    'the first facts',
    async () => (await ownerDb().server.findUnique({ where: { id: config.serverId } }))?.factsAt,
    90_000,
  );
}, 180_000);

afterAll(async () => {
  const c = child;
  if (c && c.exitCode === null && c.signalCode === null) {
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });
  }
  service?.remove();
  if (nestedMounted) execFileSync('umount', [nested]);
  await h.teardown();
});

describe('validate.facts Linux application collectors through a real agent', { timeout: 120_000 }, () => {
  it('reports file server facts for a real NFS export that parse with the catalogue schema', async () => {
    const facts = await validate({ apps: ['fileserver'], paths: [replica] });
    const section = facts.apps.fileserver as { status: string; data?: unknown; reason?: string };
    expect(section).toMatchObject({ status: 'ok' });
    const fsFacts = fileserverFactsSchema.parse(section.data);

    expect(fsFacts.shares.find((s) => s.protocol === 'nfs' && s.path === share)).toEqual({
      name: share,
      protocol: 'nfs',
      path: share,
      readOnly: false,
      options: { '127.0.0.1': 'rw,sync,no_subtree_check' },
      acl: [{ principal: '127.0.0.1', access: 'rw' }],
      nestedMounts: [nested],
    });
    expect(fsFacts.dfsLinks).toEqual([]);
    expect(fsFacts.servers.nfs.installed).toBe(onPath('exportfs') || onPath('rpc.nfsd'));
    expect(fsFacts.servers.smb.installed).toBe(onPath('smbd'));
    if (!fsFacts.servers.smb.installed) expect(fsFacts.servers.smb.service).toBeNull();
    if (fs.existsSync('/etc/nfs.conf'))
      expect(fsFacts.serverConfig['nfs.versions']).toMatch(/^(default|vers[\d.]+=\w+(,vers[\d.]+=\w+)*)$/);

    // The volume holding the share, as findmnt sees it.
    const [fsType, options] = execFileSync('findmnt', ['-no', 'FSTYPE,OPTIONS', '-T', share], { encoding: 'utf8' })
      .trim()
      .split(/\s+/);
    const modes = fsFacts.aclModes.find((a) => a.path === share)!.modes;
    const aclByDefault =
      ['ext3', 'ext4', 'xfs', 'btrfs', 'tmpfs', 'f2fs'].includes(fsType!) && !options!.split(',').includes('noacl');
    expect(modes.includes('posix-acl')).toBe(aclByDefault || options!.split(',').includes('acl'));
    expect(modes.includes('selinux')).toBe(fs.existsSync('/sys/fs/selinux'));

    // Owners found under the share, resolved through /etc/passwd and /etc/group.
    expect(fsFacts.principals).toEqual(
      expect.arrayContaining([
        { id: 'uid:0', name: 'root', local: true },
        { id: 'uid:65534', name: 'nobody', local: true },
        { id: `uid:${UNKNOWN_UID}`, name: null, local: false },
        { id: `gid:${UNKNOWN_UID}`, name: null, local: false },
        { id: 'gid:0', name: 'root', local: true },
        { id: `uid:${REPLICA_UID}`, name: null, local: false },
      ]),
    );
  });

  it('reports generic service facts for a real SysV service, and unknown for a missing one', async () => {
    const missing = `tandem-vfapps-missing-${randomUUID().slice(0, 8)}`;
    const [found, absent] = await Promise.all([
      validate({ services: [service.name], apps: ['generic'] }),
      validate({ services: [missing], apps: ['generic'] }),
    ]);
    const section = found.apps.generic as { status: string; data?: unknown; reason?: string };
    expect(section).toMatchObject({ status: 'ok' });
    const script = fs.readFileSync(service.scriptPath, 'utf8');
    expect(genericFactsSchema.parse(section.data)).toEqual({
      service: service.name,
      definition: { Script: service.scriptPath, User: 'root' },
      digest: createHash('sha256').update(`${service.scriptPath}\0${script}\0`).digest('hex'),
      executable: service.scriptPath,
      executableExists: true,
      installPath: '/etc/init.d',
      account: 'root',
      dependencies: [],
      ports: [],
      referencedFiles: [],
      accounts: { root: true },
    });
    expect(absent.apps.generic).toEqual({ status: 'unknown', reason: `there is no service ${missing} on this node` });
  });
});
