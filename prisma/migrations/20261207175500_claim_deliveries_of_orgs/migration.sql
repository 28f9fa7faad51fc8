-- claim_alert_deliveries limited to some organizations. Tests (and the worker a test starts) send
-- only their own organizations' deliveries, so test files sharing a database never send or count
-- each other's. The worker itself uses claim_alert_deliveries.
CREATE FUNCTION claim_alert_deliveries_of(orgs text[], lim integer, lease_seconds integer)
  RETURNS TABLE ("id" text, "organizationId" text, "customerId" text, "channelId" text, "kind" "AlertChannelKind",
                 "recipient" text, "event" text, "payload" jsonb, "linkEnc" text, "attempts" integer, "createdAt" timestamp(3))
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
  AS $$ UPDATE "AlertDelivery" d SET "claimedUntil" = now() + make_interval(secs => lease_seconds), attempts = d.attempts + 1
        WHERE d.id IN (SELECT x.id FROM "AlertDelivery" x
                       WHERE x.status = 'pending' AND x."nextAttemptAt" <= now()
                         AND (x."claimedUntil" IS NULL OR x."claimedUntil" < now())
                         AND x."organizationId" = ANY(orgs)
                       ORDER BY x."nextAttemptAt" LIMIT lim FOR UPDATE SKIP LOCKED)
        RETURNING d.id, d."organizationId", d."customerId", d."channelId", d.kind, d.recipient, d.event, d.payload, d."linkEnc", d.attempts, d."createdAt" $$;
