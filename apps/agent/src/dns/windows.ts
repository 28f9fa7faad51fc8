// The windows DNS provider: Active Directory-integrated zones that accept only secure (Kerberos)
// updates, changed through PowerShell's DnsServer cmdlets on a Windows agent. Same operations and
// desired-state rules as rfc2136 (desired.ts): read, compare with before/after, change, re-read.
// - Each cmdlet targets the server with -ComputerName, or with -CimSession when a domain account is
//   given (a PSCredential; its password goes to PowerShell on stdin, never on the command line).
// - Servers in order: the next one when reading from a server fails; changes go to the server read.
// - The cmdlets have no prerequisites, so the change script re-reads and checks each RRset still
//   holds `before` right before touching anything, and on a failure part-way puts back what it
//   removed (best effort). That narrows the window a concurrent change could slip through; it
//   cannot close it like an RFC 2136 prerequisite does.
import type { ActionArgs } from '@tandem/protocol';
import type { CommandRunner } from '../exec.ts';
import { clip, errorMessage, isRecord, num, parseJson, powerShellArgs, psQuote, str, toArray } from '../facts/util.ts';
import {
  canonicalRecord,
  changedBehind,
  classify,
  describeRRset,
  groupByZone,
  groupRRsets,
  recordText,
  type Current,
  type DnsChange,
  type DnsRecord,
  type DnsType,
} from './desired.ts';

type Target = ActionArgs<'dns.query'> | ActionArgs<'dns.transfer'> | ActionArgs<'dns.apply'>;
type Server = Target['servers'][number];

const lower = (n: string) => n.replace(/\.$/, '').toLowerCase();

/** A name relative to its zone, as the cmdlets want it ("@" for the zone's apex). */
export function relativeName(name: string, zone: string): string {
  const n = lower(name);
  const z = lower(zone);
  if (n === z) return '@';
  if (!n.endsWith(`.${z}`)) throw new Error(`${name} is not in zone ${zone}`);
  return n.slice(0, -(z.length + 1));
}

function absoluteName(hostName: string, zone: string): string {
  const h = lower(hostName);
  return h === '@' || h === '' ? lower(zone) : `${h}.${lower(zone)}`;
}

// Helpers every script starts with. Tandem-Key writes a record's data the way recordText does.
const HELPERS = [
  'function Tandem-Key($r) {',
  '  $d = $r.RecordData',
  '  switch ($r.RecordType) {',
  "    'A' { $d.IPv4Address.IPAddressToString }",
  "    'AAAA' { $d.IPv6Address.IPAddressToString }",
  "    'CNAME' { $d.HostNameAlias.TrimEnd('.').ToLower() }",
  "    'PTR' { $d.PtrDomainName.TrimEnd('.').ToLower() }",
  "    'MX' { '{0} {1}' -f $d.Preference, $d.MailExchange.TrimEnd('.').ToLower() }",
  '  }',
  '}',
  '# A name without records of the type is an empty set, not an error.',
  'function Tandem-Get([scriptblock]$get) {',
  "  try { @(& $get) } catch { if ($_.CategoryInfo.Category -eq 'ObjectNotFound') { @() } else { throw } }",
  '}',
  'function Tandem-Set($rs) { @($rs | ForEach-Object { [pscustomobject]@{ Ttl = [int]$_.TimeToLive.TotalSeconds; Data = (Tandem-Key $_) } }) }',
];

/** The script for one server: the account's CIM session around the body when an account is given. */
function script(server: Server, account: Target['account'], body: (target: string) => string[]): string {
  if (!account) return [...HELPERS, ...body(`-ComputerName ${psQuote(server.host)}`)].join('\n');
  return [
    ...HELPERS,
    '$password = ConvertTo-SecureString ([Console]::In.ReadLine()) -AsPlainText -Force',
    `$credential = New-Object System.Management.Automation.PSCredential(${psQuote(account.user)}, $password)`,
    `$cim = New-CimSession -ComputerName ${psQuote(server.host)} -Credential $credential`,
    'try {',
    ...body('-CimSession $cim'),
    '} finally {',
    '  Remove-CimSession $cim',
    '}',
  ].join('\n');
}

async function runScript(run: CommandRunner, name: string, text: string, a: Target): Promise<unknown> {
  const result = await run('powershell.exe', powerShellArgs(name, text), {
    timeoutMs: a.timeoutMs,
    ...(a.account ? { input: `${a.account.password}\n` } : {}),
  });
  if (result.code !== 0) throw new Error(clip(result.stderr.trim() || result.stdout.trim() || `exit ${result.code}`, 1000));
  try {
    return parseJson(result.stdout);
  } catch (e) {
    throw new Error(`PowerShell ${name} printed invalid JSON: ${errorMessage(e)}`);
  }
}

/** Runs `attempt` against each server in order until one succeeds. */
async function firstServer<T>(
  a: Target,
  what: string,
  attempt: (server: Server) => Promise<T>,
): Promise<{ server: Server; value: T }> {
  const failures: string[] = [];
  for (const server of a.servers) {
    try {
      return { server, value: await attempt(server) };
    } catch (err) {
      failures.push(`${server.host}: ${errorMessage(err)}`);
    }
  }
  throw new Error(`${what} failed on every DNS server: ${failures.join('; ')}`);
}

function recordFrom(type: DnsType, data: string): DnsRecord {
  switch (type) {
    case 'A':
    case 'AAAA':
      return canonicalRecord({ type, address: data });
    case 'CNAME':
    case 'PTR':
      return canonicalRecord({ type, target: data });
    case 'MX': {
      const [preference = '', exchange = ''] = data.split(' ');
      return canonicalRecord({ type: 'MX', preference: Number(preference), exchange });
    }
  }
}

function readLine(q: { name: string; type: DnsType }, zone: string, target: string): string {
  return `  [pscustomobject]@{ Name = ${psQuote(q.name)}; Type = '${q.type}'; Records = (Tandem-Set (Tandem-Get { Get-DnsServerResourceRecord -ZoneName ${psQuote(zone)} -Name ${psQuote(relativeName(q.name, zone))} -RRType ${q.type} ${target} })) }`;
}

/** Reads the RRsets of one zone from one server. */
async function readSets(
  run: CommandRunner,
  a: Target,
  server: Server,
  zone: string,
  questions: { name: string; type: DnsType }[],
) {
  const out = await runScript(
    run,
    'dns-read',
    script(server, a.account, (target) => [
      '$out = @(',
      ...questions.map((q) => readLine(q, zone, target)),
      ')',
      'ConvertTo-Json -Depth 5 -Compress -InputObject $out',
    ]),
    a,
  );
  const rows = toArray(out).filter(isRecord);
  return questions.map((q): Current => {
    const row = rows.find((r) => str(r.Name)?.toLowerCase() === q.name.toLowerCase() && str(r.Type) === q.type);
    if (!row) throw new Error(`PowerShell dns-read printed no answer for ${q.name} ${q.type}`);
    const records = toArray(row.Records).filter(isRecord);
    return {
      ttl: num(records[0]?.Ttl) ?? 0,
      records: records.map((r) => recordFrom(q.type, str(r.Data) ?? '')),
    };
  });
}

export async function windowsDnsQuery(run: CommandRunner, a: ActionArgs<'dns.query'>) {
  const zone = a.zone;
  if (!zone) throw new Error('the windows DNS provider needs the zone of the questions (the cmdlets work per zone)');
  const { server, value } = await firstServer(a, 'Reading DNS records', (s) => readSets(run, a, s, zone, a.questions));
  return {
    server: server.host,
    rrsets: a.questions.map((q, i) => ({
      name: q.name,
      type: q.type,
      ttl: value[i]!.ttl,
      records: value[i]!.records,
      // The cmdlets do not tell a missing name from a name without this type: both read as an
      // empty answer (NOERROR, no records), as a DNS server answers a name without this type.
      rcode: 'NOERROR',
    })),
  };
}

export async function windowsDnsTransfer(run: CommandRunner, a: ActionArgs<'dns.transfer'>) {
  const { server, value } = await firstServer(a, `Reading zone ${a.zone}`, (s) =>
    runScript(
      run,
      'dns-zone',
      script(s, a.account, (target) => [
        `$all = @(Get-DnsServerResourceRecord -ZoneName ${psQuote(a.zone)} ${target} | Where-Object { $_.RecordType -in @('A', 'AAAA', 'CNAME', 'MX', 'PTR') })`,
        '$out = @($all | ForEach-Object { [pscustomobject]@{ Name = $_.HostName; Type = $_.RecordType; Ttl = [int]$_.TimeToLive.TotalSeconds; Data = (Tandem-Key $_) } })',
        'ConvertTo-Json -Depth 4 -Compress -InputObject $out',
      ]),
      a,
    ),
  );
  const types = new Set<string>(['A', 'AAAA', 'CNAME', 'MX', 'PTR']);
  const answers = toArray(value)
    .filter(isRecord)
    .flatMap((r) => {
      const type = str(r.Type);
      const name = str(r.Name);
      const data = str(r.Data);
      if (!type || !types.has(type) || name === null || data === null) return [];
      return [
        {
          name: absoluteName(name, a.zone),
          type: type as DnsType,
          ttl: num(r.Ttl) ?? 0,
          record: recordFrom(type as DnsType, data),
        },
      ];
    });
  return { server: server.host, ...groupRRsets(answers) };
}

function addLine(c: DnsChange, record: DnsRecord, target: string): string {
  const zone = `-ZoneName ${psQuote(c.zone)} -Name ${psQuote(relativeName(c.name, c.zone))}`;
  const ttl = `-TimeToLive ([TimeSpan]::FromSeconds(${c.after.ttl}))`;
  switch (record.type) {
    case 'A':
      return `Add-DnsServerResourceRecordA ${zone} -IPv4Address ${psQuote(record.address)} ${ttl} ${target}`;
    case 'AAAA':
      return `Add-DnsServerResourceRecordAAAA ${zone} -IPv6Address ${psQuote(record.address)} ${ttl} ${target}`;
    case 'CNAME':
      return `Add-DnsServerResourceRecordCName ${zone} -HostNameAlias ${psQuote(record.target)} ${ttl} ${target}`;
    case 'PTR':
      return `Add-DnsServerResourceRecordPtr ${zone} -PtrDomainName ${psQuote(record.target)} ${ttl} ${target}`;
    case 'MX':
      return `Add-DnsServerResourceRecordMX ${zone} -MailExchange ${psQuote(record.exchange)} -Preference ${record.preference} ${ttl} ${target}`;
  }
}

/** One zone's changes: check every RRset still holds `before`, then replace each with `after`. */
function changeScript(zone: string, pending: DnsChange[], target: string): string[] {
  const get = (c: DnsChange) =>
    `Tandem-Get { Get-DnsServerResourceRecord -ZoneName ${psQuote(zone)} -Name ${psQuote(relativeName(c.name, zone))} -RRType ${c.type} ${target} }`;
  const remove = (v: string) =>
    `if (${v}.Count -gt 0) { ${v} | Remove-DnsServerResourceRecord -ZoneName ${psQuote(zone)} -Force ${target} }`;
  return [
    'function Tandem-Expect($rs, [string]$what, [string[]]$keys) {',
    "  $have = (@($rs | ForEach-Object { Tandem-Key $_ }) | Sort-Object) -join ', '",
    "  $want = (@($keys) | Sort-Object) -join ', '",
    '  if ($have -ne $want) { throw "TANDEM-CONFLICT $what holds: $have" }',
    '}',
    ...pending.map((c, i) => `$c${i} = @(${get(c)})`),
    ...pending.map(
      (c, i) =>
        `Tandem-Expect $c${i} ${psQuote(`${c.name} ${c.type}`)} @(${c.before.records.map((r) => psQuote(recordText(r))).join(', ')})`,
    ),
    'try {',
    ...pending.flatMap((c, i) => [`  ${remove(`$c${i}`)}`, ...c.after.records.map((r) => `  ${addLine(c, r, target)}`)]),
    '} catch {',
    '  $failure = $_',
    '  # Put back what was there (best effort), so a failure leaves the zone as it was found.',
    ...pending.map(
      (c, i) =>
        `  try { $now = @(${get(c)}); ${remove('$now')}; $c${i} | ForEach-Object { Add-DnsServerResourceRecord -ZoneName ${psQuote(zone)} -InputObject $_ ${target} } } catch { }`,
    ),
    '  throw $failure',
    '}',
    `ConvertTo-Json -Compress -InputObject @{ changed = ${pending.length} }`,
  ];
}

export async function windowsDnsApply(run: CommandRunner, a: ActionArgs<'dns.apply'>) {
  const zones = groupByZone(a.changes);
  // Read every zone from the first server that answers; that server gets the changes.
  const { server, value: current } = await firstServer(a, 'Reading DNS records', async (s) => {
    const map = new Map<DnsChange, Current>();
    for (const [zone, changes] of zones) {
      const sets = await readSets(run, a, s, zone, changes);
      changes.forEach((c, i) => map.set(c, sets[i]!));
    }
    return map;
  });
  const conflicts = a.changes.filter((c) => classify(c, current.get(c)!) === 'conflict');
  if (conflicts.length > 0) throw changedBehind(conflicts.map((c) => ({ change: c, current: current.get(c)! })));

  const outcome = new Map<DnsChange, 'changed' | 'already'>();
  const updated: string[] = [];
  for (const [zone, changes] of zones) {
    const pending = changes.filter((c) => classify(c, current.get(c)!) === 'before');
    for (const c of changes) if (!pending.includes(c)) outcome.set(c, 'already');
    if (pending.length === 0) continue;
    const tail =
      updated.length === 0
        ? ''
        : ` Zone(s) ${updated.join(', ')} were already changed (running the same changes again finishes the rest).`;
    try {
      await runScript(
        run,
        'dns-change',
        script(server, a.account, (target) => changeScript(zone, pending, target)),
        a,
      );
    } catch (err) {
      const message = errorMessage(err);
      if (message.includes('TANDEM-CONFLICT')) {
        const now = await readSets(run, a, server, zone, pending);
        const found = pending.map((c, i) => ({ change: c, current: now[i]! }));
        const moved = found.filter((x) => classify(x.change, x.current) !== 'before');
        throw changedBehind(moved.length > 0 ? moved : found, `Zone ${zone} was not changed.${tail}`);
      }
      throw new Error(`Changing zone ${zone} on ${server.host} failed: ${message}.${tail}`, { cause: err });
    }
    updated.push(zone);
    const after = await readSets(run, a, server, zone, pending);
    pending.forEach((c, i) => {
      if (classify(c, after[i]!) !== 'already') {
        throw new Error(
          `The DNS server ${server.host} took the change of zone ${zone} but ${c.name} ${c.type} holds ${describeRRset(after[i]!)} instead of ${describeRRset(c.after)}`,
        );
      }
      outcome.set(c, 'changed');
    });
  }
  return {
    server: server.host,
    changes: a.changes.map((c) => ({ zone: c.zone, name: c.name, type: c.type, outcome: outcome.get(c)! })),
  };
}
