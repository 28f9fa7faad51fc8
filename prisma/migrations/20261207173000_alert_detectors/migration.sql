-- Alert condition detectors (agent offline, lag above the RPO, credential expiring, test failover
-- overdue). One cross-tenant reader returns only the conditions whose wanted state differs from
-- what alerting last heard; the worker re-checks each in its own tenant and emits the event there.

-- What alerting last heard about a condition: the newest outbox event for it not yet handled by
-- the dispatcher, else whether an Alert for it is still open (the worker's conditionIsOpen).
CREATE FUNCTION alert_condition_open(org text, condition_key text)
  RETURNS boolean
  LANGUAGE sql STABLE SET search_path = public
  AS $$ SELECT COALESCE(
          (SELECT e.payload->'condition'->>'state' = 'open' FROM "OutboxEvent" e
           WHERE e."organizationId" = org AND e."processedAt" IS NULL AND e.payload->'condition'->>'key' = condition_key
           ORDER BY e.id DESC LIMIT 1),
          EXISTS (SELECT 1 FROM "Alert" a WHERE a."organizationId" = org AND a."conditionKey" = condition_key AND a."resolvedAt" IS NULL)) $$;

-- Rows: the rule event type of the condition, its tenant, its subject and the state it should
-- move to. `now_at` is the worker's clock; the intervals are its constants.
CREATE FUNCTION alert_condition_changes(now_at timestamp, agent_grace interval, credential_warning interval, test_grace interval)
  RETURNS TABLE ("type" text, "organizationId" text, "customerId" text, "subjectId" text, "state" text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
  AS $$
  WITH wanted AS (
    -- An agent silent past the grace time is offline for alerting; online (or revoked) clears it.
    SELECT 'agent.offline' AS type, g."organizationId", g."customerId", g.id AS subject,
           CASE WHEN g.status = 'offline' AND g."revokedAt" IS NULL AND (g."lastSeenAt" IS NULL OR g."lastSeenAt" <= now_at - agent_grace) THEN 'open'
                WHEN g.status = 'online' OR g."revokedAt" IS NOT NULL OR g.status = 'revoked' THEN 'clear' END AS state
    FROM "Agent" g
    UNION ALL
    -- Lag of a replicating pair above its customer's RPO, or a protected pair silent for longer.
    SELECT 'lag.high', p."organizationId", p."customerId", p.id,
           CASE WHEN p.status IN ('mirroring', 'protected', 'failover_pending')
                     AND ((s."lagSeconds" IS NOT NULL AND s."lagSeconds" > c."rpoSeconds")
                          OR (p.status = 'protected' AND (s.at IS NULL OR s.at < now_at - make_interval(secs => c."rpoSeconds"))))
                THEN 'open' ELSE 'clear' END
    FROM "ProtectionPair" p
    JOIN "Customer" c ON c.id = p."customerId"
    LEFT JOIN LATERAL (SELECT r."lagSeconds", r.at FROM "ReplicationSample" r WHERE r."pairId" = p.id ORDER BY r.at DESC LIMIT 1) s ON true
    UNION ALL
    SELECT 'credential.expiring', k."organizationId", k."customerId", k.id,
           CASE WHEN k."expiresAt" IS NOT NULL AND k."expiresAt" <= now_at + credential_warning THEN 'open' ELSE 'clear' END
    FROM "Credential" k
    UNION ALL
    -- Overdue: due more than the grace time ago and no real test failover of its pair (or of any
    -- pair of the customer, for a customer-wide schedule) started since.
    SELECT 'test.overdue', d."organizationId", d."customerId", d.id,
           CASE WHEN d.enabled AND d."nextDueAt" < now_at - test_grace
                     AND NOT EXISTS (SELECT 1 FROM "Operation" o
                                     WHERE o."customerId" = d."customerId" AND o.kind = 'test_failover' AND NOT o."dryRun"
                                       AND (d."pairId" IS NULL OR o."pairId" = d."pairId") AND o."createdAt" >= d."nextDueAt")
                THEN 'open' ELSE 'clear' END
    FROM "DrillSchedule" d
  )
  SELECT w.type, w."organizationId", w."customerId", w.subject, w.state FROM wanted w
  WHERE w.state IS NOT NULL
    AND (w.state = 'open') <> alert_condition_open(w."organizationId", w.type || ':' || w.subject) $$;
