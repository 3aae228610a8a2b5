ALTER TABLE "consumer_cursors" DROP CONSTRAINT "consumer_cursors_owner_id_consumer_pk";--> statement-breakpoint
ALTER TABLE "subscription_preferences" DROP CONSTRAINT "subscription_preferences_owner_id_consumer_pk";--> statement-breakpoint
ALTER TABLE "consumer_cursors" ADD CONSTRAINT "consumer_cursors_owner_id_principal_consumer_pk" PRIMARY KEY("owner_id","principal","consumer");--> statement-breakpoint
ALTER TABLE "subscription_preferences" ADD CONSTRAINT "subscription_preferences_owner_id_principal_consumer_pk" PRIMARY KEY("owner_id","principal","consumer");