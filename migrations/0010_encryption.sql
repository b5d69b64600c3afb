ALTER TABLE `buckets` ADD `default_encryption` text;--> statement-breakpoint
ALTER TABLE `multipart_uploads` ADD `encryption` text;--> statement-breakpoint
ALTER TABLE `multipart_uploads` ADD `sse_customer_key_md5` text;--> statement-breakpoint
ALTER TABLE `objects` ADD `encryption` text;--> statement-breakpoint
ALTER TABLE `objects` ADD `sse_customer_key_md5` text;