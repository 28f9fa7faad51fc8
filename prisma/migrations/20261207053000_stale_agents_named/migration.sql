-- The worker's sweep of silent agents (a gateway that died cannot mark its agents offline) now
-- says which agents it marked, so it can announce each one to live pages (server and dashboard).
DROP FUNCTION mark_stale_agents_offline(interval);

CREATE FUNCTION mark_stale_agents_offline(silent_for interval)
  RETURNS TABLE ("organizationId" text, "customerId" text, "serverId" text)
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
  AS $$ UPDATE "Agent" SET status = 'offline', "updatedAt" = now()
        WHERE status = 'online' AND ("lastSeenAt" IS NULL OR "lastSeenAt" < now() - silent_for)
        RETURNING "organizationId", "customerId", "serverId" $$;
