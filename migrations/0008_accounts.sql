CREATE TABLE `accounts` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`email` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `accounts_name_unique` ON `accounts` (`name`);--> statement-breakpoint
CREATE UNIQUE INDEX `accounts_email_unique` ON `accounts` (`email`);--> statement-breakpoint
ALTER TABLE `access_keys` ADD `account_id` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `buckets` ADD `owner_id` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `buckets` ADD `acl` text;--> statement-breakpoint
ALTER TABLE `buckets` ADD `ownership` text DEFAULT 'ObjectWriter' NOT NULL;--> statement-breakpoint
ALTER TABLE `buckets` ADD `policy` text;--> statement-breakpoint
ALTER TABLE `multipart_uploads` ADD `owner_id` text;--> statement-breakpoint
ALTER TABLE `multipart_uploads` ADD `acl` text;--> statement-breakpoint
ALTER TABLE `objects` ADD `owner_id` text;--> statement-breakpoint
ALTER TABLE `objects` ADD `acl` text;--> statement-breakpoint
-- The first account: the root key acts for it, and it owns every bucket and key made before accounts.
INSERT INTO `accounts` (`id`, `name`, `email`, `created_at`) VALUES (lower(hex(randomblob(32))), 'root', NULL, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));--> statement-breakpoint
UPDATE `access_keys` SET `account_id` = (SELECT `id` FROM `accounts`);--> statement-breakpoint
UPDATE `buckets` SET `owner_id` = (SELECT `id` FROM `accounts`);
