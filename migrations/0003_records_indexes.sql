CREATE INDEX `objects_key` ON `objects` (`key`);--> statement-breakpoint
CREATE INDEX `objects_size` ON `objects` (`size`);--> statement-breakpoint
CREATE INDEX `objects_modified` ON `objects` (`last_modified`);--> statement-breakpoint
CREATE INDEX `objects_content_type` ON `objects` (`content_type`);--> statement-breakpoint
CREATE INDEX `objects_etag` ON `objects` (`etag`);--> statement-breakpoint
CREATE INDEX `part_chunks_hash` ON `part_chunks` (`chunk_hash`);