CREATE TABLE "alert_rules" (
	"id" uuid PRIMARY KEY NOT NULL,
	"owner_id" text NOT NULL,
	"wallet_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"threshold" bigint NOT NULL,
	"currency" text NOT NULL,
	"time_zone" text,
	"armed" boolean DEFAULT true NOT NULL,
	"spend_day" text,
	"spent" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "fraud_flags" (
	"id" uuid PRIMARY KEY NOT NULL,
	"transaction_id" uuid NOT NULL,
	"owner_id" text NOT NULL,
	"wallet_id" uuid NOT NULL,
	"score" integer NOT NULL,
	"reason" text NOT NULL,
	"flagged_by" text NOT NULL,
	"request_hash" text NOT NULL,
	"event_id" uuid NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "notification_inboxes" (
	"owner_id" text PRIMARY KEY NOT NULL,
	"unread" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "notifications" (
	"id" uuid PRIMARY KEY NOT NULL,
	"position" bigserial NOT NULL,
	"owner_id" text NOT NULL,
	"wallet_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"title" text NOT NULL,
	"body" text NOT NULL,
	"cause_event_id" uuid NOT NULL,
	"rule_id" uuid,
	"transaction_id" uuid,
	"created_at" timestamp with time zone NOT NULL,
	"read_at" timestamp with time zone,
	CONSTRAINT "notifications_position_unique" UNIQUE("position")
);
--> statement-breakpoint
CREATE INDEX "alert_rules_wallet_idx" ON "alert_rules" USING btree ("wallet_id");--> statement-breakpoint
CREATE INDEX "alert_rules_owner_idx" ON "alert_rules" USING btree ("owner_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "fraud_flags_request_idx" ON "fraud_flags" USING btree ("transaction_id","flagged_by","request_hash");--> statement-breakpoint
CREATE INDEX "fraud_flags_created_idx" ON "fraud_flags" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "notifications_owner_position_idx" ON "notifications" USING btree ("owner_id","position");--> statement-breakpoint
CREATE INDEX "notifications_owner_unread_idx" ON "notifications" USING btree ("owner_id","position") WHERE "notifications"."read_at" is null;--> statement-breakpoint
CREATE INDEX "notifications_created_idx" ON "notifications" USING btree ("created_at");