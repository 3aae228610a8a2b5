ALTER TABLE "events" ADD COLUMN "tenant_id" text DEFAULT 'default' NOT NULL;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "tx_id" bigint DEFAULT (pg_current_xact_id()::text)::bigint NOT NULL;--> statement-breakpoint
CREATE INDEX "events_tenant_feed_idx" ON "events" USING btree ("tenant_id","tx_id","owner_id","sequence");