-- Alert condition detectors: also clear a condition whose subject (an agent, pair, credential or
-- drill schedule) was deleted while it was open; nothing else would ever clear it.

CREATE OR REPLACE FUNCTION alert_condition_changes(now_at timestamp, agent_grace interval, credential_warning interval, test_grace interval)
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
    UNION ALL
    -- A subject removed while its condition was open (an agent, pair, credential or schedule
    -- deleted): nothing else would ever clear it.
    SELECT split_part(a."conditionKey", ':', 1), a."organizationId", a."customerId", split_part(a."conditionKey", ':', 2), 'clear'
    FROM "Alert" a
    WHERE a."resolvedAt" IS NULL
      AND ((a.type = 'agent.offline' AND NOT EXISTS (SELECT 1 FROM "Agent" x WHERE x.id = split_part(a."conditionKey", ':', 2)))
        OR (a.type = 'lag.high' AND NOT EXISTS (SELECT 1 FROM "ProtectionPair" x WHERE x.id = split_part(a."conditionKey", ':', 2)))
        OR (a.type = 'credential.expiring' AND NOT EXISTS (SELECT 1 FROM "Credential" x WHERE x.id = split_part(a."conditionKey", ':', 2)))
        OR (a.type = 'test.overdue' AND NOT EXISTS (SELECT 1 FROM "DrillSchedule" x WHERE x.id = split_part(a."conditionKey", ':', 2))))
  )
  SELECT w.type, w."organizationId", w."customerId", w.subject, w.state FROM wanted w
  WHERE w.state IS NOT NULL
    AND (w.state = 'open') <> alert_condition_open(w."organizationId", w.type || ':' || w.subject) $$;
