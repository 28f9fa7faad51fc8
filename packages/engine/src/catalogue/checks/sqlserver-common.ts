import type { CatalogueMethod, CheckContext } from '../model.ts';
import type { FactKey } from '../facts.ts';
import type { FixAction } from '../actions.ts';
import { compareVersions, instancePairs, sqlserverOf, type SqlInstance } from '../apps/sqlserver.ts';

// Helpers shared by the two sqlserver check files.

/** [database] rows: they also run for log-shipping, which carries only databases too. */
export const DB_METHODS: CatalogueMethod[] = ['database', 'log-shipping'];
export const BOTH: FactKey[] = ['P', 'S.app.sqlserver', 'T.app.sqlserver'];

export const sides = (ctx: CheckContext) => ({ src: sqlserverOf(ctx.snap.source, 'source'), tgt: sqlserverOf(ctx.snap.target, 'target') });

/** Protected source instances with their same-named target instance. */
export const pairsOf = (ctx: CheckContext) => {
  const { src, tgt } = sides(ctx);
  return instancePairs(ctx.snap.pair, src, tgt);
};

/** The target is a newer build than the source (allowed in the database and log-shipping methods). */
export const targetNewer = (ctx: CheckContext, s: SqlInstance, t: SqlInstance) => ctx.snap.pair.method !== 'instance' && compareVersions(t.version, s.version) > 0;

/** A `sqlserver.<op>` module operation on the target. */
export const appAction = (op: string, params: Record<string, unknown>, description: string, before: string | null, after: string | null): FixAction => ({
  action: 'app',
  node: 'target',
  app: 'sqlserver',
  op,
  params,
  description,
  before,
  after,
});
