-- Test failovers (evidence reports, drill schedules) and cluster configuration versions.
ALTER TYPE "OperationKind" ADD VALUE 'cluster_backup';
ALTER TYPE "OperationKind" ADD VALUE 'cluster_restore';

ALTER TABLE "ProtectionPair" ADD COLUMN "testSettings" JSONB NOT NULL DEFAULT '{}',
  ADD COLUMN "lastTestSucceededAt" TIMESTAMP(3);

ALTER TABLE "Operation" ADD COLUMN "report" JSONB,
  ADD COLUMN "clusterStack" TEXT,
  ADD COLUMN "clusterName" TEXT,
  ADD COLUMN "drillScheduleId" TEXT;
CREATE INDEX "Operation_customerId_clusterName_createdAt_idx" ON "Operation"("customerId", "clusterName", "createdAt");

CREATE TABLE "DrillSchedule" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "customerId" TEXT NOT NULL,
    "pairId" TEXT,
    "everyDays" INTEGER NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "nextDueAt" TIMESTAMP(3) NOT NULL,
    "lastStartedAt" TIMESTAMP(3),
    "createdById" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "DrillSchedule_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "DrillSchedule_organizationId_nextDueAt_idx" ON "DrillSchedule"("organizationId", "nextDueAt");
CREATE INDEX "DrillSchedule_customerId_idx" ON "DrillSchedule"("customerId");
ALTER TABLE "DrillSchedule" ADD CONSTRAINT "DrillSchedule_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "DrillSchedule" ADD CONSTRAINT "DrillSchedule_pairId_fkey" FOREIGN KEY ("pairId") REFERENCES "ProtectionPair"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "ClusterConfigVersion" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "customerId" TEXT NOT NULL,
    "stack" TEXT NOT NULL,
    "clusterName" TEXT NOT NULL,
    "serverId" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "operationId" TEXT,
    "epoch" TEXT,
    "sha256" TEXT NOT NULL,
    "sizeBytes" INTEGER NOT NULL,
    "content" TEXT NOT NULL,
    "takenAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ClusterConfigVersion_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "ClusterConfigVersion_customerId_clusterName_takenAt_idx" ON "ClusterConfigVersion"("customerId", "clusterName", "takenAt");
CREATE INDEX "ClusterConfigVersion_organizationId_idx" ON "ClusterConfigVersion"("organizationId");
ALTER TABLE "ClusterConfigVersion" ADD CONSTRAINT "ClusterConfigVersion_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "DrillSchedule" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "DrillSchedule"
  USING ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()))
  WITH CHECK ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()));

ALTER TABLE "ClusterConfigVersion" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "ClusterConfigVersion"
  USING ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()))
  WITH CHECK ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()));

-- Drill schedules due now, in every tenant: the worker starts them (every write it then does is
-- tenant-scoped). Cluster nodes to snapshot are found per tenant the same way.
CREATE FUNCTION drills_due(at timestamp)
  RETURNS TABLE ("scheduleId" text, "organizationId" text, "customerId" text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
  AS $$ SELECT d.id, d."organizationId", d."customerId"
        FROM "DrillSchedule" d
        WHERE d.enabled AND d."nextDueAt" <= at
        ORDER BY d."nextDueAt" $$;

CREATE FUNCTION cluster_tenants()
  RETURNS TABLE ("organizationId" text, "customerId" text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
  AS $$ SELECT DISTINCT s."organizationId", s."customerId"
        FROM "Server" s
        WHERE s.facts -> 'cluster' ->> 'status' = 'ok' AND jsonb_typeof(s.facts -> 'cluster' -> 'data') = 'object' $$;
