ALTER TABLE "consumer_cursors" ADD COLUMN "principal" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "owners" ADD COLUMN "first_sequence" bigint DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "subscription_preferences" ADD COLUMN "principal" text DEFAULT '' NOT NULL;--> statement-breakpoint
CREATE INDEX "consumer_cursors_updated_idx" ON "consumer_cursors" USING btree ("updated_at");--> statement-breakpoint
CREATE INDEX "events_owner_wallet_sequence_idx" ON "events" USING btree ("owner_id","wallet_id","sequence");--> statement-breakpoint
CREATE INDEX "events_owner_type_sequence_idx" ON "events" USING btree ("owner_id","type","sequence");--> statement-breakpoint
CREATE INDEX "idempotency_keys_created_idx" ON "idempotency_keys" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "revoked_subjects_before_idx" ON "revoked_subjects" USING btree ("revoked_before");--> statement-breakpoint
CREATE INDEX "subscription_preferences_updated_idx" ON "subscription_preferences" USING btree ("updated_at");