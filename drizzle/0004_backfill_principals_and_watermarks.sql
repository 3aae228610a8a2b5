-- Custom migration (drizzle-kit generate --custom): data the generated ones cannot derive.
-- Consumers and preferences saved before consumers belonged to a principal were used by
-- the owner's own tokens: they become the owner's.
UPDATE "consumer_cursors" SET "principal" = 'user:' || "owner_id" WHERE "principal" = '';
--> statement-breakpoint
UPDATE "subscription_preferences" SET "principal" = 'user:' || "owner_id" WHERE "principal" = '';
--> statement-breakpoint
-- The retention watermark: older pruning went by time and could leave holes, so each
-- owner's log is trusted from the start of its last contiguous run up to its head.
UPDATE "owners" AS o SET "first_sequence" = COALESCE(
  (SELECT max(run."sequence") FROM (
     SELECT e."sequence", lag(e."sequence") OVER (ORDER BY e."sequence") AS previous
     FROM "events" e WHERE e."owner_id" = o."owner_id"
   ) run WHERE run.previous IS NULL OR run.previous <> run."sequence" - 1),
  o."last_sequence" + 1);
