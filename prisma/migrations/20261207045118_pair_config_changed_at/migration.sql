-- When the pair's settings last changed, apart from updatedAt (which every status change moves):
-- a validation run counts only if it is newer than this. Existing pairs take their last update,
-- the closest time known.
ALTER TABLE "ProtectionPair" ADD COLUMN "configChangedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;
UPDATE "ProtectionPair" SET "configChangedAt" = "updatedAt";
