import { createRouter } from '../../trpc';
import { clusterDiff } from './diff';
import { getCluster } from './get';
import { listClusters } from './list';
import { clusterRestorePreview, clusterRestoreStart } from './restore';
import { clusterSnapshot } from './snapshot';
import { clusterVersions } from './versions';

// A cluster operation's timeline is read with pair.operation (it shows any operation, with or without a pair).
export const clusterRouter = createRouter({
  list: listClusters,
  get: getCluster,
  versions: clusterVersions,
  diff: clusterDiff,
  snapshot: clusterSnapshot,
  restore: createRouter({ preview: clusterRestorePreview, start: clusterRestoreStart }),
});
