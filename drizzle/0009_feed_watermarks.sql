CREATE TABLE "feed_watermarks" (
	"tenant_id" text PRIMARY KEY NOT NULL,
	"tx_id" bigint NOT NULL
);
