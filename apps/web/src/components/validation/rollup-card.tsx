'use client';

// Validation at a glance: for the MSP (every customer's pairs with errors, readiness) or for one
// customer (its pairs with their readiness and what lowers it). Customer and pair names are
// links elsewhere on these pages (the dashboard table, the pair list), so here they are plain text.
import Link from 'next/link';
import { useQuery } from '@tanstack/react-query';
import { Card, ErrorBanner, tableStyles } from '@/components/ui';
import type { RollupView as ValidationRollup } from './types';
import { describeError, useTRPC } from '@/trpc/client';
import { ReadinessScore } from './readiness';
import { ValidationStatus } from './status';

export function ValidationRollupCard({ customerId }: { customerId?: string }) {
  const trpc = useTRPC();
  const rollup = useQuery({ ...trpc.validation.rollup.queryOptions(), refetchInterval: 60_000 });
  const r = rollup.data;
  return (
    <Card className="mb-4">
      <div role="region" aria-label="Validation roll-up">
        <h2 className="mb-2 text-lg font-semibold">Validation and readiness</h2>
        <ErrorBanner message={rollup.error ? describeError(rollup.error).message : null} />
        {r && (customerId ? <CustomerRollup r={r} customerId={customerId} /> : <MspRollup r={r} />)}
      </div>
    </Card>
  );
}

function Counts({
  c,
}: {
  c: {
    pairs: number;
    withErrors: number;
    withWarnings: number;
    notValidated: number;
    readinessAverage: number | null;
    readinessLowest: number | null;
  };
}) {
  return (
    <p className="mb-2 text-sm" data-testid="rollup-counts">
      <strong>{c.withErrors}</strong> of {c.pairs} pair{c.pairs === 1 ? '' : 's'} with errors · {c.withWarnings} with warnings
      only · {c.notValidated} never validated
      {c.readinessAverage !== null && (
        <>
          {' '}
          · readiness average {c.readinessAverage}, lowest {c.readinessLowest}
        </>
      )}
    </p>
  );
}

function MspRollup({ r }: { r: ValidationRollup }) {
  return (
    <>
      <Counts c={r.totals} />
      {r.pairsWithErrors.length > 0 && (
        <table className={tableStyles.table} data-testid="pairs-with-errors">
          <caption className="sr-only">Pairs with errors</caption>
          <thead className={tableStyles.head}>
            <tr>
              <th className={tableStyles.cell}>Pair</th>
              <th className={tableStyles.cell}>Customer</th>
              <th className={tableStyles.cell}>Status</th>
              <th className={tableStyles.cell}>Readiness</th>
            </tr>
          </thead>
          <tbody>
            {r.pairsWithErrors.map((p) => (
              <tr key={p.pairId} className={tableStyles.row}>
                <td className={tableStyles.cell}>
                  <Link
                    href={`/customers/${p.customerId}/pairs/${p.pairId}#validation`}
                    className="text-sky-700 hover:underline dark:text-sky-400"
                  >
                    {p.name}
                  </Link>
                </td>
                <td className={tableStyles.cell}>{p.customerName}</td>
                <td className={tableStyles.cell}>
                  <ValidationStatus status={p.overall} />
                </td>
                <td className={tableStyles.cell}>
                  <ReadinessScore score={p.readinessScore} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3 className="mb-1 mt-3 text-sm font-semibold">By customer</h3>
      <ul className="space-y-1 text-sm" data-testid="rollup-customers">
        {r.customers.map((c) => (
          <li key={c.customerId} data-customer={c.customerId}>
            <span className="font-medium">{c.name}</span>: {c.withErrors} of {c.pairs} with errors
            {c.readinessAverage !== null && <>, readiness {c.readinessAverage}</>}
          </li>
        ))}
      </ul>
    </>
  );
}

function CustomerRollup({ r, customerId }: { r: ValidationRollup; customerId: string }) {
  const c = r.customers.find((x) => x.customerId === customerId);
  const pairs = r.pairs.filter((p) => p.customerId === customerId);
  if (!c) return null;
  return (
    <>
      <Counts c={c} />
      <ul className="space-y-2 text-sm" data-testid="rollup-pairs">
        {pairs.map((p) => (
          <li key={p.pairId} className="flex flex-wrap items-center gap-2">
            <span className="font-medium">{p.name}</span>
            {p.overall ? <ValidationStatus status={p.overall} /> : <span className="text-xs text-slate-500">not validated</span>}
            <ReadinessScore score={p.readiness.score} />
            {p.readiness.lowers.length > 0 && (
              <span className="text-xs text-slate-600 dark:text-slate-400">
                lowered by{' '}
                {p.readiness.lowers
                  .slice(0, 3)
                  .map((l) => l.label.toLowerCase())
                  .join(', ')}
              </span>
            )}
          </li>
        ))}
      </ul>
    </>
  );
}
