'use client';

// "Discover records": asks the DNS executor's agent what the zone holds for the source (its
// names, CNAMEs pointing at them, MX naming it, PTR of its addresses) and lets the operator tick
// the records that move at failover. The ticked ones are settings.dns.records.
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { settingsHelp } from '@tandem/engine';
import { Button } from '../ui';
import { FieldError, HelpText } from './form-bits';
import { P, type Dns } from './types';
import { describeError, useTRPC } from '@/trpc/client';

type RecordRef = Dns['records'][number];

/** Which pair (or wizard choice) the discovery is for. */
export interface DnsDiscoveryContext {
  sourceServerId: string;
  targetServerId: string;
}

export interface DiscoveredRecordView {
  zone: string;
  name: string;
  type: RecordRef['type'];
  /** The current answers as a person reads them. */
  values: string[];
  reason: string;
}

type DiscoverInput = {
  sourceServerId: string;
  targetServerId: string;
  dns: Pick<Dns, 'servers' | 'zone' | 'credentialId' | 'provider' | 'executorServerId'>;
};

const keyOf = (r: { zone: string; name: string; type: string }) => `${r.zone.toLowerCase()}|${r.name.toLowerCase()}|${r.type}`;

export function DnsRecordsPicker({
  dns,
  onChange,
  discovery,
  error,
}: {
  dns: Dns;
  onChange: (records: RecordRef[]) => void;
  discovery: DnsDiscoveryContext | null;
  error?: string;
}) {
  const trpc = useTRPC();
  // Asked on the button only (the agent transfers the zone): the input is what the button sent.
  const [asked, setAsked] = useState<DiscoverInput | null>(null);
  const discover = useQuery({
    ...trpc.pair.dnsDiscover.queryOptions(asked ?? { sourceServerId: '', targetServerId: '', dns: { servers: [], zone: '', credentialId: null, provider: 'rfc2136', executorServerId: null } }),
    enabled: !!asked,
    staleTime: Infinity,
    refetchOnWindowFocus: false,
    retry: false,
  });
  const pending = !!asked && discover.isFetching;
  const found: DiscoveredRecordView[] = (asked && discover.data?.records) || [];
  const picked = new Set(dns.records.map(keyOf));
  // Picked earlier but not in this discovery (or not discovered yet): still listed so they can be unticked.
  const others = dns.records.filter((r) => !found.some((f) => keyOf(f) === keyOf(r)));
  const toggle = (r: RecordRef, on: boolean) =>
    onChange(on ? [...dns.records, { zone: r.zone, name: r.name, type: r.type }] : dns.records.filter((x) => keyOf(x) !== keyOf(r)));
  const ready = !!discovery && dns.servers.length > 0 && !!dns.zone;
  return (
    <div className="space-y-2" role="group" aria-labelledby={`${P}-dns-records-label`} data-testid="dns-records-picker">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <p id={`${P}-dns-records-label`} className="text-sm font-medium">
          Records that move at failover
        </p>
        <Button
          type="button"
          variant="secondary"
          disabled={!ready || pending}
          onClick={() => {
            if (!discovery) return;
            const next: DiscoverInput = {
              sourceServerId: discovery.sourceServerId,
              targetServerId: discovery.targetServerId,
              dns: { servers: dns.servers, zone: dns.zone, credentialId: dns.credentialId, provider: dns.provider, executorServerId: dns.executorServerId },
            };
            if (JSON.stringify(next) === JSON.stringify(asked)) void discover.refetch();
            else setAsked(next);
          }}
        >
          {pending ? 'Discovering…' : 'Discover records'}
        </Button>
      </div>
      {!ready && (
        <p className="text-sm text-slate-500 dark:text-slate-400">Enter the DNS servers and the zone first; then discover what they hold.</p>
      )}
      {asked && discover.error && <FieldError message={`Discovery failed: ${describeError(discover.error).message}`} />}
      {asked && discover.isSuccess && discover.data.truncated && (
        <p className="text-sm text-amber-800 dark:text-amber-300">The zone is large: only part of it was read, so some records may be missing.</p>
      )}
      {asked &&
        discover.data?.reverseZones
          .filter((z) => !z.transferred)
          .map((z) => (
            <p key={z.zone} className="text-xs text-slate-500 dark:text-slate-400">
              Reverse zone {z.zone} not read: {z.reason ?? 'no reason given'} (no PTR records from it).
            </p>
          ))}
      {asked && discover.isSuccess && found.length === 0 && (
        <p className="text-sm text-slate-600 dark:text-slate-400">The zone holds no records for the source.</p>
      )}
      {(found.length > 0 || others.length > 0) && (
        <ul className="divide-y divide-slate-100 rounded-md border border-slate-200 text-sm dark:divide-slate-800 dark:border-slate-700">
          {found.map((r) => (
            <RecordRow key={keyOf(r)} r={r} checked={picked.has(keyOf(r))} onToggle={(on) => toggle(r, on)} />
          ))}
          {others.map((r) => (
            <RecordRow
              key={keyOf(r)}
              r={{ ...r, values: [], reason: asked && discover.isSuccess ? 'Not found by the last discovery' : 'Picked earlier' }}
              checked
              onToggle={(on) => toggle(r, on)}
            />
          ))}
        </ul>
      )}
      {!error && <HelpText>{settingsHelp.dnsRecords}</HelpText>}
      <FieldError message={error} />
    </div>
  );
}

function RecordRow({ r, checked, onToggle }: { r: DiscoveredRecordView; checked: boolean; onToggle: (on: boolean) => void }) {
  const label = `${r.name} ${r.type}`;
  return (
    <li className="flex items-start gap-2 px-2 py-1.5" data-record={label}>
      <input
        type="checkbox"
        className="mt-0.5 h-4 w-4 accent-sky-700"
        aria-label={`Move ${label}`}
        checked={checked}
        onChange={(e) => onToggle(e.target.checked)}
      />
      <span className="min-w-0 flex-1">
        <span className="font-mono text-xs">
          {r.name} <span className="font-semibold">{r.type}</span>
          {r.values.length > 0 && <span className="text-slate-600 dark:text-slate-300"> → {r.values.join(', ')}</span>}
        </span>
        <span className="block text-xs text-slate-500 dark:text-slate-400">
          {r.reason}
          {r.zone ? ` · zone ${r.zone}` : ''}
        </span>
      </span>
    </li>
  );
}
