CREATE TABLE "consumer_cursors" (
	"owner_id" text NOT NULL,
	"consumer" text NOT NULL,
	"sequence" bigint NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "consumer_cursors_owner_id_consumer_pk" PRIMARY KEY("owner_id","consumer")
);
--> statement-breakpoint
CREATE TABLE "subscription_preferences" (
	"owner_id" text NOT NULL,
	"consumer" text NOT NULL,
	"criteria" jsonb NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "subscription_preferences_owner_id_consumer_pk" PRIMARY KEY("owner_id","consumer")
);
