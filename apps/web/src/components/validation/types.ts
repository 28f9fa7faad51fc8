// The validation API's answers as the browser receives them.
import type { inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from '@/server/routers/_app';

type Outputs = inferRouterOutputs<AppRouter>['validation'];
export type LatestView = Outputs['latest'];
export type FamilyView = LatestView['families'][number];
export type CheckView = FamilyView['checks'][number];
export type FindingView = CheckView['findings'][number];
export type ReadinessView = LatestView['readiness'];
export type PlanView = Outputs['fixAllPreview'];
export type RollupView = Outputs['rollup'];
