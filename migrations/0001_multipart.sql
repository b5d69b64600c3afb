CREATE TABLE `completed_uploads` (
	`upload_id` text PRIMARY KEY NOT NULL,
	`bucket_id` integer NOT NULL,
	`key` text NOT NULL,
	`etag` text NOT NULL,
	`completed_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `multipart_uploads` (
	`id` text PRIMARY KEY NOT NULL,
	`bucket_id` integer NOT NULL,
	`key` text NOT NULL,
	`initiated` integer NOT NULL,
	`content_type` text,
	`content_encoding` text,
	`content_disposition` text,
	`content_language` text,
	`cache_control` text,
	`expires` text,
	`storage_class` text DEFAULT 'STANDARD' NOT NULL,
	`user_metadata` text DEFAULT '{}' NOT NULL,
	`checksum_algorithm` text,
	`checksum_type` text,
	FOREIGN KEY (`bucket_id`) REFERENCES `buckets`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `multipart_uploads_bucket_key` ON `multipart_uploads` (`bucket_id`,`key`,`id`);--> statement-breakpoint
CREATE INDEX `multipart_uploads_initiated` ON `multipart_uploads` (`initiated`);--> statement-breakpoint
CREATE TABLE `object_parts` (
	`object_id` integer NOT NULL,
	`part_number` integer NOT NULL,
	`offset` integer NOT NULL,
	`size` integer NOT NULL,
	`checksum_value` text,
	PRIMARY KEY(`object_id`, `part_number`),
	FOREIGN KEY (`object_id`) REFERENCES `objects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `part_chunks` (
	`upload_id` text NOT NULL,
	`part_number` integer NOT NULL,
	`seq` integer NOT NULL,
	`offset` integer NOT NULL,
	`size` integer NOT NULL,
	`chunk_hash` text NOT NULL,
	PRIMARY KEY(`upload_id`, `part_number`, `seq`),
	FOREIGN KEY (`chunk_hash`) REFERENCES `chunks`(`hash`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `upload_parts` (
	`upload_id` text NOT NULL,
	`part_number` integer NOT NULL,
	`size` integer NOT NULL,
	`etag` text NOT NULL,
	`checksum_value` text,
	`last_modified` integer NOT NULL,
	PRIMARY KEY(`upload_id`, `part_number`),
	FOREIGN KEY (`upload_id`) REFERENCES `multipart_uploads`(`id`) ON UPDATE no action ON DELETE cascade
);
