// The windows DNS provider of dns.query, dns.transfer and dns.apply (PowerShell DnsServer cmdlets
// for Active Directory-integrated zones) against recorded outputs (tests/fixtures/windows/dns-*):
// a runner stands in for powershell.exe, checks each script's exact cmdlet lines and answers what
// the cmdlets printed. Only this Windows-only part is tested this way; rfc2136 runs against real
// BIND in agent-dns-actions.test.ts.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runAction } from '../../apps/agent/src/actions/index.ts';
import type { CommandOptions, CommandRunner } from '../../apps/agent/src/exec.ts';
import { decodePowerShellScript, powerShellScriptName } from '../../apps/agent/src/facts/util.ts';

const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, '../fixtures/windows', name), 'utf8');

type Step = {
  /** The script's name (powerShellArgs' "# tandem:<name>"). */
  name: string;
  /** Lines the script must contain exactly. */
  lines?: string[];
  stdout?: string;
  stderr?: string;
  code?: number;
};

type Call = { name: string | null; script: string; args: string[]; opts: CommandOptions | undefined };

/** A powershell.exe that answers the recorded outputs in order and checks each command line. */
function recorded(steps: Step[]): { run: CommandRunner; calls: Call[]; left: () => number } {
  const queue = [...steps];
  const calls: Call[] = [];
  const run: CommandRunner = (cmd, args, opts) => {
    const step = queue.shift();
    const script = decodePowerShellScript(args) ?? '';
    calls.push({ name: powerShellScriptName(args), script, args, opts });
    try {
      check(step, cmd, args, script);
    } catch (err) {
      // The code under test may catch it (and try the next server): the test fails in afterEach.
      mismatches.push(err);
      throw err;
    }
    return Promise.resolve({ code: step!.code ?? 0, stdout: step!.stdout ?? '', stderr: step!.stderr ?? '' });
  };
  return { run, calls, left: () => queue.length };
}

const mismatches: unknown[] = [];
afterEach(() => {
  const found = mismatches.splice(0);
  expect(found).toEqual([]);
});

function check(step: Step | undefined, cmd: string, args: string[], script: string) {
  expect(step, `unexpected command ${powerShellScriptName(args)}`).toBeDefined();
  expect(cmd).toBe('powershell.exe');
  expect(args.slice(0, 5)).toEqual(['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-EncodedCommand']);
  expect(powerShellScriptName(args)).toBe(step!.name);
  const lines = script.split('\n');
  for (const line of step!.lines ?? []) expect(lines).toContain(line);
}

const win = (run: CommandRunner) => ({ hooksDir: '/nonexistent', platform: 'win32' as const, run });
const dc1 = { host: '10.0.0.2', port: 53 };
const dc2 = { host: '10.0.0.3', port: 53 };
const at = "-ComputerName '10.0.0.2'";

const readLine = (zone: string, name: string, relative: string, type: string, target = at) =>
  `  [pscustomobject]@{ Name = '${name}'; Type = '${type}'; Records = (Tandem-Set (Tandem-Get { Get-DnsServerResourceRecord -ZoneName '${zone}' -Name '${relative}' -RRType ${type} ${target} })) }`;
const ttl60 = '-TimeToLive ([TimeSpan]::FromSeconds(60))';

const forwardChanges = [
  {
    zone: 'corp.example',
    name: 'www.corp.example',
    type: 'A' as const,
    before: { ttl: 3600, records: [{ type: 'A', address: '192.0.2.10' }] },
    after: { ttl: 60, records: [{ type: 'A', address: '192.0.2.20' }] },
  },
  {
    zone: 'corp.example',
    name: 'app.corp.example',
    type: 'CNAME' as const,
    before: { ttl: 3600, records: [{ type: 'CNAME', target: 'www.corp.example' }] },
    after: { ttl: 60, records: [{ type: 'CNAME', target: 'standby.corp.example' }] },
  },
  {
    zone: 'corp.example',
    name: 'corp.example',
    type: 'MX' as const,
    before: {
      ttl: 3600,
      records: [
        { type: 'MX', preference: 10, exchange: 'mail.corp.example' },
        { type: 'MX', preference: 20, exchange: 'mail2.corp.example' },
      ],
    },
    after: {
      ttl: 60,
      records: [
        { type: 'MX', preference: 10, exchange: 'standby.corp.example' },
        { type: 'MX', preference: 20, exchange: 'mail2.corp.example' },
      ],
    },
  },
  {
    zone: 'corp.example',
    name: 'www.corp.example',
    type: 'AAAA' as const,
    // Written the long way: compared with the server's short form.
    before: { ttl: 3600, records: [{ type: 'AAAA', address: '2001:DB8:0:0::10' }] },
    after: { ttl: 60, records: [{ type: 'AAAA', address: '2001:db8::20' }] },
  },
];
const reverseChanges = [
  {
    zone: '2.0.192.in-addr.arpa',
    name: '10.2.0.192.in-addr.arpa',
    type: 'PTR' as const,
    before: { ttl: 3600, records: [{ type: 'PTR', target: 'www.corp.example' }] },
    after: { ttl: 60, records: [] },
  },
  {
    zone: '2.0.192.in-addr.arpa',
    name: '20.2.0.192.in-addr.arpa',
    type: 'PTR' as const,
    before: { ttl: 3600, records: [] },
    after: { ttl: 60, records: [{ type: 'PTR', target: 'www.corp.example' }] },
  },
];
const changes = [...forwardChanges, ...reverseChanges];
const outcomes = (outcome: string) => changes.map((c) => ({ zone: c.zone, name: c.name, type: c.type, outcome }));

const forwardRead = [
  readLine('corp.example', 'www.corp.example', 'www', 'A'),
  readLine('corp.example', 'app.corp.example', 'app', 'CNAME'),
  readLine('corp.example', 'corp.example', '@', 'MX'),
  readLine('corp.example', 'www.corp.example', 'www', 'AAAA'),
];
const reverseRead = [
  readLine('2.0.192.in-addr.arpa', '10.2.0.192.in-addr.arpa', '10', 'PTR'),
  readLine('2.0.192.in-addr.arpa', '20.2.0.192.in-addr.arpa', '20', 'PTR'),
];

describe('windows DNS provider', () => {
  it('dns.query reads each RRset with Get-DnsServerResourceRecord (recorded outputs)', async () => {
    const { run, calls } = recorded([{ name: 'dns-read', lines: forwardRead, stdout: fixture('dns-read-forward-before.out') }]);
    const result = await runAction(
      'dns.query',
      {
        provider: 'windows',
        servers: [dc1],
        zone: 'corp.example',
        questions: [
          { name: 'www.corp.example', type: 'A' },
          { name: 'app.corp.example', type: 'CNAME' },
          { name: 'corp.example', type: 'MX' },
          { name: 'www.corp.example', type: 'AAAA' },
        ],
      },
      win(run),
    );
    expect(result).toEqual({
      server: '10.0.0.2',
      rrsets: [
        { name: 'www.corp.example', type: 'A', ttl: 3600, records: [{ type: 'A', address: '192.0.2.10' }], rcode: 'NOERROR' },
        {
          name: 'app.corp.example',
          type: 'CNAME',
          ttl: 3600,
          records: [{ type: 'CNAME', target: 'www.corp.example' }],
          rcode: 'NOERROR',
        },
        {
          name: 'corp.example',
          type: 'MX',
          ttl: 3600,
          records: [
            { type: 'MX', preference: 10, exchange: 'mail.corp.example' },
            { type: 'MX', preference: 20, exchange: 'mail2.corp.example' },
          ],
          rcode: 'NOERROR',
        },
        {
          name: 'www.corp.example',
          type: 'AAAA',
          ttl: 3600,
          records: [{ type: 'AAAA', address: '2001:db8::10' }],
          rcode: 'NOERROR',
        },
      ],
    });
    // Runs as the agent's account: no credential, nothing on stdin.
    expect(calls[0]!.opts?.input).toBeUndefined();
    expect(calls[0]!.script).not.toContain('New-CimSession');
  });

  it('dns.query through a domain account uses a CIM session and passes the password on stdin only (recorded outputs)', async () => {
    const password = 'S3cret!pass';
    const cim = '-CimSession $cim';
    const { run, calls } = recorded([
      {
        name: 'dns-read',
        lines: [
          "$credential = New-Object System.Management.Automation.PSCredential('CORP\\tandem-dns', $password)",
          "$cim = New-CimSession -ComputerName '10.0.0.2' -Credential $credential",
          readLine('2.0.192.in-addr.arpa', '10.2.0.192.in-addr.arpa', '10', 'PTR', cim),
          readLine('2.0.192.in-addr.arpa', '20.2.0.192.in-addr.arpa', '20', 'PTR', cim),
          '  Remove-CimSession $cim',
        ],
        stdout: fixture('dns-read-reverse-before.out'),
      },
    ]);
    const result = await runAction(
      'dns.query',
      {
        provider: 'windows',
        servers: [dc1],
        zone: '2.0.192.in-addr.arpa',
        account: { user: 'CORP\\tandem-dns', password },
        questions: [
          { name: '10.2.0.192.in-addr.arpa', type: 'PTR' },
          { name: '20.2.0.192.in-addr.arpa', type: 'PTR' },
        ],
      },
      win(run),
    );
    expect(result).toMatchObject({
      rrsets: [
        { name: '10.2.0.192.in-addr.arpa', records: [{ type: 'PTR', target: 'www.corp.example' }], rcode: 'NOERROR' },
        { name: '20.2.0.192.in-addr.arpa', ttl: 0, records: [], rcode: 'NOERROR' },
      ],
    });
    expect(calls[0]!.opts?.input).toBe(`${password}\n`);
    expect(calls[0]!.args.join(' ')).not.toContain(password);
    expect(calls[0]!.script).not.toContain(password);
  });

  it('dns.transfer lists the zone with Get-DnsServerResourceRecord, grouped by name and type (recorded outputs)', async () => {
    const { run } = recorded([
      {
        name: 'dns-zone',
        lines: [
          `$all = @(Get-DnsServerResourceRecord -ZoneName 'corp.example' ${at} | Where-Object { $_.RecordType -in @('A', 'AAAA', 'CNAME', 'MX', 'PTR') })`,
        ],
        stdout: fixture('dns-zone.out'),
      },
    ]);
    const result = await runAction('dns.transfer', { provider: 'windows', servers: [dc1], zone: 'corp.example' }, win(run));
    expect(result).toEqual({
      server: '10.0.0.2',
      truncated: false,
      rrsets: [
        {
          name: 'corp.example',
          type: 'A',
          ttl: 600,
          records: [
            { type: 'A', address: '10.0.0.2' },
            { type: 'A', address: '10.0.0.3' },
          ],
        },
        { name: 'corp.example', type: 'MX', ttl: 3600, records: [{ type: 'MX', preference: 10, exchange: 'mail.corp.example' }] },
        { name: 'dc01.corp.example', type: 'A', ttl: 3600, records: [{ type: 'A', address: '10.0.0.2' }] },
        { name: 'dc02.corp.example', type: 'A', ttl: 3600, records: [{ type: 'A', address: '10.0.0.3' }] },
        { name: 'domaindnszones.corp.example', type: 'A', ttl: 600, records: [{ type: 'A', address: '10.0.0.2' }] },
        { name: 'files01.corp.example', type: 'A', ttl: 1200, records: [{ type: 'A', address: '10.0.0.21' }] },
        { name: 'files01.corp.example', type: 'AAAA', ttl: 1200, records: [{ type: 'AAAA', address: 'fd00:10::21' }] },
        { name: 'files.corp.example', type: 'CNAME', ttl: 3600, records: [{ type: 'CNAME', target: 'files01.corp.example' }] },
        { name: 'mail.corp.example', type: 'A', ttl: 3600, records: [{ type: 'A', address: '10.0.0.25' }] },
        {
          name: 'sales.files.corp.example',
          type: 'CNAME',
          ttl: 3600,
          records: [{ type: 'CNAME', target: 'files.corp.example' }],
        },
      ],
    });
  });

  it('dns.apply reads, checks before, removes and adds per zone, re-reads to confirm; a second run changes nothing (recorded outputs)', async () => {
    const forwardChange = [
      "$c0 = @(Tandem-Get { Get-DnsServerResourceRecord -ZoneName 'corp.example' -Name 'www' -RRType A -ComputerName '10.0.0.2' })",
      "$c2 = @(Tandem-Get { Get-DnsServerResourceRecord -ZoneName 'corp.example' -Name '@' -RRType MX -ComputerName '10.0.0.2' })",
      "Tandem-Expect $c0 'www.corp.example A' @('192.0.2.10')",
      "Tandem-Expect $c1 'app.corp.example CNAME' @('www.corp.example')",
      "Tandem-Expect $c2 'corp.example MX' @('10 mail.corp.example', '20 mail2.corp.example')",
      "Tandem-Expect $c3 'www.corp.example AAAA' @('2001:db8::10')",
      `  if ($c0.Count -gt 0) { $c0 | Remove-DnsServerResourceRecord -ZoneName 'corp.example' -Force ${at} }`,
      `  Add-DnsServerResourceRecordA -ZoneName 'corp.example' -Name 'www' -IPv4Address '192.0.2.20' ${ttl60} ${at}`,
      `  Add-DnsServerResourceRecordCName -ZoneName 'corp.example' -Name 'app' -HostNameAlias 'standby.corp.example' ${ttl60} ${at}`,
      `  Add-DnsServerResourceRecordMX -ZoneName 'corp.example' -Name '@' -MailExchange 'standby.corp.example' -Preference 10 ${ttl60} ${at}`,
      `  Add-DnsServerResourceRecordMX -ZoneName 'corp.example' -Name '@' -MailExchange 'mail2.corp.example' -Preference 20 ${ttl60} ${at}`,
      `  Add-DnsServerResourceRecordAAAA -ZoneName 'corp.example' -Name 'www' -IPv6Address '2001:db8::20' ${ttl60} ${at}`,
    ];
    const reverseChange = [
      "Tandem-Expect $c0 '10.2.0.192.in-addr.arpa PTR' @('www.corp.example')",
      "Tandem-Expect $c1 '20.2.0.192.in-addr.arpa PTR' @()",
      `  if ($c0.Count -gt 0) { $c0 | Remove-DnsServerResourceRecord -ZoneName '2.0.192.in-addr.arpa' -Force ${at} }`,
      `  Add-DnsServerResourceRecordPtr -ZoneName '2.0.192.in-addr.arpa' -Name '20' -PtrDomainName 'www.corp.example' ${ttl60} ${at}`,
    ];
    const first = recorded([
      { name: 'dns-read', lines: forwardRead, stdout: fixture('dns-read-forward-before.out') },
      { name: 'dns-read', lines: reverseRead, stdout: fixture('dns-read-reverse-before.out') },
      { name: 'dns-change', lines: forwardChange, stdout: fixture('dns-change-forward.out') },
      { name: 'dns-read', lines: forwardRead, stdout: fixture('dns-read-forward-after.out') },
      { name: 'dns-change', lines: reverseChange, stdout: fixture('dns-change-reverse.out') },
      { name: 'dns-read', lines: reverseRead, stdout: fixture('dns-read-reverse-after.out') },
    ]);
    const args = { provider: 'windows', servers: [dc1], changes };
    expect(await runAction('dns.apply', args, win(first.run))).toEqual({ server: '10.0.0.2', changes: outcomes('changed') });
    expect(first.left()).toBe(0);
    // The PTR removed has nothing added in its place.
    expect(first.calls[4]!.script).not.toMatch(/Add-DnsServerResourceRecordPtr .*-Name '10'/);

    const again = recorded([
      { name: 'dns-read', lines: forwardRead, stdout: fixture('dns-read-forward-after.out') },
      { name: 'dns-read', lines: reverseRead, stdout: fixture('dns-read-reverse-after.out') },
    ]);
    expect(await runAction('dns.apply', args, win(again.run))).toEqual({ server: '10.0.0.2', changes: outcomes('already') });
    expect(again.calls.map((c) => c.name)).toEqual(['dns-read', 'dns-read']);
  });

  it('dns.apply refuses an RRset changed behind its back and changes nothing (recorded outputs)', async () => {
    const { run, calls } = recorded([
      { name: 'dns-read', lines: forwardRead, stdout: fixture('dns-read-forward-moved.out') },
      { name: 'dns-read', lines: reverseRead, stdout: fixture('dns-read-reverse-before.out') },
    ]);
    await expect(runAction('dns.apply', { provider: 'windows', servers: [dc1], changes }, win(run))).rejects.toThrow(
      "DNS records changed behind Tandem's back: www.corp.example A holds 192.0.2.99, 192.0.2.10 (TTL 1200); Tandem expected 192.0.2.10 (TTL 3600) (before) or 192.0.2.20 (TTL 60) (after). Nothing was changed.",
    );
    expect(calls.map((c) => c.name)).toEqual(['dns-read', 'dns-read']);
  });

  it('dns.apply reports a change made between its read and its change script as a conflict (recorded outputs)', async () => {
    const { run, calls } = recorded([
      { name: 'dns-read', lines: forwardRead, stdout: fixture('dns-read-forward-before.out') },
      { name: 'dns-change', code: 1, stderr: fixture('dns-change-conflict.err') },
      { name: 'dns-read', lines: forwardRead, stdout: fixture('dns-read-forward-moved.out') },
    ]);
    await expect(
      runAction('dns.apply', { provider: 'windows', servers: [dc1], changes: forwardChanges }, win(run)),
    ).rejects.toThrow(
      /changed behind Tandem's back: www\.corp\.example A holds 192\.0\.2\.99, 192\.0\.2\.10 \(TTL 1200\).* Zone corp\.example was not changed\.$/,
    );
    // The check comes before any removal in the script, so the conflict left the zone untouched.
    const script = calls[1]!.script.split('\n');
    const lastExpect = script.findLastIndex((l) => l.startsWith('Tandem-Expect '));
    const firstRemove = script.findIndex((l) => l.includes('Remove-DnsServerResourceRecord'));
    expect(lastExpect).toBeGreaterThan(-1);
    expect(firstRemove).toBeGreaterThan(lastExpect);
  });

  it('uses the next server when the first cannot be read, and changes that one (recorded outputs)', async () => {
    const at2 = "-ComputerName '10.0.0.3'";
    const { run, calls } = recorded([
      { name: 'dns-read', code: 1, stderr: fixture('dns-unreachable.err') },
      {
        name: 'dns-read',
        lines: [readLine('corp.example', 'www.corp.example', 'www', 'A', at2)],
        stdout: fixture('dns-read-forward-before.out'),
      },
      {
        name: 'dns-change',
        lines: [`  Add-DnsServerResourceRecordA -ZoneName 'corp.example' -Name 'www' -IPv4Address '192.0.2.20' ${ttl60} ${at2}`],
        stdout: '{"changed":1}',
      },
      { name: 'dns-read', stdout: fixture('dns-read-forward-after.out') },
    ]);
    const result = await runAction(
      'dns.apply',
      { provider: 'windows', servers: [dc1, dc2], changes: [forwardChanges[0]!] },
      win(run),
    );
    expect(result).toEqual({
      server: '10.0.0.3',
      changes: [{ zone: 'corp.example', name: 'www.corp.example', type: 'A', outcome: 'changed' }],
    });
    expect(calls[0]!.script).toContain(at);

    const none = recorded([
      { name: 'dns-read', code: 1, stderr: fixture('dns-unreachable.err') },
      { name: 'dns-read', code: 1, stderr: 'WinRM cannot complete the operation.' },
    ]);
    await expect(
      runAction(
        'dns.query',
        { provider: 'windows', servers: [dc1, dc2], zone: 'corp.example', questions: [{ name: 'www.corp.example', type: 'A' }] },
        win(none.run),
      ),
    ).rejects.toThrow(
      /Reading DNS records failed on every DNS server: 10\.0\.0\.2: .*RPC server is unavailable.*; 10\.0\.0\.3: WinRM cannot complete/,
    );
  });

  it('is refused on a non-Windows agent, and without a zone for questions', async () => {
    const { run, calls } = recorded([]);
    await expect(
      runAction(
        'dns.query',
        { provider: 'windows', servers: [dc1], zone: 'corp.example', questions: [{ name: 'www.corp.example', type: 'A' }] },
        { hooksDir: '/x', platform: 'linux', run },
      ),
    ).rejects.toThrow(/needs a Windows agent/);
    await expect(
      runAction(
        'dns.query',
        { provider: 'windows', servers: [dc1], questions: [{ name: 'www.corp.example', type: 'A' }] },
        win(run),
      ),
    ).rejects.toThrow(/needs the zone/);
    expect(calls).toEqual([]);
  });
});
