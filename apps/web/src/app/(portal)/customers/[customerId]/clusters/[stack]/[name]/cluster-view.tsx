'use client';

// One cluster: its nodes and the agents on them, every resource and where it runs, constraints,
// fencing; the saved configuration versions with a diff between any two; "Take snapshot now";
// and a restore of a version: a dry run listing the steps in order, then the cluster's name
// typed to confirm. Operation timelines are the pair pages' (pair.operation reads any operation).
import Link from 'next/link';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import type { ClusterStack } from '@tandem/engine';
import { Badge, Button, Card, ErrorBanner, Field, Input, PageHeader, tableStyles as t } from '@/components/ui';
import { bytes } from '@/lib/format';
import { timeAgo } from '@/lib/time';
import { describeError, useTRPC } from '@/trpc/client';
import { Modal } from '../../../pairs/[pairId]/modal';
import { OperationTimeline } from '../../../pairs/[pairId]/operation-timeline';
import { FencingBadge, stackLabels } from '../../clusters-view';
import { DiffView } from './diff-view';

const reasonLabels: Record<string, string> = {
  scheduled: 'Scheduled',
  before_failover: 'Before a failover',
  before_failback: 'Before a failback',
  manual: 'Taken by hand',
  before_restore: 'Before a restore',
};
const when = (iso: string) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const opLabels: Record<string, string> = { cluster_backup: 'Configuration backup', cluster_restore: 'Configuration restore' };

export function ClusterView({
  customerId,
  stack,
  name,
  canOperate,
}: {
  customerId: string;
  stack: ClusterStack;
  name: string;
  canOperate: boolean;
}) {
  const trpc = useTRPC();
  const key = { customerId, stack, name };
  const cluster = useQuery({ ...trpc.cluster.get.queryOptions(key), refetchInterval: 10_000 });
  const versions = useQuery({ ...trpc.cluster.versions.queryOptions(key), refetchInterval: 15_000 });
  const [shownOp, setShownOp] = useState<string | null>(null);

  if (cluster.error) return <ErrorBanner message={describeError(cluster.error).message} />;
  if (!cluster.data) return <p className="text-sm text-slate-500">Loading…</p>;
  const c = cluster.data;
  return (
    <>
      <PageHeader
        title={c.name}
        description={`${stackLabels[c.stack] ?? c.stack} · facts from ${c.reportedBy}${c.factsAt ? `, ${timeAgo(c.factsAt)}` : ''}`}
        actions={
          <div className="flex flex-wrap items-center gap-2">
            <Link href={`/customers/${customerId}/clusters`} className="text-sm text-sky-700 hover:underline dark:text-sky-400">
              All clusters
            </Link>
            {canOperate && <SnapshotButton clusterKey={key} onStarted={setShownOp} />}
          </div>
        }
      />
      <div className="mb-4 flex flex-wrap items-center gap-2 text-sm">
        {c.quorate === null ? (
          <Badge tone="slate">Quorum unknown</Badge>
        ) : (
          <Badge tone={c.quorate ? 'green' : 'red'}>{c.quorate ? 'Quorate' : 'No quorum'}</Badge>
        )}
        <FencingBadge fencing={c.fencing} />
      </div>
      {shownOp && (
        <Card className="mb-4">
          <div className="mb-2 flex items-center justify-between">
            <h2 className="text-lg font-semibold">Operation</h2>
            <Button variant="ghost" onClick={() => setShownOp(null)}>
              Close
            </Button>
          </div>
          <OperationTimeline operationId={shownOp} live={false} />
        </Card>
      )}
      <Card className="mb-4">
        <h2 className="mb-2 text-lg font-semibold">Nodes</h2>
        <table className={t.table} data-testid="cluster-nodes">
          <thead className={t.head}>
            <tr>
              <th className={t.cell}>Node</th>
              <th className={t.cell}>In the cluster</th>
              <th className={t.cell}>Server and agent</th>
            </tr>
          </thead>
          <tbody>
            {c.nodes.map((n) => (
              <tr key={n.name} className={t.row}>
                <td className={`${t.cell} font-medium`}>{n.name}</td>
                <td className={t.cell}>
                  <Badge tone={n.online ? 'green' : 'red'}>{n.online ? 'online' : 'offline'}</Badge>
                </td>
                <td className={t.cell}>
                  {n.serverId ? (
                    <>
                      <Link
                        href={`/customers/${customerId}/servers/${n.serverId}`}
                        className="text-sky-700 hover:underline dark:text-sky-400"
                      >
                        server
                      </Link>{' '}
                      <Badge tone={n.agentStatus === 'online' ? 'green' : n.agentStatus === 'offline' ? 'red' : 'slate'}>
                        agent {n.agentStatus}
                      </Badge>
                    </>
                  ) : (
                    <span className="text-slate-500">No agent reports from this node</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
      <Card className="mb-4">
        <h2 className="mb-2 text-lg font-semibold">Resources</h2>
        {c.resources.length === 0 ? (
          <p className="text-sm text-slate-500">No resources configured.</p>
        ) : (
          <table className={t.table} data-testid="cluster-resources">
            <thead className={t.head}>
              <tr>
                <th className={t.cell}>Resource</th>
                <th className={t.cell}>Type</th>
                <th className={t.cell}>Group</th>
                <th className={t.cell}>State</th>
                <th className={t.cell}>Runs on</th>
                <th className={t.cell}>Target role</th>
              </tr>
            </thead>
            <tbody>
              {c.resources.map((r) => (
                <tr key={r.id} className={t.row} data-testid="cluster-resource" data-resource={r.id}>
                  <td className={`${t.cell} font-medium`}>{r.id}</td>
                  <td className={`${t.cell} font-mono text-xs`}>{r.type}</td>
                  <td className={t.cell}>{r.group ?? '—'}</td>
                  <td className={t.cell}>
                    <Badge tone={r.running ? 'green' : 'slate'}>{r.role ?? (r.running ? 'running' : 'stopped')}</Badge>
                  </td>
                  <td className={t.cell} data-testid="resource-node">
                    {r.node ?? <span className="text-slate-500">nowhere</span>}
                  </td>
                  <td className={t.cell}>{r.targetRole ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {c.constraints.length > 0 && (
          <>
            <h3 className="mb-1 mt-4 text-sm font-semibold">Constraints</h3>
            <ul className="space-y-0.5 text-sm" data-testid="cluster-constraints">
              {c.constraints.map((x) => (
                <li key={x.id}>
                  <span className="font-mono text-xs text-slate-500">{x.id}</span> {describeConstraint(x)}
                </li>
              ))}
            </ul>
          </>
        )}
      </Card>
      <Versions clusterKey={key} clusterName={c.name} versions={versions} canOperate={canOperate} onStarted={setShownOp} />
      {c.operations.length > 0 && (
        <Card className="mb-4">
          <h2 className="mb-2 text-lg font-semibold">Backups and restores</h2>
          <ul className="space-y-1 text-sm">
            {c.operations.map((o) => (
              <li key={o.id} className="flex flex-wrap items-center gap-2">
                <Badge tone={o.status === 'succeeded' ? 'green' : o.status === 'failed' ? 'red' : 'sky'}>
                  {o.status.replace(/_/g, ' ')}
                </Badge>
                <span>
                  {opLabels[o.kind] ?? o.kind}
                  {o.dryRun ? ' (dry run)' : ''}
                </span>
                <span className="text-xs text-slate-500">{timeAgo(o.createdAt)}</span>
                <Button variant="ghost" onClick={() => setShownOp(o.id)}>
                  Show steps
                </Button>
              </li>
            ))}
          </ul>
        </Card>
      )}
    </>
  );
}

function describeConstraint(x: {
  kind: string;
  resource: string;
  node: string | null;
  with: string | null;
  score: string | null;
}) {
  const score = x.score ? ` (score ${x.score})` : '';
  if (x.kind === 'location')
    return `${x.resource} ${x.score?.startsWith('-') ? 'avoids' : 'prefers'} ${x.node ?? 'a node'}${score}`;
  if (x.kind === 'colocation') return `${x.resource} runs with ${x.with ?? '?'}${score}`;
  if (x.kind === 'order') return `${x.resource} starts before ${x.with ?? '?'}${score}`;
  return `${x.resource} depends on a ticket${score}`;
}

type ClusterKey = { customerId: string; stack: ClusterStack; name: string };

function SnapshotButton({ clusterKey, onStarted }: { clusterKey: ClusterKey; onStarted: (id: string) => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const snapshot = useMutation(
    trpc.cluster.snapshot.mutationOptions({
      onSuccess: async ({ operationId }) => {
        onStarted(operationId);
        await qc.invalidateQueries({ queryKey: trpc.cluster.pathKey() });
      },
    }),
  );
  return (
    <span className="inline-flex flex-col items-end gap-1">
      <Button onClick={() => snapshot.mutate(clusterKey)} disabled={snapshot.isPending}>
        Take snapshot now
      </Button>
      {snapshot.error && <ErrorBanner message={describeError(snapshot.error).message} />}
    </span>
  );
}

interface VersionRow {
  id: string;
  reason: string;
  takenAt: string;
  epoch: string | null;
  sizeBytes: number;
  hostname: string | null;
}

function Versions({
  clusterKey,
  clusterName,
  versions,
  canOperate,
  onStarted,
}: {
  clusterKey: ClusterKey;
  clusterName: string;
  versions: { data?: VersionRow[]; error: unknown };
  canOperate: boolean;
  onStarted: (id: string) => void;
}) {
  const [from, setFrom] = useState<string | null>(null);
  const [to, setTo] = useState<string | null>(null);
  const [compare, setCompare] = useState<{ fromId: string; toId: string } | null>(null);
  const [restoring, setRestoring] = useState<VersionRow | null>(null);
  const rows = versions.data ?? [];
  return (
    <Card className="mb-4">
      <h2 className="mb-1 text-lg font-semibold">Configuration versions</h2>
      <p className="mb-2 text-sm text-slate-600 dark:text-slate-400">
        Pick two versions (older and newer) to see what changed between them.
      </p>
      {versions.error ? <ErrorBanner message={describeError(versions.error).message} /> : null}
      {rows.length === 0 && !versions.error && <p className="text-sm text-slate-500">No configuration saved yet.</p>}
      {rows.length > 0 && (
        <table className={t.table} data-testid="cluster-versions">
          <thead className={t.head}>
            <tr>
              <th className={t.cell}>Older</th>
              <th className={t.cell}>Newer</th>
              <th className={t.cell}>Taken</th>
              <th className={t.cell}>Why</th>
              <th className={t.cell}>Epoch</th>
              <th className={t.cell}>Size</th>
              <th className={t.cell}>Read on</th>
              {canOperate && <th className={t.cell} />}
            </tr>
          </thead>
          <tbody>
            {rows.map((v) => (
              <tr key={v.id} className={t.row} data-testid="cluster-version" data-version={v.id}>
                <td className={t.cell}>
                  <input
                    type="radio"
                    name="diff-from"
                    aria-label={`Compare from the version of ${when(v.takenAt)}`}
                    checked={from === v.id}
                    onChange={() => setFrom(v.id)}
                  />
                </td>
                <td className={t.cell}>
                  <input
                    type="radio"
                    name="diff-to"
                    aria-label={`Compare to the version of ${when(v.takenAt)}`}
                    checked={to === v.id}
                    onChange={() => setTo(v.id)}
                  />
                </td>
                <td className={`${t.cell} whitespace-nowrap`} title={v.takenAt}>
                  {when(v.takenAt)}
                </td>
                <td className={t.cell}>{reasonLabels[v.reason] ?? v.reason}</td>
                <td className={`${t.cell} font-mono text-xs`}>{v.epoch ?? '—'}</td>
                <td className={`${t.cell} tabular-nums`}>{bytes(v.sizeBytes)}</td>
                <td className={t.cell}>{v.hostname ?? '—'}</td>
                {canOperate && (
                  <td className={t.cell}>
                    <Button variant="secondary" onClick={() => setRestoring(v)}>
                      Restore…
                    </Button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {rows.length > 1 && (
        <div className="mt-3">
          <Button
            variant="secondary"
            disabled={!from || !to || from === to}
            onClick={() => from && to && setCompare({ fromId: from, toId: to })}
          >
            Show differences
          </Button>
        </div>
      )}
      {compare && <DiffView fromId={compare.fromId} toId={compare.toId} />}
      {restoring && (
        <RestoreDialog
          clusterKey={clusterKey}
          clusterName={clusterName}
          version={restoring}
          onClose={() => setRestoring(null)}
          onStarted={(id) => {
            setRestoring(null);
            onStarted(id);
          }}
        />
      )}
    </Card>
  );
}

/** Restore: first a dry run (the worker plans the steps, in order, and changes nothing), then the confirmed run. */
function RestoreDialog({
  clusterKey,
  clusterName,
  version,
  onClose,
  onStarted,
}: {
  clusterKey: ClusterKey;
  clusterName: string;
  version: VersionRow;
  onClose: () => void;
  onStarted: (id: string) => void;
}) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [confirmName, setConfirmName] = useState('');
  const preview = useMutation(trpc.cluster.restore.preview.mutationOptions());
  const start = useMutation(
    trpc.cluster.restore.start.mutationOptions({
      onSuccess: async ({ operationId }) => {
        await qc.invalidateQueries({ queryKey: trpc.cluster.get.queryKey(clusterKey) });
        onStarted(operationId);
      },
    }),
  );
  const previewOp = preview.data?.operationId;
  const op = useQuery({
    ...trpc.pair.operation.queryOptions({ operationId: previewOp ?? '' }),
    enabled: !!previewOp,
    refetchInterval: (q) => (q.state.data && ['succeeded', 'failed', 'cancelled'].includes(q.state.data.status) ? false : 2_000),
  });
  const planned = op.data && op.data.status === 'succeeded';
  const err = start.error ? describeError(start.error) : null;
  return (
    <Modal title={`Restore the configuration of ${when(version.takenAt)}`} onClose={onClose}>
      <p className="mb-3 text-sm">
        An authoritative restore replaces the configuration of cluster <strong>{clusterName}</strong> with this version: the
        cluster stack is stopped on the other nodes, the configuration replaced on one node, then the others started to take it.
        The current configuration is saved first.
      </p>
      {!previewOp && (
        <Button onClick={() => preview.mutate({ versionId: version.id })} disabled={preview.isPending}>
          Dry run: show the steps
        </Button>
      )}
      {preview.error && <ErrorBanner message={describeError(preview.error).message} />}
      {previewOp && (
        <div className="mb-3" data-testid="restore-plan">
          <h3 className="mb-1 text-sm font-semibold">Steps, in order</h3>
          {!op.data || ['pending', 'running'].includes(op.data.status) ? (
            <p className="text-sm text-slate-500">Planning…</p>
          ) : op.data.error ? (
            <ErrorBanner message={op.data.error} />
          ) : (
            <ol className="list-decimal space-y-0.5 pl-5 text-sm">
              {op.data.steps.map((s) => (
                <li key={s.position}>{s.description}</li>
              ))}
            </ol>
          )}
        </div>
      )}
      {planned && (
        <form
          className="space-y-3 border-t border-slate-200 pt-3 dark:border-slate-800"
          aria-label="Confirm the restore"
          onSubmit={(e) => {
            e.preventDefault();
            start.mutate({ versionId: version.id, confirmName });
          }}
        >
          <Field id="restore-confirm" label={`Type “${clusterName}” to confirm`} error={err?.fields.confirmName}>
            <Input
              id="restore-confirm"
              value={confirmName}
              onChange={(e) => setConfirmName(e.target.value)}
              autoFocus
              aria-invalid={!!err?.fields.confirmName}
            />
          </Field>
          <ErrorBanner message={err && !err.fields.confirmName ? err.message : null} />
          <div className="flex gap-2">
            <Button type="submit" variant="danger" disabled={confirmName.trim() !== clusterName || start.isPending}>
              Restore now
            </Button>
            <Button type="button" variant="secondary" onClick={onClose}>
              Cancel
            </Button>
          </div>
        </form>
      )}
    </Modal>
  );
}
