-- A claim whose lease ran out belonged to a sender that stopped (killed, crashed) before it
-- recorded its attempt: the attempt was counted when claimed, so the log says what became of it
-- rather than showing one attempt fewer than the count. The message may have gone out before the
-- sender stopped; receivers drop the repeat by its webhook-id.
-- Some organizations' (tests), or every one's when orgs is NULL.
CREATE OR REPLACE FUNCTION claim_alert_deliveries_of(orgs text[], lim integer, lease_seconds integer)
  RETURNS TABLE ("id" text, "organizationId" text, "customerId" text, "channelId" text, "kind" "AlertChannelKind",
                 "recipient" text, "event" text, "payload" jsonb, "linkEnc" text, "attempts" integer, "createdAt" timestamp(3))
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
  AS $$ UPDATE "AlertDelivery" d SET "claimedUntil" = now() + make_interval(secs => lease_seconds), attempts = d.attempts + 1,
            log = CASE WHEN d."claimedUntil" IS NULL THEN d.log ELSE d.log || jsonb_build_array(jsonb_build_object(
                    'at', to_char((d."claimedUntil" - make_interval(secs => lease_seconds))::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                    'error', 'Interrupted: the sender stopped before it recorded this attempt (the message may have arrived)')) END,
            "lastError" = CASE WHEN d."claimedUntil" IS NULL THEN d."lastError"
                               ELSE 'Interrupted: the sender stopped before it recorded this attempt (the message may have arrived)' END
        WHERE d.id IN (SELECT x.id FROM "AlertDelivery" x
                       WHERE x.status = 'pending' AND x."nextAttemptAt" <= now()
                         AND (x."claimedUntil" IS NULL OR x."claimedUntil" < now())
                         AND (orgs IS NULL OR x."organizationId" = ANY(orgs))
                       ORDER BY x."nextAttemptAt" LIMIT lim FOR UPDATE SKIP LOCKED)
        RETURNING d.id, d."organizationId", d."customerId", d."channelId", d.kind, d.recipient, d.event, d.payload, d."linkEnc", d.attempts, d."createdAt" $$;

-- Every organization's (the worker): the same claim, with no organization filter.
CREATE OR REPLACE FUNCTION claim_alert_deliveries(lim integer, lease_seconds integer)
  RETURNS TABLE ("id" text, "organizationId" text, "customerId" text, "channelId" text, "kind" "AlertChannelKind",
                 "recipient" text, "event" text, "payload" jsonb, "linkEnc" text, "attempts" integer, "createdAt" timestamp(3))
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
  AS $$ SELECT * FROM claim_alert_deliveries_of(NULL, lim, lease_seconds) $$;

-- The sender hands back a claimed delivery it did not try (its turn came too late in the batch to
-- finish within the lease): status 'released' undoes the claim and its count, nothing is logged.
CREATE OR REPLACE FUNCTION record_alert_delivery_results(results jsonb)
  RETURNS integer
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
  AS $$ WITH done AS (
          UPDATE "AlertDelivery" d
          -- (NULLIF, not CASE: with the JSON a constant, the planner may fold the cast inside a CASE.)
          SET status = COALESCE(NULLIF(r.status, 'released')::"DeliveryStatus", d.status),
              attempts = CASE WHEN r.status = 'released' THEN d.attempts - 1 ELSE d.attempts END,
              "nextAttemptAt" = COALESCE(r."nextAttemptAt", d."nextAttemptAt"),
              "lastStatusCode" = CASE WHEN r.status = 'released' THEN d."lastStatusCode" ELSE r."statusCode" END,
              "lastError" = CASE WHEN r.status = 'released' THEN d."lastError" ELSE r.error END,
              log = CASE WHEN r.status = 'released' THEN d.log ELSE d.log || jsonb_build_array(r.entry) END,
              "deliveredAt" = CASE WHEN r.status = 'delivered' THEN now() ELSE d."deliveredAt" END,
              "claimedUntil" = NULL
          FROM jsonb_to_recordset(results)
               AS r(id text, attempt integer, status text, "nextAttemptAt" timestamp(3), "statusCode" integer, error text, entry jsonb)
          WHERE d.id = r.id AND d.attempts = r.attempt AND d.status = 'pending' AND d."claimedUntil" IS NOT NULL
          RETURNING 1)
        SELECT count(*)::integer FROM done $$;
