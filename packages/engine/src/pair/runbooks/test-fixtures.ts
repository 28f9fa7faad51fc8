import { pairSettingsSchema, type PairSettings, type PairSettingsInput } from '../settings.ts';
import type { DnsRRset } from '../../dns/records.ts';
import { stepFromRow, stepToRow, type Runbook } from '../plans.ts';
import type { RunbookServer } from './common.ts';

// Shared test data for the runbook planners (not a test file itself).

export const source = (over: Partial<RunbookServer> = {}): RunbookServer => ({
  id: '00000000-0000-4000-8000-000000000001',
  hostname: 'fs01',
  fqdn: 'fs01.corp.example.com',
  osFamily: 'linux',
  agentOnline: true,
  interfaces: [
    {
      name: 'eth0',
      addresses: [
        { address: '10.0.0.5', prefix: 24 },
        { address: '10.0.0.50', prefix: 24 },
      ],
    },
  ],
  ...over,
});
export const target = (over: Partial<RunbookServer> = {}): RunbookServer => ({
  id: '00000000-0000-4000-8000-000000000002',
  hostname: 'fs02',
  fqdn: 'fs02.corp.example.com',
  osFamily: 'linux',
  agentOnline: true,
  interfaces: [
    { name: 'lo', addresses: [{ address: '127.0.0.1', prefix: 8 }] },
    { name: 'eth0', addresses: [{ address: '10.0.0.6', prefix: 24 }] },
    { name: 'eth1', addresses: [{ address: '192.168.7.6', prefix: 24 }] },
  ],
  ...over,
});

type Over = { [K in keyof PairSettingsInput]?: Partial<PairSettingsInput[K]> };

export function settings(over: Over = {}): PairSettings {
  const base: PairSettingsInput = {
    name: 'Main file server',
    application: 'file_server',
    replicationSet: { roots: ['/srv/data'] },
    failover: { monitor: { addresses: ['10.0.0.5'] }, services: ['smbd', 'nmbd'], extraServices: ['clamd'] },
    connection: { route: '10.0.0.6', targetRoot: '/' },
    dns: {
      servers: ['10.0.0.2', '10.0.0.3:5353'],
      zone: 'corp.example.com',
      addressMap: [{ source: '10.0.0.5', target: '10.0.0.6' }],
      ttlSeconds: 60,
      credentialId: '00000000-0000-4000-8000-0000000000aa',
    },
    hooks: {},
  };
  const merged = Object.fromEntries(
    Object.entries(base).map(([k, v]) => [
      k,
      typeof v === 'object' && v && !Array.isArray(v)
        ? { ...v, ...(over as Record<string, object>)[k] }
        : ((over as Record<string, unknown>)[k] ?? v),
    ]),
  );
  for (const [k, v] of Object.entries(over)) if (!(k in merged)) (merged as Record<string, unknown>)[k] = v;
  return pairSettingsSchema.parse(merged);
}

export const rr = (name: string, type: DnsRRset['type'], ttl: number, records: DnsRRset['records']): DnsRRset => ({
  name,
  type,
  ttl,
  records,
});
export const A = (address: string) => ({ type: 'A' as const, address });
export const AAAA = (address: string) => ({ type: 'AAAA' as const, address });
export const CNAME = (t: string) => ({ type: 'CNAME' as const, target: t });
export const PTR = (t: string) => ({ type: 'PTR' as const, target: t });
export const MX = (preference: number, exchange: string) => ({ type: 'MX' as const, preference, exchange });

/** Every step read back from its stored row (JSON, as the database keeps it); errors as strings. */
export function readBack(runbook: Runbook): unknown[] {
  return runbook.steps.map((s) => {
    const row = JSON.parse(JSON.stringify(stepToRow(s))) as Parameters<typeof stepFromRow>[0];
    const back = stepFromRow(row);
    return back.ok ? back.step : back.error;
  });
}
