-- claim_outbox_events limited to some organizations, for tests (and the worker a test starts):
-- test files share one database, so a dispatcher that claimed everyone's events and put back the
-- others' would wait behind every other file's unprocessed events. The worker itself uses
-- claim_outbox_events.
CREATE FUNCTION claim_outbox_events_of(orgs text[], lim integer, lease_seconds integer)
  RETURNS TABLE ("id" bigint, "organizationId" text, "customerId" text, "pairId" text, "type" text,
                 "severity" "Severity", "message" text, "payload" jsonb, "createdAt" timestamp(3))
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
  AS $$ UPDATE "OutboxEvent" e SET "claimedUntil" = now() + make_interval(secs => lease_seconds)
        WHERE e.id IN (SELECT o.id FROM "OutboxEvent" o
                       WHERE o."processedAt" IS NULL AND (o."claimedUntil" IS NULL OR o."claimedUntil" < now())
                         AND o."organizationId" = ANY(orgs)
                       ORDER BY o.id LIMIT lim FOR UPDATE SKIP LOCKED)
        RETURNING e.id, e."organizationId", e."customerId", e."pairId", e.type, e.severity, e.message, e.payload, e."createdAt" $$;
