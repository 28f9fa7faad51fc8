-- AlterTable
ALTER TABLE "ReplicationSample" ADD COLUMN     "resolutionSeconds" INTEGER NOT NULL DEFAULT 0;

-- Keeps the samples table small, for every tenant at once (the worker's sweep): raw samples older
-- than `raw_keep` become one row per pair and minute (worst lag, mean throughput, the minute's
-- last progress figures); everything older than `keep` goes.
CREATE FUNCTION rollup_replication_samples(raw_keep interval, keep interval)
  RETURNS integer
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public
  AS $$
DECLARE
  cutoff timestamp := (now() AT TIME ZONE 'UTC') - raw_keep;
  rolled integer;
BEGIN
  WITH old AS (
    DELETE FROM "ReplicationSample"
    WHERE "resolutionSeconds" = 0 AND at < cutoff
    RETURNING *
  ), grouped AS (
    SELECT "organizationId", "customerId", "pairId", date_trunc('minute', at) AS minute,
           max("lagSeconds") AS lag, avg("throughputBps") AS throughput,
           (array_agg("mirrorBytesLeft" ORDER BY at DESC))[1] AS mirror_bytes,
           (array_agg("mirrorFilesLeft" ORDER BY at DESC))[1] AS mirror_files,
           (array_agg("queueBytes" ORDER BY at DESC))[1] AS queue_bytes
    FROM old GROUP BY 1, 2, 3, 4
  ), inserted AS (
    INSERT INTO "ReplicationSample" ("organizationId", "customerId", "pairId", at, "lagSeconds", "throughputBps",
                                     "mirrorBytesLeft", "mirrorFilesLeft", "queueBytes", "resolutionSeconds")
    SELECT "organizationId", "customerId", "pairId", minute, lag, throughput, mirror_bytes, mirror_files, queue_bytes, 60
    FROM grouped
    RETURNING 1
  )
  SELECT count(*) INTO rolled FROM inserted;
  DELETE FROM "ReplicationSample" WHERE at < (now() AT TIME ZONE 'UTC') - keep;
  RETURN rolled;
END $$;
