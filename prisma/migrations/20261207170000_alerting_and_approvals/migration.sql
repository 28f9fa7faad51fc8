-- Alerting and approvals: the transactional outbox, open alerts, maintenance windows, the
-- organization's mail server, approval votes and one-time approval links; approval policies on
-- customers (overridable per pair), the customer's RPO, credential expiry; deliveries become
-- per-recipient with their attempts.

ALTER TABLE "Customer" ADD COLUMN "approvalPolicy" JSONB NOT NULL DEFAULT '{}',
                       ADD COLUMN "rpoSeconds" INTEGER NOT NULL DEFAULT 900;
ALTER TABLE "ProtectionPair" ADD COLUMN "approvalPolicy" JSONB NOT NULL DEFAULT '{}';
ALTER TABLE "Credential" ADD COLUMN "expiresAt" TIMESTAMP(3);

ALTER TABLE "Approval" ADD COLUMN "pairId" TEXT,
                       ADD COLUMN "policy" JSONB NOT NULL DEFAULT '{}',
                       ADD COLUMN "requiredApprovals" INTEGER NOT NULL DEFAULT 1,
                       ADD COLUMN "escalatedAt" TIMESTAMP(3);
CREATE INDEX "Approval_decision_deadlineAt_idx" ON "Approval"("decision", "deadlineAt");
-- One open request per operation.
CREATE UNIQUE INDEX "Approval_one_pending_per_operation" ON "Approval"("operationId") WHERE "decision" = 'pending';

CREATE TABLE "ApprovalVote" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "customerId" TEXT NOT NULL,
    "approvalId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "userLabel" TEXT NOT NULL,
    "side" TEXT NOT NULL,
    "decision" TEXT NOT NULL,
    "comment" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "ApprovalVote_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "ApprovalVote_side_check" CHECK ("side" IN ('msp', 'customer')),
    CONSTRAINT "ApprovalVote_decision_check" CHECK ("decision" IN ('approved', 'rejected'))
);
CREATE UNIQUE INDEX "ApprovalVote_approvalId_userId_key" ON "ApprovalVote"("approvalId", "userId");
CREATE INDEX "ApprovalVote_organizationId_idx" ON "ApprovalVote"("organizationId");
ALTER TABLE "ApprovalVote" ADD CONSTRAINT "ApprovalVote_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "ApprovalVote" ADD CONSTRAINT "ApprovalVote_approvalId_fkey" FOREIGN KEY ("approvalId") REFERENCES "Approval"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "ApprovalLink" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "customerId" TEXT NOT NULL,
    "approvalId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "usedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "ApprovalLink_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "ApprovalLink_tokenHash_key" ON "ApprovalLink"("tokenHash");
CREATE INDEX "ApprovalLink_organizationId_idx" ON "ApprovalLink"("organizationId");
ALTER TABLE "ApprovalLink" ADD CONSTRAINT "ApprovalLink_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "ApprovalLink" ADD CONSTRAINT "ApprovalLink_approvalId_fkey" FOREIGN KEY ("approvalId") REFERENCES "Approval"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "AlertRule" ADD COLUMN "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;
ALTER TABLE "AlertRule" ALTER COLUMN "minSeverity" SET DEFAULT 'info';

-- Deliveries: existing rows (there are none in practice) keep working as channel deliveries.
ALTER TABLE "AlertDelivery" ADD COLUMN "customerId" TEXT,
                            ADD COLUMN "eventId" BIGINT,
                            ADD COLUMN "alertId" TEXT,
                            ADD COLUMN "kind" "AlertChannelKind" NOT NULL DEFAULT 'webhook',
                            ADD COLUMN "recipient" TEXT NOT NULL DEFAULT '',
                            ADD COLUMN "linkEnc" TEXT,
                            ADD COLUMN "nextAttemptAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
                            ADD COLUMN "claimedUntil" TIMESTAMP(3),
                            ADD COLUMN "log" JSONB NOT NULL DEFAULT '[]',
                            ADD COLUMN "lastStatusCode" INTEGER;
ALTER TABLE "AlertDelivery" ALTER COLUMN "kind" DROP DEFAULT, ALTER COLUMN "recipient" DROP DEFAULT;
ALTER TABLE "AlertDelivery" ALTER COLUMN "channelId" DROP NOT NULL;
CREATE INDEX "AlertDelivery_status_nextAttemptAt_idx" ON "AlertDelivery"("status", "nextAttemptAt");
-- An event reaches each channel (or person) once, however often it is fanned out.
CREATE UNIQUE INDEX "AlertDelivery_once_per_event" ON "AlertDelivery"("eventId", "channelId", "recipient") NULLS NOT DISTINCT WHERE "eventId" IS NOT NULL;

CREATE TABLE "OutboxEvent" (
    "id" BIGSERIAL NOT NULL,
    "organizationId" TEXT NOT NULL,
    "customerId" TEXT,
    "pairId" TEXT,
    "type" TEXT NOT NULL,
    "severity" "Severity" NOT NULL DEFAULT 'info',
    "message" TEXT NOT NULL,
    "payload" JSONB NOT NULL DEFAULT '{}',
    "dedupeKey" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "claimedUntil" TIMESTAMP(3),
    "processedAt" TIMESTAMP(3),
    CONSTRAINT "OutboxEvent_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "OutboxEvent_dedupeKey_key" ON "OutboxEvent"("dedupeKey");
CREATE INDEX "OutboxEvent_processedAt_id_idx" ON "OutboxEvent"("processedAt", "id");
CREATE INDEX "OutboxEvent_organizationId_createdAt_idx" ON "OutboxEvent"("organizationId", "createdAt");
ALTER TABLE "OutboxEvent" ADD CONSTRAINT "OutboxEvent_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "Alert" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "customerId" TEXT,
    "pairId" TEXT,
    "conditionKey" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "severity" "Severity" NOT NULL,
    "message" TEXT NOT NULL,
    "openedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "openedEventId" BIGINT,
    "lastEventAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "resolvedAt" TIMESTAMP(3),
    "resolvedEventId" BIGINT,
    CONSTRAINT "Alert_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "Alert_organizationId_resolvedAt_idx" ON "Alert"("organizationId", "resolvedAt");
-- One open alert per condition.
CREATE UNIQUE INDEX "Alert_one_open_per_condition" ON "Alert"("organizationId", "conditionKey") WHERE "resolvedAt" IS NULL;
ALTER TABLE "Alert" ADD CONSTRAINT "Alert_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "MaintenanceWindow" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "customerId" TEXT NOT NULL,
    "pairId" TEXT,
    "startsAt" TIMESTAMP(3) NOT NULL,
    "endsAt" TIMESTAMP(3) NOT NULL,
    "reason" TEXT NOT NULL,
    "createdById" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "MaintenanceWindow_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "MaintenanceWindow_order_check" CHECK ("endsAt" > "startsAt")
);
CREATE INDEX "MaintenanceWindow_organizationId_customerId_endsAt_idx" ON "MaintenanceWindow"("organizationId", "customerId", "endsAt");
ALTER TABLE "MaintenanceWindow" ADD CONSTRAINT "MaintenanceWindow_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "SmtpSettings" (
    "organizationId" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "port" INTEGER NOT NULL DEFAULT 587,
    "security" TEXT NOT NULL DEFAULT 'starttls',
    "username" TEXT,
    "passwordEnc" TEXT,
    "fromAddress" TEXT NOT NULL,
    "fromName" TEXT NOT NULL DEFAULT 'Tandem',
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "SmtpSettings_pkey" PRIMARY KEY ("organizationId"),
    CONSTRAINT "SmtpSettings_security_check" CHECK ("security" IN ('none', 'starttls', 'tls'))
);
ALTER TABLE "SmtpSettings" ADD CONSTRAINT "SmtpSettings_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Row-level security. Customer users see their own customer's events, alerts, deliveries,
-- approvals and windows; channels and the mail server are the organization's alone.
ALTER TABLE "ApprovalVote" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "ApprovalVote"
  USING ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()))
  WITH CHECK ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()));
ALTER TABLE "ApprovalLink" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "ApprovalLink"
  USING ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()))
  WITH CHECK ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()));
ALTER TABLE "MaintenanceWindow" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "MaintenanceWindow"
  USING ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()))
  WITH CHECK ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()));
ALTER TABLE "OutboxEvent" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "OutboxEvent"
  USING ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()))
  WITH CHECK ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()));
ALTER TABLE "Alert" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "Alert"
  USING ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()))
  WITH CHECK ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()));
ALTER TABLE "SmtpSettings" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "SmtpSettings"
  USING ("organizationId" = app_org_id() AND app_customer_id() IS NULL)
  WITH CHECK ("organizationId" = app_org_id() AND app_customer_id() IS NULL);
DROP POLICY tenant_isolation ON "AlertDelivery";
CREATE POLICY tenant_isolation ON "AlertDelivery"
  USING ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()))
  WITH CHECK ("organizationId" = app_org_id() AND (app_customer_id() IS NULL OR "customerId" = app_customer_id()));

-- Commits wake the alert dispatcher at once (a NOTIFY is delivered only when its transaction
-- commits, so a rolled-back event wakes nobody); the dispatcher also polls as a fallback.
CREATE FUNCTION notify_alerts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('tandem_alerts', TG_TABLE_NAME);
  RETURN NULL;
END $$;
CREATE TRIGGER "OutboxEvent_notify" AFTER INSERT ON "OutboxEvent" FOR EACH STATEMENT EXECUTE FUNCTION notify_alerts();
CREATE TRIGGER "AlertDelivery_notify" AFTER INSERT OR UPDATE OF "status", "nextAttemptAt" ON "AlertDelivery" FOR EACH STATEMENT EXECUTE FUNCTION notify_alerts();

-- The dispatcher's cross-tenant readers (SECURITY DEFINER, like pairs_under_watch): each claims
-- rows for a while (a crashed worker's claim runs out) and skips rows another worker holds.
-- Everything written about a claimed row happens in that row's own tenant scope.
CREATE FUNCTION claim_outbox_events(lim integer, lease_seconds integer)
  RETURNS TABLE ("id" bigint, "organizationId" text, "customerId" text, "pairId" text, "type" text,
                 "severity" "Severity", "message" text, "payload" jsonb, "createdAt" timestamp(3))
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
  AS $$ UPDATE "OutboxEvent" e SET "claimedUntil" = now() + make_interval(secs => lease_seconds)
        WHERE e.id IN (SELECT o.id FROM "OutboxEvent" o
                       WHERE o."processedAt" IS NULL AND (o."claimedUntil" IS NULL OR o."claimedUntil" < now())
                       ORDER BY o.id LIMIT lim FOR UPDATE SKIP LOCKED)
        RETURNING e.id, e."organizationId", e."customerId", e."pairId", e.type, e.severity, e.message, e.payload, e."createdAt" $$;

CREATE FUNCTION claim_alert_deliveries(lim integer, lease_seconds integer)
  RETURNS TABLE ("id" text, "organizationId" text, "customerId" text, "channelId" text, "kind" "AlertChannelKind",
                 "recipient" text, "event" text, "payload" jsonb, "linkEnc" text, "attempts" integer, "createdAt" timestamp(3))
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
  AS $$ UPDATE "AlertDelivery" d SET "claimedUntil" = now() + make_interval(secs => lease_seconds), attempts = d.attempts + 1
        WHERE d.id IN (SELECT x.id FROM "AlertDelivery" x
                       WHERE x.status = 'pending' AND x."nextAttemptAt" <= now()
                         AND (x."claimedUntil" IS NULL OR x."claimedUntil" < now())
                       ORDER BY x."nextAttemptAt" LIMIT lim FOR UPDATE SKIP LOCKED)
        RETURNING d.id, d."organizationId", d."customerId", d."channelId", d.kind, d.recipient, d.event, d.payload, d."linkEnc", d.attempts, d."createdAt" $$;

-- Approvals whose escalation or deadline is due, in every tenant.
CREATE FUNCTION approvals_due(at timestamp)
  RETURNS TABLE ("approvalId" text, "organizationId" text, "customerId" text, "operationId" text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
  AS $$ SELECT a.id, a."organizationId", a."customerId", a."operationId" FROM "Approval" a
        WHERE a.decision = 'pending'
          AND (a."deadlineAt" <= at
               OR (a."escalatedAt" IS NULL AND a."createdAt" + (a."deadlineAt" - a."createdAt") / 2 <= at))
        ORDER BY a."deadlineAt" $$;

-- An approval link's tenant, found by its token's hash before any tenant is known. It tells
-- where the page is, nothing more: the page itself checks the signed-in user.
CREATE FUNCTION approval_link_lookup(token_hash text)
  RETURNS TABLE ("linkId" text, "organizationId" text, "customerId" text, "approvalId" text, "userId" text,
                 "expiresAt" timestamp(3), "usedAt" timestamp(3))
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
  AS $$ SELECT l.id, l."organizationId", l."customerId", l."approvalId", l."userId", l."expiresAt", l."usedAt"
        FROM "ApprovalLink" l WHERE l."tokenHash" = token_hash $$;
