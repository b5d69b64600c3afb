CREATE TABLE `access_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`secret` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `key_grants` (
	`access_key_id` text NOT NULL,
	`bucket` text NOT NULL,
	`permission` text NOT NULL,
	PRIMARY KEY(`access_key_id`, `bucket`),
	FOREIGN KEY (`access_key_id`) REFERENCES `access_keys`(`id`) ON UPDATE no action ON DELETE cascade
);
