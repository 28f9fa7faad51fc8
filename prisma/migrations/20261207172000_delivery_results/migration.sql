-- The sender records a whole batch of delivery attempts in one statement, from a JSON array of
-- results (thousands of webhook deliveries a second would otherwise cost a transaction each).
-- SECURITY DEFINER like claim_alert_deliveries: the batch spans tenants. It touches only rows still held by the claim
-- that made the attempt (same attempt number, still pending and claimed), so a sender whose lease
-- ran out and whose rows were claimed again cannot overwrite the newer attempt.
CREATE FUNCTION record_alert_delivery_results(results jsonb)
  RETURNS integer
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
  AS $$ WITH done AS (
          UPDATE "AlertDelivery" d
          SET status = r.status::"DeliveryStatus",
              "nextAttemptAt" = COALESCE(r."nextAttemptAt", d."nextAttemptAt"),
              "lastStatusCode" = r."statusCode",
              "lastError" = r.error,
              log = d.log || jsonb_build_array(r.entry),
              "deliveredAt" = CASE WHEN r.status = 'delivered' THEN now() ELSE d."deliveredAt" END,
              "claimedUntil" = NULL
          FROM jsonb_to_recordset(results)
               AS r(id text, attempt integer, status text, "nextAttemptAt" timestamp(3), "statusCode" integer, error text, entry jsonb)
          WHERE d.id = r.id AND d.attempts = r.attempt AND d.status = 'pending' AND d."claimedUntil" IS NOT NULL
          RETURNING 1)
        SELECT count(*)::integer FROM done $$;
