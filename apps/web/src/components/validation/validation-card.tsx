'use client';

// The pair page's validation section: Validate (live progress while a run goes), the latest run's
// results grouped by family, a finding's details in a drawer, Fix All with its plan, readiness,
// and the run history with a diff. The page's live notices (pair.live) refetch it.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Button, Card, ErrorBanner } from '@/components/ui';
import { describeError, useTRPC } from '@/trpc/client';
import { FamilyResults } from './family-results';
import { FindingDrawer, type Permissions } from './finding-drawer';
import { FixAllDialog } from './fix-all-dialog';
import { ReadinessDetails } from './readiness';
import { RunHistory } from './run-history';
import { ValidationStatus } from './status';

export function ValidationCard({ pairId, permissions, live }: { pairId: string; permissions: Permissions; live: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [openId, setOpenId] = useState<string | null>(null);
  const [fixAll, setFixAll] = useState(false);
  const [history, setHistory] = useState(false);
  // Polls only while a run goes and the live stream is down; otherwise the notices refetch it.
  const latest = useQuery({
    ...trpc.validation.latest.queryOptions({ pairId }),
    refetchInterval: (q) => (!live && q.state.data?.inProgress ? 2_000 : false),
  });
  const start = useMutation(
    trpc.validation.start.mutationOptions({
      onSuccess: () =>
        Promise.all([
          qc.invalidateQueries({ queryKey: trpc.validation.pathKey() }),
          qc.invalidateQueries({ queryKey: trpc.pair.pathKey() }),
        ]),
    }),
  );
  const d = latest.data;
  const findings = d?.families.flatMap((f) => f.checks.flatMap((c) => c.findings)) ?? [];
  const open = findings.find((f) => f.id === openId) ?? null;
  const fixable = findings.some((f) => f.plan && (f.status === 'error-fixable' || f.status === 'warning-fixable'));
  const running = !!d?.inProgress || start.isPending;
  const step = d?.inProgress?.steps.find((s) => s.status === 'running');
  return (
    <Card className="mb-4">
      <div role="region" aria-label="Validation" id="validation">
        <div className="mb-2 flex flex-wrap items-center justify-between gap-2">
          <div className="flex flex-wrap items-center gap-2">
            <h2 className="text-lg font-semibold">Validation</h2>
            {d?.run?.overall && <ValidationStatus status={d.run.overall} />}
          </div>
          <div className="flex flex-wrap gap-2">
            {permissions.canOperate && (
              <Button onClick={() => start.mutate({ pairId })} disabled={running}>
                {running ? 'Validating…' : 'Validate'}
              </Button>
            )}
            {permissions.canOperate && d?.run && (
              <Button variant="secondary" onClick={() => setFixAll(true)} disabled={!fixable || running}>
                Fix All
              </Button>
            )}
            <Button variant="ghost" onClick={() => setHistory(!history)} aria-expanded={history}>
              History
            </Button>
          </div>
        </div>
        {running && (
          <p role="status" className="mb-2 text-sm text-sky-700 dark:text-sky-300" data-testid="validation-progress">
            {step
              ? `${step.description}…`
              : d?.inProgress?.status === 'running'
                ? 'Collecting facts and evaluating the checks…'
                : 'Queued for the worker…'}
          </p>
        )}
        <ErrorBanner
          message={latest.error ? describeError(latest.error).message : start.error ? describeError(start.error).message : null}
        />
        {d && (
          <div className="mb-3">
            <ReadinessDetails readiness={d.readiness} />
          </div>
        )}
        {d && !d.run && !running && (
          <p className="text-sm text-slate-600 dark:text-slate-400">
            Not validated yet: protection can be enabled only after a validation run without errors.
          </p>
        )}
        {d?.run && (
          <>
            <p className="mb-2 text-xs text-slate-600 dark:text-slate-400">
              Last run {new Date(d.run.finishedAt ?? d.run.startedAt).toLocaleString()} ({d.run.trigger}): {d.run.errors} error
              {d.run.errors === 1 ? '' : 's'}, {d.run.warnings} warning
              {d.run.warnings === 1 ? '' : 's'}.
            </p>
            {d.stale && (
              <p className="mb-2 text-sm text-amber-800 dark:text-amber-300" data-testid="validation-stale">
                The configuration changed after this run: validate again before enabling protection.
              </p>
            )}
            <FamilyResults families={d.families} onOpen={(f) => setOpenId(f.id)} />
          </>
        )}
        {history && (
          <div className="mt-3 border-t border-slate-200 pt-3 dark:border-slate-800">
            <h3 className="mb-2 font-semibold">Run history</h3>
            <RunHistory pairId={pairId} />
          </div>
        )}
      </div>
      {open && <FindingDrawer finding={open} permissions={permissions} onClose={() => setOpenId(null)} />}
      {fixAll && <FixAllDialog pairId={pairId} onClose={() => setFixAll(false)} />}
    </Card>
  );
}
