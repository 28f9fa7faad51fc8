-- Pairs replicated by the database itself (PostgreSQL streaming) report no statistics of their
-- own: the worker asks the standby's agent every few seconds. This narrow reader (owner's
-- rights) lists those pairs in every tenant with what the question needs; writes stay scoped.
CREATE FUNCTION native_pairs_to_sample()
  RETURNS TABLE (
    "pairId" text, "organizationId" text, "customerId" text, "replicationMethod" text,
    "connectionSettings" jsonb, "targetAgentId" text, "targetAgentStatus" text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
  AS $$ SELECT p.id, p."organizationId", p."customerId", p."replicationMethod"::text,
               p."connectionSettings", ta.id, ta.status::text
        FROM "ProtectionPair" p
        LEFT JOIN "Agent" ta ON ta."serverId" = p."targetServerId"
        WHERE p."replicationMethod" = 'postgresql_streaming'
          AND p.status IN ('protected', 'failover_pending') $$;
