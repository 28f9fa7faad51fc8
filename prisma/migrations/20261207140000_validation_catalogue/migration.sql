-- The validation and fix catalogue: runs with their fingerprint and results, findings with
-- subject, side, display status and plan, acknowledgements, readiness, scheduled validation.
ALTER TABLE "Organization" ADD COLUMN "validationIntervalHours" INTEGER NOT NULL DEFAULT 24,
  ADD COLUMN "privilegedFixesInFixAll" BOOLEAN NOT NULL DEFAULT false;

ALTER TABLE "ProtectionPair" ADD COLUMN "readinessScore" INTEGER,
  ADD COLUMN "readiness" JSONB,
  ADD COLUMN "lastValidationRunId" TEXT,
  ADD COLUMN "validationDueAt" TIMESTAMP(3);

ALTER TABLE "ValidationRun" ADD COLUMN "operationId" TEXT,
  ADD COLUMN "trigger" TEXT NOT NULL DEFAULT 'manual',
  ADD COLUMN "requestedById" TEXT,
  ADD COLUMN "fingerprint" TEXT,
  ADD COLUMN "configChangedAt" TIMESTAMP(3),
  ADD COLUMN "overall" TEXT,
  ADD COLUMN "results" JSONB,
  ADD COLUMN "gatherers" JSONB,
  ADD COLUMN "readinessScore" INTEGER;

ALTER TABLE "Finding" ADD COLUMN "pairId" TEXT,
  ADD COLUMN "side" TEXT NOT NULL DEFAULT 'none',
  ADD COLUMN "subject" TEXT NOT NULL DEFAULT '',
  ADD COLUMN "status" TEXT NOT NULL DEFAULT 'error-manual',
  ADD COLUMN "evidence" JSONB,
  ADD COLUMN "evidenceDigest" TEXT NOT NULL DEFAULT '',
  ADD COLUMN "guidance" TEXT,
  ADD COLUMN "plan" JSONB,
  ADD COLUMN "blockedReason" TEXT,
  ADD COLUMN "privileged" BOOLEAN NOT NULL DEFAULT false,
  ADD COLUMN "phase" INTEGER,
  ADD COLUMN "fixState" TEXT,
  ADD COLUMN "fixError" TEXT;
CREATE INDEX "Finding_pairId_checkId_idx" ON "Finding"("pairId", "checkId");

CREATE TABLE "FindingAcknowledgement" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "customerId" TEXT NOT NULL,
    "pairId" TEXT NOT NULL,
    "checkId" TEXT NOT NULL,
    "side" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "evidenceDigest" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "userId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "FindingAcknowledgement_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "FindingAcknowledgement_pairId_checkId_side_subject_key" ON "FindingAcknowledgement"("pairId", "checkId", "side", "subject");
CREATE INDEX "FindingAcknowledgement_organizationId_idx" ON "FindingAcknowledgement"("organizationId");
ALTER TABLE "FindingAcknowledgement" ADD CONSTRAINT "FindingAcknowledgement_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "FindingAcknowledgement" ADD CONSTRAINT "FindingAcknowledgement_pairId_fkey" FOREIGN KEY ("pairId") REFERENCES "ProtectionPair"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "FindingAcknowledgement" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "FindingAcknowledgement"
  USING ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()))
  WITH CHECK ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()));
