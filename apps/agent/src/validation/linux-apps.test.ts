// The Linux app collectors' mapping functions on recorded inputs (smb.conf, /etc/exports,
// mountinfo, nfs.conf, passwd, unit definitions). The collectors themselves run against the real
// machine in tests/integration/agent-validate-facts-apps.test.ts.
import { describe, expect, it } from 'vitest';
import { fileServerShareSchema } from '@tandem/engine';
import { parseExportEntries, parseSmbSections, smbShareSections } from '../facts/applications/fileshares.ts';
import {
  aclModesOf,
  execStartProgram,
  idNames,
  nestedMounts,
  nfsShare,
  nfsVersions,
  referencedPaths,
  smbShare,
} from './linux-apps.ts';
import { mountOf, parseMountInfo } from './storage.ts';

const mountinfo = [
  '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro',
  '40 22 8:17 / /srv rw,relatime shared:20 - xfs /dev/sdb1 rw,attr2,inode64,noquota',
  '41 40 0:45 / /srv/data/projects/archive rw,relatime shared:21 - nfs4 nas:/archive rw,vers=4.2',
  '42 40 0:46 / /srv/data/scratch rw,nosuid shared:22 - tmpfs tmpfs rw,size=1024k',
  '43 40 8:33 / /srv/data2 rw,relatime shared:23 - vfat /dev/sdc1 rw,fmask=0022',
].join('\n');
const mounts = parseMountInfo(mountinfo);

const smbConf = `
[global]
   workgroup = EXAMPLE
   server signing = mandatory
   Read Only = no
[data]
   path = /srv/data
   valid users = alice, @staff
   write list = alice
   comment = Team data
[public]
   path = /srv/public
   read only = yes
[drop]
   path = /srv/drop
   writeable = yes
[printers]
   path = /var/spool/samba
[hidden]
   path = /srv/hidden
   available = no
`;

const exportsText = `
# comment
/srv/data      10.0.0.0/24(rw,sync,no_subtree_check) backup(ro)
"/srv/with space" *(ro)
/srv/defaults  -rw,sync  client1 client2(ro)
/srv/nobody
`;

describe('file server mapping', () => {
  it('maps Samba shares: read-only with [global] and Samba defaults, parameters, valid users and write list', () => {
    const global = parseSmbSections(smbConf).find((s) => s.name === 'global')!.params;
    expect(global).toMatchObject({ workgroup: 'EXAMPLE', 'server signing': 'mandatory', 'read only': 'no' });
    const shares = smbShareSections(smbConf).map((s) => smbShare(s, global, mounts));
    expect(shares.map((s) => s.name)).toEqual(['data', 'public', 'drop']);
    const [data, pub, drop] = shares;
    expect(data).toEqual({
      name: 'data',
      protocol: 'smb',
      path: '/srv/data',
      readOnly: false, // From [global].
      options: { path: '/srv/data', 'valid users': 'alice, @staff', 'write list': 'alice', comment: 'Team data' },
      acl: [
        { principal: 'alice', access: 'rw' },
        { principal: '@staff', access: 'rw' },
      ],
      nestedMounts: ['/srv/data/projects/archive', '/srv/data/scratch'],
    });
    expect(pub).toMatchObject({ readOnly: true, acl: [], nestedMounts: [] });
    expect(drop).toMatchObject({ readOnly: false });
    for (const s of shares) expect(fileServerShareSchema.safeParse(s).success).toBe(true);
    // Without a [global] setting Samba shares are read-only.
    expect(smbShare({ name: 'x', path: '/x', params: { path: '/x' } }, {}, mounts).readOnly).toBe(true);
  });

  it('maps NFS exports: clients as the ACL, options per client, read-only when no client may write', () => {
    const entries = parseExportEntries(exportsText);
    expect(entries.map((e) => e.path)).toEqual(['/srv/data', '/srv/with space', '/srv/defaults', '/srv/nobody']);
    const [data, spaced, defaults, nobody] = entries.map((e) => nfsShare(e, mounts));
    expect(data).toEqual({
      name: '/srv/data',
      protocol: 'nfs',
      path: '/srv/data',
      readOnly: false,
      options: { '10.0.0.0/24': 'rw,sync,no_subtree_check', backup: 'ro' },
      acl: [
        { principal: '10.0.0.0/24', access: 'rw' },
        { principal: 'backup', access: 'ro' },
      ],
      nestedMounts: ['/srv/data/projects/archive', '/srv/data/scratch'],
    });
    expect(spaced).toMatchObject({ readOnly: true, acl: [{ principal: '*', access: 'ro' }] });
    expect(defaults!.acl).toEqual([
      { principal: 'client1', access: 'rw' },
      { principal: 'client2', access: 'ro' },
    ]);
    expect(nobody).toMatchObject({ readOnly: true, acl: [{ principal: '*', access: 'ro' }], options: { '*': '' } });
  });

  it('finds mount points strictly below a path only', () => {
    expect(nestedMounts(mounts, '/srv/data/')).toEqual(['/srv/data/projects/archive', '/srv/data/scratch']);
    expect(nestedMounts(mounts, '/srv/data/scratch')).toEqual([]);
    expect(nestedMounts(mounts, '/srv/dat')).toEqual([]); // Not /srv/data2.
  });

  it('derives ACL modes from the volume holding the path', () => {
    expect(aclModesOf(mountOf(mounts, '/srv/data/x'), false)).toEqual(['posix-acl', 'xattr']); // xfs
    expect(aclModesOf(mountOf(mounts, '/srv/data2/x'), true)).toEqual(['selinux']); // vfat
    expect(aclModesOf(null, false)).toEqual([]);
  });

  it('reads the NFS versions nfs.conf sets, and resolves ids through passwd/group text', () => {
    expect(nfsVersions('[general]\n[nfsd]\n# vers2=y\nvers3=n\nvers4.0 = n\n[mountd]\nvers9=y\n')).toBe('vers3=n,vers4.0=n');
    expect(nfsVersions('[nfsd]\nthreads=8\n')).toBe('default');
    const users = idNames('root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\nbad line\n');
    expect([...users]).toEqual([
      [0, 'root'],
      [1000, 'alice'],
    ]);
  });
});

describe('generic service mapping', () => {
  it('takes the program from ExecStart without systemd prefixes', () => {
    expect(execStartProgram('-/usr/bin/app --config /etc/app.conf')).toBe('/usr/bin/app');
    expect(execStartProgram('@/usr/sbin/daemon daemon-name')).toBe('/usr/sbin/daemon');
    expect(execStartProgram('python3 -m app')).toBe('python3');
    expect(execStartProgram('  ')).toBeNull();
  });

  it('lists the paths a definition names', () => {
    expect(
      referencedPaths({
        ExecStart: '/usr/bin/app --config=/etc/app/app.conf -d /var/lib/app relative/path',
        EnvironmentFile: '-/etc/default/app /etc/app/env',
        WorkingDirectory: '/var/lib/app',
      }),
    ).toEqual(['/etc/default/app', '/etc/app/env', '/var/lib/app', '/etc/app/app.conf']);
    expect(referencedPaths({ Script: '/etc/init.d/x', User: 'root' })).toEqual([]);
  });
});
