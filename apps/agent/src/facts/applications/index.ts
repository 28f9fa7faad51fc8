// Applications: each detector runs on its own; if one fails the whole section is unknown (naming
// the detector), because a missing application would otherwise read as "not installed".
import type { ApplicationFacts } from '@tandem/protocol';
import type { FactsIO } from '../io.ts';
import { errorMessage } from '../util.ts';
import { collectExchange } from './exchange.ts';
import { collectFileShares } from './fileshares.ts';
import { collectMariadb } from './mariadb.ts';
import { collectPostgresql } from './postgresql.ts';
import { collectSqlServer } from './sqlserver.ts';

type Detector = (io: FactsIO) => Promise<ApplicationFacts[]>;

const DETECTORS: Partial<Record<NodeJS.Platform, Record<string, Detector>>> = {
  linux: { postgresql: collectPostgresql, mariadb: collectMariadb, 'file shares': collectFileShares },
  win32: { 'sql server': collectSqlServer, exchange: collectExchange, 'file shares': collectFileShares },
};

export async function collectApplications(io: FactsIO): Promise<ApplicationFacts[]> {
  const detectors = DETECTORS[io.platform];
  if (!detectors) throw new Error(`application facts are not supported on ${io.platform}`);
  const results = await Promise.allSettled(Object.entries(detectors).map(([, detect]) => detect(io)));
  const names = Object.keys(detectors);
  const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [`${names[i]}: ${errorMessage(r.reason)}`] : []));
  if (failures.length > 0) throw new Error(failures.join('; '));
  return results.flatMap((r) => (r.status === 'fulfilled' ? r.value : [])).slice(0, 1000);
}
