-- CreateEnum
CREATE TYPE "PairEventKind" AS ENUM ('configuration', 'operation', 'status', 'detection', 'monitor');

-- AlterTable
ALTER TABLE "ProtectionPair" ADD COLUMN     "autoFailoverMarked" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "enabledAt" TIMESTAMP(3),
ADD COLUMN     "pairKeyEnc" TEXT;

-- CreateTable
CREATE TABLE "PairEvent" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "customerId" TEXT NOT NULL,
    "pairId" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "kind" "PairEventKind" NOT NULL,
    "severity" "Severity" NOT NULL DEFAULT 'info',
    "message" TEXT NOT NULL,
    "evidence" JSONB,

    CONSTRAINT "PairEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PairMonitor" (
    "pairId" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "customerId" TEXT NOT NULL,
    "targetState" TEXT NOT NULL DEFAULT 'unknown',
    "targetReportAt" TIMESTAMP(3),
    "targetLostSince" TIMESTAMP(3),
    "targetEvidence" JSONB,
    "verdict" TEXT NOT NULL DEFAULT 'none',
    "verdictSince" TIMESTAMP(3),
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "PairMonitor_pkey" PRIMARY KEY ("pairId")
);

-- CreateIndex
CREATE INDEX "PairEvent_pairId_at_idx" ON "PairEvent"("pairId", "at");

-- CreateIndex
CREATE INDEX "PairEvent_organizationId_idx" ON "PairEvent"("organizationId");

-- CreateIndex
CREATE INDEX "PairMonitor_organizationId_idx" ON "PairMonitor"("organizationId");

-- AddForeignKey
ALTER TABLE "PairEvent" ADD CONSTRAINT "PairEvent_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PairEvent" ADD CONSTRAINT "PairEvent_pairId_fkey" FOREIGN KEY ("pairId") REFERENCES "ProtectionPair"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PairMonitor" ADD CONSTRAINT "PairMonitor_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PairMonitor" ADD CONSTRAINT "PairMonitor_pairId_fkey" FOREIGN KEY ("pairId") REFERENCES "ProtectionPair"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Row-level security, as on every tenant table.
ALTER TABLE "PairEvent" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "PairEvent"
  USING ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()))
  WITH CHECK ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()));

ALTER TABLE "PairMonitor" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "PairMonitor"
  USING ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()))
  WITH CHECK ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()));

-- The worker's detection sweep looks at every watched pair of every tenant at once. This narrow
-- reader (owner's rights) returns only what the verdict needs; every write afterwards is scoped.
CREATE FUNCTION pairs_under_watch()
  RETURNS TABLE (
    "pairId" text, "organizationId" text, "customerId" text, status text, "monitoringStatus" text,
    "failoverSettings" jsonb, "sourceAgentStatus" text, "sourceLastSeenAt" timestamp,
    "targetAgentStatus" text, "targetState" text, "targetReportAt" timestamp, "targetLostSince" timestamp,
    "targetEvidence" jsonb, verdict text, "verdictSince" timestamp)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
  AS $$ SELECT p.id, p."organizationId", p."customerId", p.status::text, p."monitoringStatus"::text,
               p."failoverSettings", sa.status::text, sa."lastSeenAt", ta.status::text,
               COALESCE(m."targetState", 'unknown'), m."targetReportAt", m."targetLostSince",
               m."targetEvidence", COALESCE(m.verdict, 'none'), m."verdictSince"
        FROM "ProtectionPair" p
        LEFT JOIN "Agent" sa ON sa."serverId" = p."sourceServerId"
        LEFT JOIN "Agent" ta ON ta."serverId" = p."targetServerId"
        LEFT JOIN "PairMonitor" m ON m."pairId" = p.id
        WHERE p."monitoringStatus" <> 'off' $$;

-- Operations left pending or running (a worker restart) are picked up again, in every tenant.
CREATE FUNCTION unfinished_operations()
  RETURNS TABLE (id text, "organizationId" text, "customerId" text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
  AS $$ SELECT o.id, o."organizationId", o."customerId" FROM "Operation" o
        WHERE o.status IN ('pending', 'running') ORDER BY o."createdAt" $$;
