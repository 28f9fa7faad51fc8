import { createRouter } from '../../trpc';
import { pairEvents, pairOperations, pairSettings } from './activity';
import { pairDnsDiscover, pairDnsRecords } from './dns';
import { failbackPreview, failbackStart } from './failback';
import { failoverPreview, failoverStart } from './failover';
import { getPair } from './get';
import { pairHistory } from './history';
import { listPairs } from './list';
import { pairLive } from './live';
import { pairOperation } from './operation';
import { disablePair, enablePair, setPairMonitoring } from './protection';
import { createPair, updatePair } from './save';
import { resendPair, verifyPair, verifyResult } from './verify';
import { pairTestReport } from './test-report';
import { testFailoverPreview, testFailoverStart } from './test-failover';
import { pairTests, updatePairTesting } from './tests';
import { pairWizard } from './wizard';

export const pairRouter = createRouter({
  list: listPairs,
  get: getPair,
  history: pairHistory,
  verify: verifyPair,
  verifyResult,
  resend: resendPair,
  wizard: pairWizard,
  create: createPair,
  update: updatePair,
  enable: enablePair,
  disable: disablePair,
  setMonitoring: setPairMonitoring,
  events: pairEvents,
  operations: pairOperations,
  settings: pairSettings,
  live: pairLive,
  failover: createRouter({ preview: failoverPreview, start: failoverStart }),
  failback: createRouter({ preview: failbackPreview, start: failbackStart }),
  testFailover: createRouter({ preview: testFailoverPreview, start: testFailoverStart }),
  tests: pairTests,
  updateTesting: updatePairTesting,
  operation: pairOperation,
  testReport: pairTestReport,
  dnsRecords: pairDnsRecords,
  dnsDiscover: pairDnsDiscover,
});
