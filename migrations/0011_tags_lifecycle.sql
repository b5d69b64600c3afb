CREATE TABLE `lifecycle_runs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`started_at` integer NOT NULL,
	`finished_at` integer,
	`trigger` text NOT NULL,
	`evaluated_at` integer NOT NULL,
	`versions_expired` integer DEFAULT 0 NOT NULL,
	`markers_added` integer DEFAULT 0 NOT NULL,
	`markers_removed` integer DEFAULT 0 NOT NULL,
	`uploads_aborted` integer DEFAULT 0 NOT NULL,
	`bytes_expired` integer DEFAULT 0 NOT NULL,
	`locked_kept` integer DEFAULT 0 NOT NULL,
	`error` text
);
--> statement-breakpoint
CREATE TABLE `object_tags` (
	`object_id` integer NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`object_id`, `key`),
	FOREIGN KEY (`object_id`) REFERENCES `objects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `object_tags_key_value` ON `object_tags` (`key`,`value`,`object_id`);--> statement-breakpoint
ALTER TABLE `buckets` ADD `tags` text;--> statement-breakpoint
ALTER TABLE `buckets` ADD `lifecycle` text;--> statement-breakpoint
ALTER TABLE `multipart_uploads` ADD `tags` text;--> statement-breakpoint
ALTER TABLE `objects` ADD `tag_count` integer DEFAULT 0 NOT NULL;