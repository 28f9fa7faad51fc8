-- Failover and failback runbooks: what was asked, the diff shown before the run, the point of no
-- return and the outcome; undo steps and attempts per step; fencing and DNS re-assertion on the pair.
ALTER TABLE "Operation" ADD COLUMN "options" JSONB NOT NULL DEFAULT '{}',
ADD COLUMN "changes" JSONB,
ADD COLUMN "pointOfNoReturn" INTEGER,
ADD COLUMN "outcome" JSONB;

ALTER TABLE "OperationStep" ADD COLUMN "phase" TEXT NOT NULL DEFAULT 'run',
ADD COLUMN "attempts" INTEGER NOT NULL DEFAULT 0;

ALTER TABLE "ProtectionPair" ADD COLUMN "sourceHeldAt" TIMESTAMP(3),
ADD COLUMN "dnsCheckedAt" TIMESTAMP(3);
