import type { FactsSnapshot } from '../snapshot.ts';
import { postgresTargetPaths } from '../checks/postgres.ts';
import { mapToTarget } from './common.ts';
import { mariadbFactsSchema } from './mariadb.ts';
import { genericFactsSchema } from './generic.ts';

// What the application checks need the target agent to look at, derived from the source's
// facts: the paths they read from T.paths (a path the target was not asked about makes its
// check unknown) and, for generic services, the run-as account. The worker adds these to the
// target's `validate.facts` request once it has the source's answer.

export function appTargetRequests(snap: FactsSnapshot): { paths: string[]; accounts: string[] } {
  const paths = new Set<string>();
  const accounts = new Set<string>();
  const apps = snap.source?.apps;
  if (snap.pair.app === 'postgres' && apps?.postgres) for (const p of postgresTargetPaths(snap, apps.postgres)) paths.add(p);
  if (snap.pair.app === 'mariadb') {
    const m = mariadbFactsSchema.safeParse(apps?.mariadb);
    if (m.success) for (const p of m.data.paths) paths.add(mapToTarget(snap, p.path));
  }
  if (snap.pair.app === 'generic-service') {
    const g = genericFactsSchema.safeParse(apps?.generic);
    if (g.success) {
      if (g.data.executable) paths.add(mapToTarget(snap, g.data.executable));
      for (const f of g.data.referencedFiles) paths.add(mapToTarget(snap, f.path));
      if (g.data.account) accounts.add(g.data.account);
    }
  }
  return { paths: [...paths], accounts: [...accounts] };
}
