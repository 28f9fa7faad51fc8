import { createRouter } from '../../trpc';
import { validationAcknowledge } from './acknowledge';
import { validationDiff } from './diff';
import { validationFix } from './fix';
import { validationFixAll } from './fix-all';
import { validationFixAllPreview } from './fix-all-preview';
import { validationFixPreview } from './fix-preview';
import { validationLatest } from './latest';
import { validationRollup } from './rollup';
import { validationRuns } from './runs';
import { validationSettings, validationUpdateSettings } from './settings';
import { validationStart } from './start';
import { validationUnacknowledge } from './unacknowledge';

export const validationRouter = createRouter({
  start: validationStart,
  latest: validationLatest,
  runs: validationRuns,
  diff: validationDiff,
  acknowledge: validationAcknowledge,
  unacknowledge: validationUnacknowledge,
  fixPreview: validationFixPreview,
  fixAllPreview: validationFixAllPreview,
  fix: validationFix,
  fixAll: validationFixAll,
  rollup: validationRollup,
  settings: validationSettings,
  updateSettings: validationUpdateSettings,
});
