CREATE TABLE "push_dead_letters" (
	"id" uuid PRIMARY KEY NOT NULL,
	"device_id" uuid NOT NULL,
	"owner_id" text NOT NULL,
	"event_id" uuid NOT NULL,
	"sequence" bigint NOT NULL,
	"attempts" integer NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "push_devices" (
	"id" uuid PRIMARY KEY NOT NULL,
	"owner_id" text NOT NULL,
	"tenant_id" text NOT NULL,
	"platform" text NOT NULL,
	"address" text NOT NULL,
	"p256dh" text,
	"auth" text,
	"types" jsonb,
	"label" text,
	"sequence" bigint NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"retry_at" timestamp with time zone,
	"last_error" text,
	"last_pushed_at" timestamp with time zone,
	"lease_holder" text,
	"lease_expires_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "push_instances" (
	"holder" text PRIMARY KEY NOT NULL,
	"seen_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "push_dead_letters" ADD CONSTRAINT "push_dead_letters_device_id_push_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."push_devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "push_dead_letters_device_idx" ON "push_dead_letters" USING btree ("device_id","created_at");--> statement-breakpoint
CREATE INDEX "push_dead_letters_created_idx" ON "push_dead_letters" USING btree ("created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "push_devices_address_idx" ON "push_devices" USING btree ("owner_id","platform","address");--> statement-breakpoint
CREATE INDEX "push_devices_holder_idx" ON "push_devices" USING btree ("lease_holder");--> statement-breakpoint
CREATE INDEX "push_devices_lease_idx" ON "push_devices" USING btree ("lease_expires_at");