import type { FindingSide } from './model.ts';
import type { FactsSnapshot, NodeFacts } from './snapshot.ts';

// The facts a check may declare (catalogue §1.7), and how each is found in a snapshot. A check
// lists its keys; before evaluate runs, every key must resolve to something other than
// `undefined`, or the check is unknown with the reason of the first missing one. Node keys take
// S. (source), T. (target) or N. (the side being evaluated; both sides for pair checks).

export const nodeFactKeys = [
  'agent',
  'agent.version',
  'agent.protocol',
  'agent.account',
  'agent.modules',
  'agent.clock',
  'agent.cert',
  'agent.dataPort',
  'agent.appAccess',
  'time',
  'hooks',
  'os',
  'hw',
  'vol',
  'paths',
  'net',
  'firewall',
  'listening',
  'hostsFile',
  'svc',
  'proc.openFiles',
  'cloud',
  'app.postgres',
  'app.mariadb',
  'app.fileserver',
  'app.sqlserver',
  'app.exchange',
  'app.sharepoint',
  'app.generic',
] as const;
export type NodeFactKey = (typeof nodeFactKeys)[number];

export const otherFactKeys = [
  'P',
  'R.connections',
  'R.monitors',
  'R.mirror',
  'R.lag',
  'R.changeRate',
  'R.checksumOption',
  'R.recoveryPoints',
  'R.drills',
  'R.runbookTimings',
  'R.channelProbe',
  'R.monitorProbe',
  'R.restoreRequired',
  'R.pendingFailover',
  'D',
  'A',
  'C',
  'C.src',
  'C.tgt',
  'V',
  'X',
] as const;
export type OtherFactKey = (typeof otherFactKeys)[number];

export type FactKey = `${'S' | 'T' | 'N'}.${NodeFactKey}` | OtherFactKey;

/** Which collector fills a node key (for the unknown reason: `failures[collector]`). */
const collectorOf: Record<NodeFactKey, string> = {
  agent: 'agent',
  'agent.version': 'agent',
  'agent.protocol': 'agent',
  'agent.account': 'account',
  'agent.modules': 'modules',
  'agent.clock': 'agent',
  'agent.cert': 'agent',
  'agent.dataPort': 'agent',
  'agent.appAccess': 'appAccess',
  time: 'time',
  hooks: 'hooks',
  os: 'host',
  hw: 'host',
  vol: 'volumes',
  paths: 'paths',
  net: 'interfaces',
  firewall: 'firewall',
  listening: 'listening',
  hostsFile: 'hostsFile',
  svc: 'services',
  'proc.openFiles': 'openFiles',
  cloud: 'cloud',
  'app.postgres': 'postgres',
  'app.mariadb': 'mariadb',
  'app.fileserver': 'fileserver',
  'app.sqlserver': 'sqlserver',
  'app.exchange': 'exchange',
  'app.sharepoint': 'sharepoint',
  'app.generic': 'generic',
};

function nodeValue(n: NodeFacts, key: NodeFactKey): unknown {
  const a = n.agent;
  switch (key) {
    case 'agent':
      return a;
    case 'agent.version':
      return a && (a.version ?? null);
    case 'agent.protocol':
      return a && (a.protocolVersion ?? null);
    case 'agent.account':
      return n.account;
    case 'agent.modules':
      return n.modules;
    case 'agent.clock':
      return a && a.clockOffsetMs !== null ? a.clockOffsetMs : undefined;
    case 'agent.cert':
      return a && a.certNotAfter;
    case 'agent.dataPort':
      return a && a.dataPort;
    case 'agent.appAccess':
      return n.appAccess;
    case 'time':
      return n.time;
    case 'hooks':
      return n.hooks;
    case 'os':
      return n.os;
    case 'hw':
      return n.hw;
    case 'vol':
      return n.volumes;
    case 'paths':
      return n.paths;
    case 'net':
      return n.interfaces;
    case 'firewall':
      return n.firewall;
    case 'listening':
      return n.listening;
    case 'hostsFile':
      return n.hostsFile;
    case 'svc':
      return n.services;
    case 'proc.openFiles':
      return n.openFiles;
    case 'cloud':
      return n.cloud;
    case 'app.postgres':
      return n.apps.postgres;
    case 'app.mariadb':
      return n.apps.mariadb;
    case 'app.fileserver':
      return n.apps.fileserver;
    case 'app.sqlserver':
      return n.apps.sqlserver;
    case 'app.exchange':
      return n.apps.exchange;
    case 'app.sharepoint':
      return n.apps.sharepoint;
    case 'app.generic':
      return n.apps.generic;
  }
}

function otherValue(s: FactsSnapshot, key: OtherFactKey): unknown {
  const r = s.replication;
  switch (key) {
    case 'P':
      return s.pair;
    case 'R.connections':
      return r.connections;
    case 'R.monitors':
      return r.monitors;
    case 'R.mirror':
      return r.mirror ?? undefined;
    case 'R.lag':
      return r.lag ?? undefined;
    case 'R.changeRate':
      return r.changeRateBytesPerDay ?? undefined;
    case 'R.checksumOption':
      return r.checksumOption ?? undefined;
    case 'R.recoveryPoints':
      return r.recoveryPoints ?? undefined;
    case 'R.drills':
      return r.drills;
    case 'R.runbookTimings':
      return r.runbookP95Seconds ?? undefined;
    case 'R.channelProbe':
      return r.channelProbe ?? undefined;
    case 'R.monitorProbe':
      return r.monitorProbe ?? undefined;
    case 'R.restoreRequired':
      return r.restoreRequired;
    case 'R.pendingFailover':
      return r.pendingFailover;
    case 'D':
      // A dry run that timed out or reached no server holds no DNS data to judge: its gate
      // (dns.validation-timeout, dns.provider-unreachable) reports it and dependants are unknown.
      return s.dns && !s.dns.timedOut && s.dns.attempts.some((a) => a.answered) ? s.dns : undefined;
    case 'A':
      // Likewise a probe that could not bind (directory.unreachable reports it).
      return s.directory && s.directory.reachable ? s.directory : undefined;
    case 'C':
      return s.cluster;
    case 'C.src':
      return s.cluster?.source;
    case 'C.tgt':
      return s.cluster?.target;
    case 'V':
      return s.vault;
    case 'X':
      return s.reference;
  }
}

/** Why a key is missing, or null when it resolves. */
export function missingFact(s: FactsSnapshot, key: FactKey, side: FindingSide): string | null {
  const dot = key.indexOf('.');
  const prefix = key.slice(0, dot);
  if (prefix === 'S' || prefix === 'T' || prefix === 'N') {
    const nodeKey = key.slice(dot + 1) as NodeFactKey;
    const sides: ('source' | 'target')[] = prefix === 'S' ? ['source'] : prefix === 'T' ? ['target'] : side === 'none' ? ['source', 'target'] : [side];
    for (const sd of sides) {
      const node = s[sd];
      if (!node) return `the ${sd} agent did not answer (${s.gatherers[sd]?.error ?? 'not asked'})`;
      if (nodeValue(node, nodeKey) === undefined) {
        const collector = collectorOf[nodeKey];
        return `${collector} facts of the ${sd} are unknown: ${node.failures[collector] ?? 'not collected'}`;
      }
    }
    return null;
  }
  if (otherValue(s, key as OtherFactKey) !== undefined) return null;
  const gatherer = key.startsWith('D') ? 'dns' : key.startsWith('A') ? 'directory' : key.startsWith('C') ? 'cluster' : null;
  const why =
    key === 'D' && s.dns
      ? s.dns.timedOut
        ? 'the DNS dry run ran out of its time budget'
        : 'no DNS server answered the dry run'
      : key === 'A' && s.directory && !s.directory.reachable
        ? `the directory probe could not bind${s.directory.error ? `: ${s.directory.error}` : ''}`
        : gatherer
          ? s.gatherers[gatherer]?.error
          : null;
  return `${key} is unknown${why ? `: ${why}` : ' (not collected)'}`;
}
