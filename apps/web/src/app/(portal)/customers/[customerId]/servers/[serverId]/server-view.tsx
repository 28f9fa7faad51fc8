'use client';

import Link from 'next/link';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useState, type ReactNode } from 'react';
import { orgRoleAtLeast, type OrgRole } from '@tandem/engine';
import type { ApplicationFacts, Facts } from '@tandem/protocol';
import { Badge, Button, Card, ErrorBanner, Input, PageHeader, tableStyles as t } from '@/components/ui';
import { bytes } from '@/lib/format';
import { timeAgo } from '@/lib/time';
import { describeError, useTRPC } from '@/trpc/client';
import { useBatchedRefresh, useStreamUp } from '@/trpc/live';

const agentTone = { online: 'green', offline: 'red', pending: 'amber', revoked: 'slate', none: 'slate' } as const;


function Section<T>({ title, section, children }: { title: string; section: { status: 'ok'; data: T } | { status: 'unknown'; reason: string }; children: (data: T) => ReactNode }) {
  return (
    <Card className="mb-4">
      <h2 className="mb-2 text-lg font-semibold">{title}</h2>
      {section.status === 'ok' ? (
        children(section.data)
      ) : (
        <p className="text-sm text-amber-700 dark:text-amber-300">Unknown: {section.reason}</p>
      )}
    </Card>
  );
}

function Pairs({ rows }: { rows: [string, ReactNode][] }) {
  return (
    <dl className="grid grid-cols-1 gap-x-6 gap-y-1 text-sm sm:grid-cols-[max-content_1fr]">
      {rows.map(([k, v]) => (
        <div key={k} className="contents">
          <dt className="text-slate-500 dark:text-slate-400">{k}</dt>
          <dd className="break-words">{v}</dd>
        </div>
      ))}
    </dl>
  );
}

export function ServerView({ serverId, staffRole }: { serverId: string; staffRole: OrgRole | null }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const invalidate = () => qc.invalidateQueries({ queryKey: trpc.server.get.queryKey({ serverId }) });
  // Live without reloading: the server's notices (agent came or went, new facts) trigger a
  // refetch; only while that stream is down does the page poll every 5 s.
  const refreshSoon = useBatchedRefresh<'get'>(() => void invalidate(), 300);
  const stream = useStreamUp();
  const live = useSubscription(
    trpc.server.live.subscriptionOptions(
      { serverId },
      {
        onConnectionStateChange: stream.handlers.onConnectionStateChange,
        onError: stream.handlers.onError,
        onData: ({ data }) => {
          stream.handlers.seen(data);
          refreshSoon(['get']);
        },
      },
    ),
  );
  const server = useQuery({ ...trpc.server.get.queryOptions({ serverId }), refetchInterval: stream.up(live.status) ? false : 5_000 });
  const refresh = useMutation(trpc.server.refreshFacts.mutationOptions({ onSuccess: invalidate }));
  const rotate = useMutation(trpc.agent.rotate.mutationOptions({ onSuccess: invalidate }));
  const revoke = useMutation(trpc.agent.revoke.mutationOptions({ onSuccess: invalidate }));
  const canOperate = staffRole !== null && orgRoleAtLeast(staffRole, 'operator');
  const error = [refresh, rotate, revoke].find((m) => m.error)?.error;

  if (server.error) return <ErrorBanner message={describeError(server.error).message} />;
  if (!server.data) return <p className="text-sm text-slate-500">Loading…</p>;
  const s = server.data;
  const active = s.agentStatus !== 'none' && s.agentStatus !== 'revoked';
  return (
    <>
      <p className="mb-2 text-sm">
        <Link href={`/customers/${s.customerId}`} className="text-sky-700 hover:underline dark:text-sky-400">
          ← {s.customerName}
        </Link>
      </p>
      <PageHeader
        title={s.hostname}
        description={[s.osVersion ?? s.osFamily, s.agentVersion ? `agent ${s.agentVersion}` : null].filter(Boolean).join(' · ')}
        actions={
          <div className="flex flex-wrap items-center gap-2">
            <Badge tone={agentTone[s.agentStatus]}>{s.agentStatus === 'none' ? 'no agent' : s.agentStatus}</Badge>
            {s.lastSeenAt && <span className="text-xs text-slate-500">last seen {timeAgo(s.lastSeenAt)}</span>}
            {canOperate && active && (
              <>
                <Button variant="secondary" onClick={() => refresh.mutate({ serverId })} disabled={refresh.isPending || s.agentStatus !== 'online'}>
                  {refresh.isPending ? 'Refreshing…' : 'Refresh facts'}
                </Button>
                <Button variant="secondary" onClick={() => rotate.mutate({ serverId })} disabled={rotate.isPending || s.agentStatus !== 'online'}>
                  Rotate credential
                </Button>
                <Button
                  variant="danger"
                  onClick={() => confirm(`Revoke the agent of ${s.hostname}? It disconnects at once and must be enrolled again.`) && revoke.mutate({ serverId })}
                >
                  Revoke agent
                </Button>
              </>
            )}
          </div>
        }
      />
      <ErrorBanner message={error ? describeError(error).message : null} />
      {rotate.isSuccess && <p className="mb-2 text-sm text-emerald-700 dark:text-emerald-300">New credential delivered to the agent; the old one no longer works.</p>}
      {!s.facts ? (
        <Card>
          <p className="text-sm text-slate-500">No facts reported yet. They arrive when the agent connects.</p>
        </Card>
      ) : (
        <FactsView facts={s.facts} factsAt={s.factsAt} />
      )}
    </>
  );
}

function FactsView({ facts, factsAt }: { facts: Facts; factsAt: string | null }) {
  const [filter, setFilter] = useState('');
  return (
    <>
      <p className="mb-3 text-xs text-slate-500">Facts collected {factsAt ? timeAgo(factsAt) : 'at an unknown time'}.</p>
      <Section title="Host" section={facts.host}>
        {(h) => (
          <Pairs
            rows={[
              ['Hostname', h.hostname],
              ['FQDN', h.fqdn ?? '—'],
              ['Operating system', `${h.osName} (${h.osVersion})`],
              ['Kernel', h.kernel],
              ['CPUs', h.cpuCount],
              ['Memory', bytes(h.memoryBytes)],
              ['Up for', `${Math.floor(h.uptimeSeconds / 86_400)} d ${Math.floor((h.uptimeSeconds % 86_400) / 3600)} h`],
              ['Clock offset', h.clockOffsetMs === null ? 'not measured yet' : `${h.clockOffsetMs} ms`],
            ]}
          />
        )}
      </Section>
      <Section title="Network" section={facts.network}>
        {(n) => (
          <>
            <Pairs rows={[['Default gateway', n.defaultGateway ?? '—'], ['DNS resolvers', n.dnsResolvers.join(', ') || '—']]} />
            <table className={`${t.table} mt-3`}>
              <thead className={t.head}>
                <tr>
                  <th className={t.cell}>Interface</th>
                  <th className={t.cell}>Addresses</th>
                  <th className={t.cell}>MAC</th>
                </tr>
              </thead>
              <tbody>
                {n.interfaces.map((i) => (
                  <tr key={i.name} className={t.row}>
                    <td className={t.cell}>{i.name}</td>
                    <td className={t.cell}>{i.addresses.map((a) => `${a.address}/${a.prefix}`).join(', ') || '—'}</td>
                    <td className={`${t.cell} font-mono text-xs`}>{i.mac ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </Section>
      <Section title="Volumes" section={facts.volumes}>
        {(vs) => (
          <table className={t.table}>
            <thead className={t.head}>
              <tr>
                <th className={t.cell}>Mount</th>
                <th className={t.cell}>File system</th>
                <th className={t.cell}>Size</th>
                <th className={t.cell}>Free</th>
              </tr>
            </thead>
            <tbody>
              {vs.map((v) => (
                <tr key={v.mountPoint} className={t.row}>
                  <td className={t.cell}>{v.mountPoint}</td>
                  <td className={t.cell}>{v.fileSystem ?? '—'}</td>
                  <td className={t.cell}>{bytes(v.sizeBytes)}</td>
                  <td className={t.cell}>{bytes(v.freeBytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <Section title="Applications" section={facts.applications}>
        {(apps) =>
          apps.length === 0 ? (
            <p className="text-sm text-slate-500">None discovered.</p>
          ) : (
            <ul className="space-y-3 text-sm">
              {apps.map((a, i) => (
                <li key={i} className="rounded border border-slate-200 p-2 dark:border-slate-700">
                  <AppSummary app={a} />
                </li>
              ))}
            </ul>
          )
        }
      </Section>
      <Section title="Services" section={facts.services}>
        {(sv) => {
          const shown = sv.services.filter((x) => x.name.toLowerCase().includes(filter.toLowerCase()));
          return (
            <>
              <div className="mb-2 flex items-center gap-2">
                <label htmlFor="service-filter" className="text-sm">
                  Filter
                </label>
                <Input id="service-filter" className="max-w-xs" value={filter} onChange={(e) => setFilter(e.target.value)} />
                <span className="text-xs text-slate-500">
                  {sv.manager} · {shown.length} of {sv.services.length}
                </span>
              </div>
              <div className="max-h-96 overflow-y-auto">
                <table className={t.table}>
                  <thead className={t.head}>
                    <tr>
                      <th className={t.cell}>Service</th>
                      <th className={t.cell}>State</th>
                      <th className={t.cell}>Start mode</th>
                    </tr>
                  </thead>
                  <tbody>
                    {shown.map((x) => (
                      <tr key={x.name} className={t.row}>
                        <td className={t.cell}>{x.name}</td>
                        <td className={t.cell}>
                          <Badge tone={x.state === 'running' ? 'green' : x.state === 'failed' ? 'red' : 'slate'}>{x.state}</Badge>
                        </td>
                        <td className={t.cell}>{x.startMode}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          );
        }}
      </Section>
      <Section title="Cluster" section={facts.cluster}>
        {(c) =>
          c === null ? (
            <p className="text-sm text-slate-500">Not a cluster member.</p>
          ) : (
            <Pairs
              rows={[
                ['Stack', c.stack],
                ['Name', c.name ?? '—'],
                ['Quorum', c.quorate === null ? 'unknown' : c.quorate ? 'yes' : 'no'],
                ['Nodes', c.nodes.map((n) => `${n.name}${n.online ? '' : ' (offline)'}`).join(', ')],
                ['Resources', c.resources.map((r) => `${r.id} (${r.type}${r.node ? ` on ${r.node}` : ''})`).join(', ') || '—'],
              ]}
            />
          )
        }
      </Section>
    </>
  );
}

function AppSummary({ app }: { app: ApplicationFacts }) {
  switch (app.kind) {
    case 'postgresql':
      return (
        <Pairs
          rows={[
            ['PostgreSQL', `${app.version ?? 'version unknown'} · ${app.running ? 'running' : 'stopped'}`],
            ['Data directory', app.dataDirectory],
            ['Port', app.port ?? '—'],
            ['Databases', app.databases?.map((d) => d.name).join(', ') ?? '—'],
            ['Roles', app.roles?.map((r) => r.name).join(', ') ?? '—'],
            ['Settings', Object.entries(app.settings ?? {}).map(([k, v]) => `${k}=${v}`).join(', ') || '—'],
          ]}
        />
      );
    case 'mariadb':
      return (
        <Pairs
          rows={[
            [app.flavor === 'mysql' ? 'MySQL' : 'MariaDB', `${app.version ?? 'version unknown'} · ${app.running ? 'running' : 'stopped'}`],
            ['Data directory', app.dataDirectory],
            ['Port', app.port ?? '—'],
            ['Server id', app.serverId ?? '—'],
            ['Binary log', app.binlog ? `${app.binlog.enabled ? 'on' : 'off'}${app.binlog.format ? ` (${app.binlog.format})` : ''}` : '—'],
            ['Databases', app.databases?.join(', ') ?? '—'],
            ['Users', app.users?.map((u) => `${u.user}@${u.host}`).join(', ') ?? '—'],
          ]}
        />
      );
    case 'file_server':
      return <Pairs rows={app.shares.map((s) => [`${s.protocol.toUpperCase()} ${s.name}`, s.path] as [string, ReactNode])} />;
    case 'sql_server':
      return (
        <Pairs
          rows={[
            ['SQL Server', `${app.instance} · ${app.version ?? ''} ${app.edition ?? ''} · ${app.running ? 'running' : 'stopped'}`],
            ['Databases', app.databases.map((d) => `${d.name}${d.recoveryModel ? ` (${d.recoveryModel})` : ''}`).join(', ')],
          ]}
        />
      );
    case 'exchange':
      return (
        <Pairs
          rows={[
            ['Exchange', `${app.version ?? 'version unknown'} · roles ${app.roles.join(', ')}`],
            ['Databases', app.databases.map((d) => `${d.name}${d.mounted === false ? ' (dismounted)' : ''}`).join(', ')],
          ]}
        />
      );
  }
}
