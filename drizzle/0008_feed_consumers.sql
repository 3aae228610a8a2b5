CREATE TABLE "feed_consumers" (
	"tenant_id" text NOT NULL,
	"principal" text NOT NULL,
	"name" text NOT NULL,
	"tx_id" bigint NOT NULL,
	"owner_id" text NOT NULL,
	"sequence" bigint NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "feed_consumers_tenant_id_principal_name_pk" PRIMARY KEY("tenant_id","principal","name")
);
--> statement-breakpoint
CREATE INDEX "feed_consumers_updated_idx" ON "feed_consumers" USING btree ("updated_at");