DROP INDEX `objects_bucket_key`;--> statement-breakpoint
ALTER TABLE `objects` ADD `version_id` text DEFAULT 'null' NOT NULL;--> statement-breakpoint
ALTER TABLE `objects` ADD `is_current` integer DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE `objects` ADD `delete_marker` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `objects` ADD `lock_mode` text;--> statement-breakpoint
ALTER TABLE `objects` ADD `lock_until` integer;--> statement-breakpoint
ALTER TABLE `objects` ADD `legal_hold` integer DEFAULT false NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `objects_current` ON `objects` (`bucket_id`,`key`) WHERE is_current = 1;--> statement-breakpoint
CREATE UNIQUE INDEX `objects_version` ON `objects` (`bucket_id`,`key`,`version_id`);--> statement-breakpoint
CREATE INDEX `objects_versions` ON `objects` (`bucket_id`,`key`,"id" desc);--> statement-breakpoint
ALTER TABLE `buckets` ADD `versioning` text;--> statement-breakpoint
ALTER TABLE `buckets` ADD `object_lock` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `buckets` ADD `lock_default_mode` text;--> statement-breakpoint
ALTER TABLE `buckets` ADD `lock_default_days` integer;--> statement-breakpoint
ALTER TABLE `buckets` ADD `lock_default_years` integer;--> statement-breakpoint
ALTER TABLE `completed_uploads` ADD `version_id` text DEFAULT 'null' NOT NULL;--> statement-breakpoint
ALTER TABLE `multipart_uploads` ADD `lock_mode` text;--> statement-breakpoint
ALTER TABLE `multipart_uploads` ADD `lock_until` integer;--> statement-breakpoint
ALTER TABLE `multipart_uploads` ADD `legal_hold` integer DEFAULT false NOT NULL;