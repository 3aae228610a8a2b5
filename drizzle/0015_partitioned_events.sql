-- Written by hand (drizzle-kit cannot partition a table): the log becomes a table
-- partitioned by range of occurred_at, so that retention drops whole partitions. Existing
-- rows are not copied: the old table is attached, as it is, as the partition of everything
-- up to its newest event, and dropped by retention once all of it has aged out.
CREATE TABLE "event_partitions" (
	"name" text PRIMARY KEY NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "events" RENAME TO "events_before_partitioning";--> statement-breakpoint
ALTER INDEX "events_owner_sequence_idx" RENAME TO "events_before_partitioning_owner_sequence_idx";--> statement-breakpoint
ALTER INDEX "events_occurred_at_idx" RENAME TO "events_before_partitioning_occurred_at_idx";--> statement-breakpoint
ALTER INDEX "events_owner_wallet_sequence_idx" RENAME TO "events_before_partitioning_owner_wallet_sequence_idx";--> statement-breakpoint
ALTER INDEX "events_owner_type_sequence_idx" RENAME TO "events_before_partitioning_owner_type_sequence_idx";--> statement-breakpoint
ALTER INDEX "events_tenant_feed_idx" RENAME TO "events_before_partitioning_tenant_feed_idx";--> statement-breakpoint
CREATE TABLE "events" (
	"event_id" uuid NOT NULL,
	"owner_id" text NOT NULL,
	"sequence" bigint NOT NULL,
	"wallet_id" uuid NOT NULL,
	"type" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"data" jsonb NOT NULL,
	"tenant_id" text DEFAULT 'default' NOT NULL,
	"tx_id" bigint DEFAULT (pg_current_xact_id()::text)::bigint NOT NULL,
	CONSTRAINT "events_event_id_occurred_at_pk" PRIMARY KEY("event_id","occurred_at")
) PARTITION BY RANGE ("occurred_at");
--> statement-breakpoint
CREATE INDEX "events_owner_sequence_idx" ON "events" USING btree ("owner_id","sequence");--> statement-breakpoint
CREATE INDEX "events_occurred_at_idx" ON "events" USING btree ("occurred_at");--> statement-breakpoint
CREATE INDEX "events_owner_wallet_sequence_idx" ON "events" USING btree ("owner_id","wallet_id","sequence");--> statement-breakpoint
CREATE INDEX "events_owner_type_sequence_idx" ON "events" USING btree ("owner_id","type","sequence");--> statement-breakpoint
CREATE INDEX "events_tenant_feed_idx" ON "events" USING btree ("tenant_id","tx_id","owner_id","sequence");--> statement-breakpoint
-- Rows outside every partition (a writer whose clock is far off) land here rather than fail.
CREATE TABLE "events_default" PARTITION OF "events" DEFAULT;--> statement-breakpoint
DO $$
DECLARE
  newest timestamptz;
BEGIN
  SELECT max("occurred_at") INTO newest FROM "events_before_partitioning";
  IF newest IS NULL THEN
    DROP TABLE "events_before_partitioning";
  ELSE
    -- Its keys become the parent's: (event_id, occurred_at), and (owner_id, sequence) not unique.
    ALTER TABLE "events_before_partitioning" DROP CONSTRAINT "events_pkey";
    EXECUTE format('ALTER TABLE "events" ATTACH PARTITION "events_before_partitioning" FOR VALUES FROM (MINVALUE) TO (%L)', newest + interval '1 millisecond');
    DROP INDEX "events_before_partitioning_owner_sequence_idx";
    INSERT INTO "event_partitions" ("name", "starts_at", "ends_at") VALUES ('events_before_partitioning', '-infinity', newest + interval '1 millisecond');
  END IF;
END $$;
