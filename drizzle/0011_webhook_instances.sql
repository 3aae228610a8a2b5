CREATE TABLE "webhook_instances" (
	"holder" text PRIMARY KEY NOT NULL,
	"seen_at" timestamp with time zone NOT NULL
);
