CREATE TABLE `chunk_claims` (
	`hash` text NOT NULL,
	`holder` text NOT NULL,
	`kind` text NOT NULL,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`hash`, `holder`, `kind`)
);
--> statement-breakpoint
CREATE INDEX `chunk_claims_expires` ON `chunk_claims` (`expires_at`);--> statement-breakpoint
CREATE TABLE `gateways` (
	`id` text PRIMARY KEY NOT NULL,
	`host` text NOT NULL,
	`pid` integer NOT NULL,
	`s3_url` text DEFAULT '' NOT NULL,
	`admin_url` text DEFAULT '' NOT NULL,
	`version` text DEFAULT '' NOT NULL,
	`started_at` integer NOT NULL,
	`heartbeat_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `leases` (
	`name` text PRIMARY KEY NOT NULL,
	`holder` text NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `settings` (
	`name` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`updated_at` integer NOT NULL
);
