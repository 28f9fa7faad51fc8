import { describe, expect, it } from 'vitest';
import { appTargetRequests } from './requests.ts';
import { genericSnapshot, mariadbSnapshot, postgresSnapshot } from './fixtures.ts';
import { withFacts } from '../fixtures.ts';

// The target paths the application checks read are exactly what the worker must ask for.
describe('appTargetRequests', () => {
  it('asks the target about every path and account the application checks read', () => {
    const pg = appTargetRequests(postgresSnapshot());
    expect(pg.paths.sort()).toEqual(postgresSnapshot().target!.paths!.map((p) => p.path).sort());
    const my = appTargetRequests(withFacts(mariadbSnapshot(), { pair: { pathMap: [{ from: '/var/lib/mysql', to: '/data/mysql' }] } }));
    expect(my.paths.sort()).toEqual(['/data/mysql', '/tmp']);
    expect(appTargetRequests(genericSnapshot())).toEqual({ paths: ['/opt/inventory/bin/inventory-api', '/etc/inventory/env', '/srv/app/config.yaml', '/srv/app'], accounts: ['inventory'] });
  });
});
