-- Pairs whose target serves in place of the source, in every tenant: the worker re-checks their
-- moved DNS records (and re-asserts them) periodically. Every write it then does is tenant-scoped.
CREATE FUNCTION pairs_failed_over()
  RETURNS TABLE ("pairId" text, "organizationId" text, "customerId" text, "dnsCheckedAt" timestamp)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
  AS $$ SELECT p.id, p."organizationId", p."customerId", p."dnsCheckedAt"
        FROM "ProtectionPair" p
        WHERE p.status = 'failed_over'
        ORDER BY p."dnsCheckedAt" NULLS FIRST $$;
