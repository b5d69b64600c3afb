CREATE TABLE `buckets` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`region` text NOT NULL,
	`public_read` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `buckets_name_unique` ON `buckets` (`name`);--> statement-breakpoint
CREATE TABLE `chunks` (
	`hash` text PRIMARY KEY NOT NULL,
	`size` integer NOT NULL,
	`crc32c` integer NOT NULL,
	`refcount` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `object_chunks` (
	`object_id` integer NOT NULL,
	`seq` integer NOT NULL,
	`offset` integer NOT NULL,
	`size` integer NOT NULL,
	`chunk_hash` text NOT NULL,
	PRIMARY KEY(`object_id`, `seq`),
	FOREIGN KEY (`object_id`) REFERENCES `objects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`chunk_hash`) REFERENCES `chunks`(`hash`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `object_chunks_offset` ON `object_chunks` (`object_id`,`offset`);--> statement-breakpoint
CREATE INDEX `object_chunks_hash` ON `object_chunks` (`chunk_hash`);--> statement-breakpoint
CREATE TABLE `objects` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`bucket_id` integer NOT NULL,
	`key` text NOT NULL,
	`size` integer NOT NULL,
	`etag` text NOT NULL,
	`content_type` text,
	`content_encoding` text,
	`content_disposition` text,
	`content_language` text,
	`cache_control` text,
	`expires` text,
	`storage_class` text DEFAULT 'STANDARD' NOT NULL,
	`user_metadata` text DEFAULT '{}' NOT NULL,
	`checksum_algorithm` text,
	`checksum_value` text,
	`checksum_type` text,
	`part_count` integer,
	`last_modified` integer NOT NULL,
	FOREIGN KEY (`bucket_id`) REFERENCES `buckets`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `objects_bucket_key` ON `objects` (`bucket_id`,`key`);--> statement-breakpoint
CREATE INDEX `objects_bucket_size` ON `objects` (`bucket_id`,`size`);--> statement-breakpoint
CREATE INDEX `objects_bucket_modified` ON `objects` (`bucket_id`,`last_modified`);